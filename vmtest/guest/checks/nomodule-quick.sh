# Sourced by run.sh (phase 1): without the module, wg-quick falls back to
# a userspace device (ours: the embedded one; the reference: wireguard-go).
. /opt/vmtest/checks/quick-lib.sh

NORMALISE_TUN=1
side_checks() { # CASE DIR NSA NSB (ours, after up)
	local case=$1 d=$2 a=$3 b=$4 n="quick/fallback/$1"
	local v
	for v in A-up B-up; do
		expect_rc "$n: $v status" "$d/$v"
		if grep -qx '\[!\] Missing WireGuard kernel module. Falling back to slow userspace implementation.' "$d/$v.err"; then
			qpass "$n: $v says it falls back"
		else
			qfail "$n: $v says it falls back" "$(head -5 "$d/$v.err")"
		fi
		after_device < "$d/$v.err" > "$d/$v.got"
		after_device < "$QREF/$case/$v.stderr" > "$d/$v.want"
		expect "$n: $v trace after the device exists" "$d/$v.got" "$d/$v.want"
	done
	if grep -q ' tun ' "$d/A-link.txt" && grep -qx wg0.sock "$d/run-wireguard.txt"; then
		qpass "$n: a userspace device (TUN, UAPI socket)"
	else
		qfail "$n: a userspace device (TUN, UAPI socket)" "$(cat "$d/A-link.txt" "$d/run-wireguard.txt")"
	fi
	if ping_ok "$b" 10.0.0.1; then qpass "$n: ping through the tunnel"; else qfail "$n: ping through the tunnel" "no reply from 10.0.0.1"; fi
}

scenario fallback p2p
d=/tmp/quick-fallback-p2p/ours
if [ -f $d/A-down.rc ] && ! is_stub $d/A-down.err $d/B-down.err; then
	for v in A-down B-down; do
		expect_rc "quick/fallback/p2p: $v status" "$d/$v"
		expect "quick/fallback/p2p: $v trace" "$d/$v.err" "$QREF/p2p/$v.stderr"
	done
	if [ -z "$(ls /run/wireguard)" ]; then pass "quick/fallback/p2p: no socket left"; else fail "quick/fallback/p2p: no socket left" "$(ls /run/wireguard)"; fi
fi
unset NORMALISE_TUN
