# Sourced inside the namespace made by kernel-wg.sh ($NS, files in $WD).

# run_wg WHO OUTPREFIX [VAR=VALUE...] -- ARGS...: our wg or the reference's,
# as "wg" (usage lines print argv[0]), in $NS.
run_wg() {
	local who=$1 out=$2
	shift 2
	local envs=() path=$PATH_STD
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	[ "$who" = ours ] && path=/opt/vmtest/ours-bin:$PATH_STD
	env -i PATH="$path" HOME=/root WG_COLOR_MODE=never "${envs[@]}" wg "$@" > "$out.out" 2> "$out.err"
	echo $? > "$out.rc"
}
mkdir -p /opt/vmtest/ours-bin && ln -sf "$OURS_WG" /opt/vmtest/ours-bin/wg

# compare NAME [VAR=VALUE...] -- ARGS...: same stdout, stderr and status.
compare() {
	local name=$1
	shift
	run_wg ours $WD/o "$@"
	if is_stub $WD/o.err; then
		stubbed "$name"
		return 2
	fi
	run_wg ref $WD/r "$@"
	local what=""
	cmp -s $WD/o.out $WD/r.out || what="stdout differs: $(difference $WD/r.out $WD/o.out)"
	cmp -s $WD/o.err $WD/r.err || what="$what stderr differs: $(difference $WD/r.err $WD/o.err)"
	cmp -s $WD/o.rc $WD/r.rc || what="$what status $(cat $WD/o.rc), reference $(cat $WD/r.rc)"
	if [ -n "$what" ]; then
		fail "$name" "$what"
		return 1
	fi
	pass "$name"
}

# Reading: every show form, on devices the reference configured.
compare "cli/wg (no arguments)" --
compare "cli/wg show" -- show
compare "cli/wg show all" -- show all
compare "cli/wg show all (keys shown)" WG_HIDE_KEYS=never -- show all
compare "cli/wg show interfaces" -- show interfaces
compare "cli/wg show wg0" -- show wg0
compare "cli/wg show wg0 (keys shown)" WG_HIDE_KEYS=never -- show wg0
compare "cli/wg show wg1 (no key, no peers)" -- show wg1
for f in public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips latest-handshakes transfer persistent-keepalive dump; do
	compare "cli/wg show wg0 $f" -- show wg0 $f
	compare "cli/wg show wg1 $f" -- show wg1 $f
	# The reference here (1.0.20210914) prints the interface name once
	# for all endpoints (fixed upstream since, and by us); not compared.
	[ $f = endpoints ] || compare "cli/wg show all $f" -- show all $f
done
compare "cli/wg showconf wg0" -- showconf wg0
compare "cli/wg showconf wg1" -- showconf wg1
compare "cli/wg show of a missing interface" -- show nosuch
compare "cli/wg show of a link that is not WireGuard" -- show dum0
compare "cli/wg showconf of a missing interface" -- showconf nosuch
compare "cli/wg show wg0 with a bad field" -- show wg0 bogus
compare "cli/wg show with too many arguments" -- show a b c

