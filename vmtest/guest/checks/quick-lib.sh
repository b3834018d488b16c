# wg-quick scenarios (sourced by the kernel-quick and nomodule-quick
# checks). A scenario runs a case of testdata/reference/wg-quick twice, in
# fresh namespace pairs: with our wg-quick, then with the reference's; it
# checks our status codes and [#] traces against the upstream capture,
# that the tunnel carries pings, that `down` leaves the host as `up` found
# it, and that our host state matches the reference's at each stage.

QREF=/opt/vmtest/reference/wg-quick

# The capture was made without the module: on the kernel path the lines of
# the fallback (ip's error, the [!] notice, wireguard-go and its banner)
# are not printed.
kernel_trace() {
	grep -v -e '^Error: Unknown device type\.$' -e '^\[!\] Missing WireGuard kernel module' \
		-e '^\[#\] wireguard-go ' -e $'^\xe2\x94[\x82\x8c\x94]'
}

# The userspace fallback's trace from the first command after the device
# exists ("[#] wg ...") on: what does not depend on how the device is made.
after_device() { sed -n '/^\[#\] wg /,$p'; }

# wgq WHO NS CONF VERB OUTPREFIX
wgq() {
	local who=$1 ns=$2 conf=$3 verb=$4 out=$5 prog=$OURS_WGQ
	[ "$who" = ref ] && prog=$REF_WGQ
	ip netns exec "$ns" env -i PATH="$PATH_STD" HOME=/root WG_COLOR_MODE=never \
		WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 "$prog" "$verb" "$conf" > "$out.out" 2> "$out.err"
	echo $? > "$out.rc"
}

# ping_ok NS ADDR: at least one reply within 15 seconds (the first packet
# waits for a handshake, and TCG is slow).
ping_ok() { ip netns exec "$1" ping -c 3 -w 15 "$2" > /dev/null 2>&1; }

# side WHO CASE DIR NSA NSB: up A, up B, snapshots, down A and B, as WHO.
# Leaves DIR/{pre,up,post}-{a,b}/state.txt and DIR/{A,B}-{up,down}.*;
# returns 2 when our command is not there yet.
side() {
	local who=$1 case=$2 d=$3 a=$4 b=$5
	mkdir -p "$d"
	cp "$QREF/$case/input-A-wg0.conf" "$d/wg0.conf"
	cp "$QREF/$case/input-B-wg1.conf" "$d/wg1.conf"
	chmod 600 "$d/wg0.conf" "$d/wg1.conf"
	ns_pair "$a" "$b" || { fail "quick/$case/setup" "could not make the namespaces"; return 1; }
	snap "$a" "$d/pre-a"
	snap "$b" "$d/pre-b"
	wgq "$who" "$a" "$d/wg0.conf" up "$d/A-up"
	if is_stub "$d/A-up.err"; then
		ns_del "$a" "$b"
		return 2
	fi
	wgq "$who" "$b" "$d/wg1.conf" up "$d/B-up"
	ip -n "$a" -d link show wg0 > "$d/A-link.txt" 2>&1
	ls /run/wireguard > "$d/run-wireguard.txt"
	# Both sides send the same traffic before their snapshot: a handshake
	# changes what the devices show (learned endpoints).
	SIDE=$who side_checks "$case" "$d" "$a" "$b"
	snap "$a" "$d/up-a"
	snap "$b" "$d/up-b"
	wgq "$who" "$a" "$d/wg0.conf" down "$d/A-down"
	wgq "$who" "$b" "$d/wg1.conf" down "$d/B-down"
	snap "$a" "$d/post-a"
	snap "$b" "$d/post-b"
	ns_del "$a" "$b"
}

# qpass, qfail: results of our side; the reference's side (SIDE=ref)
# only sends the same traffic and records nothing.
qpass() { [ "${SIDE:-ours}" = ref ] || pass "$@"; }
qfail() { [ "${SIDE:-ours}" = ref ] || fail "$@"; }

# expect NAME FILE-GOT FILE-WANT: equal files.
expect() {
	if cmp -s "$2" "$3"; then qpass "$1"; else qfail "$1" "$(difference "$3" "$2")"; fi
}

# expect_rc NAME PREFIX: status 0.
expect_rc() {
	if [ "$(cat "$2.rc")" = 0 ]; then qpass "$1"; else qfail "$1" "status $(cat "$2.rc"): $(tail -5 "$2.err")"; fi
}

# scenario MODE CASE: MODE is kernel or fallback.
scenario() {
	local mode=$1 case=$2
	local d=/tmp/quick-$mode-$case n="quick/$mode/$case"
	side ours "$case" "$d/ours" qa qb
	case $? in
	2)
		stubbed "$n" "our wg-quick up is not implemented yet"
		return
		;;
	1) return ;;
	esac
	side ref "$case" "$d/ref" ra rb
	mkdir -p "$OUT/quick" && cp -r "$d" "$OUT/quick/"
	# Two documented differences in the state: the record of the
	# src_valid_mark value we found (/run/wireguard/src_valid_mark.INODE,
	# so that a later down can set it back), and down setting it back (the
	# reference leaves it at 1).
	local s
	for s in up-a up-b post-a post-b; do
		grep -v '^src_valid_mark\.[0-9]*$' "$d/ours/$s/state.txt" > "$d/ours/$s.cmp"
	done
	for s in up-a up-b; do
		expect "$n: host state ($s) as the reference's" "$d/ours/$s.cmp" "$d/ref/$s/state.txt"
	done
	if is_stub "$d/ours/A-down.err" "$d/ours/B-down.err"; then
		stubbed "$n: down" "our wg-quick down is not implemented yet"
		return
	fi
	for s in a b; do
		# what the reference leaves, but src_valid_mark as up found it
		awk -v pre="$(grep -x '[01]' "$d/ours/pre-$s/state.txt")" '/^[01]$/ { print pre; next } { print }' \
			"$d/ref/post-$s/state.txt" > "$d/ref/post-$s.want"
		expect "$n: host state (post-$s) as the reference's" "$d/ours/post-$s.cmp" "$d/ref/post-$s.want"
	done
	# down restores exactly what up found, src_valid_mark included.
	for s in a b; do
		expect "$n: down ($s) leaves the host as up found it" "$d/ours/post-$s/state.txt" "$d/ours/pre-$s/state.txt"
	done
}
