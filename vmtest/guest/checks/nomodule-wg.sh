# Sourced by run.sh (phase 1): wg without the module, ours against the
# reference's.
for args in "show nosuch" "showconf nosuch" "set nosuch listen-port 1" "show" "show interfaces"; do
	ip netns exec cliwg0 true 2>/dev/null || { ip netns add cliwg0; ip -n cliwg0 link set lo up; }
	ip netns exec cliwg0 env -i PATH=$PATH_STD WG_COLOR_MODE=never "$OURS_WG" $args > /tmp/nm.o.out 2> /tmp/nm.o.err
	orc=$?
	ip netns exec cliwg0 env -i PATH=$PATH_STD WG_COLOR_MODE=never "$REF_WG" $args > /tmp/nm.r.out 2> /tmp/nm.r.err
	rrc=$?
	name="cli/nomodule/wg $args"
	if is_stub /tmp/nm.o.err; then
		stubbed "$name"
	elif cmp -s /tmp/nm.o.out /tmp/nm.r.out && cmp -s /tmp/nm.o.err /tmp/nm.r.err && [ $orc = $rrc ]; then
		pass "$name"
	else
		fail "$name" "ours: $orc $(cat /tmp/nm.o.out /tmp/nm.o.err); reference: $rrc $(cat /tmp/nm.r.out /tmp/nm.r.err)"
	fi
done
ns_del cliwg0