# Changing: the same command through ours on wg2 and through the
# reference on wg3; the outputs and the devices' states must match.
ip link add wg2 type wireguard
ip link add wg3 type wireguard
state() { # IF OUT: the device as the reference reads it, named IF
	{ "$REF_WG" showconf "$1"; "$REF_WG" show "$1" dump; } 2>&1 | sed "s/\b$1\b/IF/g" > "$2"
}
twin_stubbed=""
twin() { # NAME ARGS... (IF in ARGS is the interface)
	local name=$1
	shift
	if [ -n "$twin_stubbed" ]; then
		stubbed "$name" "follows a stubbed step ($twin_stubbed)"
		return
	fi
	local a o=() r=()
	for a in "$@"; do o+=("${a//IF/wg2}"); r+=("${a//IF/wg3}"); done
	run_wg ours $WD/o -- "${o[@]}"
	if is_stub $WD/o.err; then
		twin_stubbed=$name
		stubbed "$name"
		return
	fi
	run_wg ref $WD/r -- "${r[@]}"
	sed -i 's/\bwg2\b/IF/g' $WD/o.out $WD/o.err
	sed -i 's/\bwg3\b/IF/g' $WD/r.out $WD/r.err
	state wg2 $WD/o.state
	state wg3 $WD/r.state
	local what=""
	cmp -s $WD/o.out $WD/r.out || what="stdout differs: $(difference $WD/r.out $WD/o.out)"
	cmp -s $WD/o.err $WD/r.err || what="$what stderr differs: $(difference $WD/r.err $WD/o.err)"
	cmp -s $WD/o.rc $WD/r.rc || what="$what status $(cat $WD/o.rc), reference $(cat $WD/r.rc)"
	cmp -s $WD/o.state $WD/r.state || what="$what device state differs: $(difference $WD/r.state $WD/o.state)"
	if [ -n "$what" ]; then fail "$name" "$what"; else pass "$name"; fi
}
twin "cli/wg set: every field" set IF listen-port 51830 fwmark 0x20 private-key $WD/k/a.key \
	peer "$KB_PUB" preshared-key $WD/k/psk endpoint 192.0.2.2:51820 persistent-keepalive 25 allowed-ips 10.0.0.2/32,fd00::2/128 \
	peer "$KC_PUB" endpoint '[fe80::1%dum0]:51821' allowed-ips 10.0.0.3/32 \
	peer "$KA_PUB" endpoint '[::ffff:198.51.100.9]:1' allowed-ips ::/0 # the device's own key: ignored
twin "cli/wg set: allowed IPs with host bits" set IF peer "$KB_PUB" allowed-ips '10.0.0.2/32, 10.0.0.1/8'
twin "cli/wg set: preshared key from /dev/null, keepalive off" set IF peer "$KB_PUB" preshared-key /dev/null persistent-keepalive off
twin "cli/wg set: fwmark off, port 0" set IF fwmark off listen-port 0
twin "cli/wg set: remove a peer" set IF peer "$KC_PUB" remove
twin "cli/wg set: remove an unknown peer" set IF peer "$KB_PRIV" remove
twin "cli/wg set: private key from /dev/null" set IF private-key /dev/null
twin "cli/wg set: clear allowed IPs" set IF peer "$KB_PUB" allowed-ips ''
twin "cli/wg setconf: 2000 peers, 20000 allowed IPs on one" setconf IF $WD/big.conf
twin "cli/wg addconf" addconf IF $WD/add.conf
twin "cli/wg syncconf: keep 10 peers, add one" syncconf IF $WD/sync.conf
twin "cli/wg setconf: the configuration of wg0" setconf IF $WD/wg0.conf
twin "cli/wg setconf /dev/null: everything reset" setconf IF /dev/null
twin "cli/wg set: a missing interface" set nosuch listen-port 1
twin "cli/wg set: a link that is not WireGuard" set dum0 listen-port 1
twin "cli/wg set: a bad fwmark" set IF fwmark 0X10
twin "cli/wg setconf: a missing file" setconf IF $WD/nonexistent.conf

# Ours only: the '-' allowed IP (upstream's incremental form; the
# reference here predates it) on a kernel device.
ip link add wg4 type wireguard
run_wg ours $WD/o -- set wg4 peer "$KB_PUB" allowed-ips 10.1.0.0/16,10.2.0.0/16,10.3.0.0/16
run_wg ours $WD/o2 -- set wg4 peer "$KB_PUB" allowed-ips -10.2.0.0/16,+10.4.0.0/16
if is_stub $WD/o.err $WD/o2.err; then
	stubbed "cli/wg set: incremental allowed IPs (-/+)"
elif [ "$("$REF_WG" show wg4 allowed-ips | cut -f2)" = "10.1.0.0/16 10.3.0.0/16 10.4.0.0/16" ]; then
	pass "cli/wg set: incremental allowed IPs (-/+)"
else
	fail "cli/wg set: incremental allowed IPs (-/+)" "$(cat $WD/o2.err) allowed ips: $("$REF_WG" show wg4 allowed-ips)"
fi
