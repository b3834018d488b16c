# Sourced by run.sh (phase 2): 20000 peers on the kernel module: wg
# setconf, show dump (ours against the reference's) and syncconf to a file
# that drops, adds and changes peers (10 % each); wg-quick up and down of
# 20000 peers (30000 routes). The wg commands are timed against the
# reference's (lib.sh's timed); the reference's wg-quick up of 20000 peers
# is not run (its 30000 `ip` processes take hours under TCG): kernel-many.sh
# times both at 300 peers. The helpers are kernel-many.sh's.
MANY_HELPERS_ONLY=1 . /opt/vmtest/checks/kernel-many.sh

# 20000 peers through wg: setconf, dump against the reference's reading,
# syncconf to a file that drops, adds and changes peers.
echo "vmtest: many/20000 wg at $(uptime_s)s"
n="wg/many/20000 peers"
ip netns add mw && ip -n mw link set lo up && ip -n mw link add wg0 type wireguard
timed "$n: wg setconf (ours)" run_in mw "$MW/w-set" "$OURS_WG" setconf wg0 "$MF/w20000.conf"
rc_ok "$n: setconf" "$MW/w-set"
check_state "$n: setconf: the peers and allowed IPs are the file's" mw "$MF/w20000.conf" device
timed "$n: wg show dump (ours)" run_in mw "$MW/w-dump-ours" "$OURS_WG" show wg0 dump
timed "$n: wg show dump (ref)" run_in mw "$MW/w-dump-ref" "$REF_WG" show wg0 dump
if [ "$(wc -l < "$MW/w-dump-ref.out")" -eq 20001 ]; then
	expect "$n: show dump is the reference's" "$MW/w-dump-ours.out" "$MW/w-dump-ref.out"
else
	fail "$n: show dump is the reference's" "the reference's dump has $(wc -l < "$MW/w-dump-ref.out") lines: $(head -c 300 "$MW/w-dump-ref.err")"
fi
timed "$n: wg syncconf (ours)" run_in mw "$MW/w-sync" "$OURS_WG" syncconf wg0 "$MF/w20000-changed.conf"
rc_ok "$n: syncconf" "$MW/w-sync"
check_state "$n: syncconf: the peers and allowed IPs are the new file's" mw "$MF/w20000-changed.conf" device
run_in mw "$MW/w-dump-ours" "$OURS_WG" show wg0 dump
run_in mw "$MW/w-dump-ref" "$REF_WG" show wg0 dump
expect "$n: show dump after syncconf is the reference's" "$MW/w-dump-ours.out" "$MW/w-dump-ref.out"
# The reference's setconf and syncconf of the same files, timed, on a
# device of its own (mr), and its dump read by both.
if ip netns add mr && ip -n mr link set lo up && ip -n mr link add wg0 type wireguard; then
	timed "$n: wg setconf (ref)" run_in mr "$MW/r-set" "$REF_WG" setconf wg0 "$MF/w20000.conf"
	rc_ok "$n: the reference's setconf" "$MW/r-set"
	timed "$n: wg syncconf (ref)" run_in mr "$MW/r-sync" "$REF_WG" syncconf wg0 "$MF/w20000-changed.conf"
	rc_ok "$n: the reference's syncconf" "$MW/r-sync"
	timed "$n: wg show dump after syncconf (ours)" run_in mr "$MW/r-dump-ours" "$OURS_WG" show wg0 dump
	timed "$n: wg show dump after syncconf (ref)" run_in mr "$MW/r-dump-ref" "$REF_WG" show wg0 dump
	expect "$n: show dump of the reference's device is the reference's" "$MW/r-dump-ours.out" "$MW/r-dump-ref.out"
else
	fail "$n: the reference's device" "could not make it"
fi
# The namespaces stay until the VM powers off: deleting a device of 20000
# peers costs the kernel minutes under TCG (its teardown of each peer), and
# the down below does that once already.

# 20000 peers (30000 routes) through wg-quick.
echo "vmtest: many/20000 quick at $(uptime_s)s"
many_quick "quick/many/20000 peers" "$MF/q20000.conf"
echo "vmtest: many done at $(uptime_s)s"
