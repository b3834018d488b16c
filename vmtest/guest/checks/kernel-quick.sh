# Sourced by run.sh (phase 2): wg-quick up/down on the kernel module.
. /opt/vmtest/checks/quick-lib.sh

side_checks() { # CASE DIR NSA NSB (ours, after up)
	local case=$1 d=$2 a=$3 b=$4 n="quick/kernel/$1"
	local v
	for v in A-up B-up; do
		expect_rc "$n: $v status" "$d/$v"
		kernel_trace < "$QREF/$case/$v.stderr" > "$d/$v.want"
		expect "$n: $v trace" "$d/$v.err" "$d/$v.want"
	done
	if grep -q ' wireguard ' "$d/A-link.txt" && ! grep -q '^\[!\]' "$d/A-up.err" && [ ! -e /run/wireguard/wg0.sock ]; then
		qpass "$n: a kernel device, no fallback"
	else
		qfail "$n: a kernel device, no fallback" "$(cat "$d/A-link.txt" "$d/run-wireguard.txt")"
	fi
	case $case in
	p2p)
		if ping_ok "$b" 10.0.0.1; then qpass "$n: ping through the tunnel"; else qfail "$n: ping through the tunnel" "no reply from 10.0.0.1"; fi
		;;
	fulltunnel-nft)
		local ip
		for ip in 10.0.0.1 fd00::1; do
			if ping_ok "$a" $ip; then qpass "$n: ping $ip through the full tunnel"; else qfail "$n: ping $ip through the full tunnel" "no reply"; fi
		done
		local rg
		rg=$(ip -n "$a" route get 198.51.100.7 2>&1)
		case $rg in
		*"dev wg0 table 51820"*) qpass "$n: other destinations go through the tunnel" ;;
		*) qfail "$n: other destinations go through the tunnel" "$rg" ;;
		esac
		rg=$(ip -n "$a" route get 198.51.100.7 mark 0xca6c 2>&1)
		case $rg in
		*"dev eth0"*) qpass "$n: the tunnel's own packets (fwmark) go around it" ;;
		*) qfail "$n: the tunnel's own packets (fwmark) go around it" "$rg" ;;
		esac
		;;
	esac
}

scenario kernel p2p
scenario kernel fulltunnel-nft
# The down traces are checked after the run (side() does down after
# side_checks).
for c in p2p fulltunnel-nft; do
	d=/tmp/quick-kernel-$c/ours
	[ -f $d/A-down.rc ] || continue
	is_stub $d/A-down.err $d/B-down.err && continue # reported by scenario
	for v in A-down B-down; do
		expect_rc "quick/kernel/$c: $v status" "$d/$v"
		kernel_trace < "$QREF/$c/$v.stderr" > "$d/$v.want"
		# We set src_valid_mark back when our up set it (a documented
		# difference): one more line at the end of down.
		if [ "$v" = A-down ] && grep -q 'src_valid_mark=1' "$QREF/$c/A-up.stderr"; then
			echo '[#] sysctl -q net.ipv4.conf.all.src_valid_mark=0' >> "$d/$v.want"
		fi
		expect "quick/kernel/$c: $v trace" "$d/$v.err" "$d/$v.want"
	done
done
