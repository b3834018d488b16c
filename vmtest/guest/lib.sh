# Helpers for the guest checks (sourced by run.sh and the checks/*.sh).
#
# Every check ends in one result line, in $OUT/results.txt and on the
# console: PASS, FAIL or SKIP, the check's name, why (tab-separated in the
# file; "STATUS name: why" on the console). A check whose command of ours
# says it is "not implemented yet" (a stub, as while the project was being
# built) is a FAIL: every command the checks use is implemented.

RESULTS=$OUT/results.txt
: >> "$RESULTS"

# Our binaries and the reference's. VMTEST_OURS=reference (a self-test of
# these scripts) points "ours" at the reference tools.
OURS_WG=/opt/wgtools/bin/wg
OURS_WGQ=/opt/wgtools/bin/wg-quick
REF_WG=/usr/bin/wg
REF_WGQ=/usr/bin/wg-quick
[ -f /etc/vmtest/env ] && . /etc/vmtest/env
if [ "${VMTEST_OURS:-}" = reference ]; then
	OURS_WG=$REF_WG OURS_WGQ=$REF_WGQ
fi
PATH_STD=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

result() { # STATUS NAME [DETAIL...]
	local status=$1 name=$2
	shift 2
	local detail="$*"
	detail=${detail//$'\n'/ | }
	detail=${detail//$'\t'/ }
	printf '%s\t%s\t%s\n' "$status" "$name" "$detail" >> "$RESULTS"
	printf 'vmtest: %s %s%s\n' "$status" "$name" "${detail:+: ${detail:0:300}}"
}
pass() { result PASS "$@"; }
fail() { result FAIL "$@"; }
skip() { result SKIP "$@"; }
stubbed() { result FAIL "$1" "our command is a stub: ${2:-it says it is not implemented yet}"; }

# timed LABEL CMD...: CMD's status, and its wall time recorded as
# "LABEL<TAB>SECONDS" in $OUT/timings.txt and on the console. A figure,
# never a result: under TCG it means something only against the
# reference's timed in the same boot.
timed() {
	local label=$1 t0 rc s
	shift
	t0=$EPOCHREALTIME
	"$@"
	rc=$?
	s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	printf '%s\t%s\n' "$label" "$s" >> "$OUT/timings.txt"
	echo "vmtest: time: $label: ${s}s"
	return $rc
}

# is_stub FILE...: our command said it is not there yet.
is_stub() { grep -qs 'not implemented yet' "$@"; }

# nsx NS CMD...: run CMD in network namespace NS with a clean environment.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" env -i PATH="$PATH_STD" HOME=/root WG_COLOR_MODE=never "$@"
}

# ns_pair A B: two namespaces joined by a veth pair named eth0 on both
# sides, addressed as in testdata/reference/wg-quick (A 192.0.2.1,
# 2001:db8:1::1; B 192.0.2.2, 2001:db8:1::2 and 192.168.1.1 on lo; A's
# default routes via B).
ns_pair() {
	local a=$1 b=$2
	ip netns add "$a" && ip netns add "$b" || return 1
	ip -n "$a" link set lo up && ip -n "$b" link set lo up &&
		ip -n "$a" link add eth0 type veth peer name eth0 netns "$b" &&
		ip netns exec "$a" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad' &&
		ip netns exec "$b" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad' &&
		ip -n "$a" addr add 192.0.2.1/24 dev eth0 && ip -n "$a" addr add 2001:db8:1::1/64 dev eth0 nodad &&
		ip -n "$b" addr add 192.0.2.2/24 dev eth0 && ip -n "$b" addr add 2001:db8:1::2/64 dev eth0 nodad &&
		ip -n "$a" link set eth0 up && ip -n "$b" link set eth0 up &&
		ip -n "$a" route add default via 192.0.2.2 && ip -n "$a" -6 route add default via 2001:db8:1::2 &&
		ip -n "$b" addr add 192.168.1.1/24 dev lo || return 1
	# Snapshots must not race the link-local address's arrival.
	local i=0
	while [ $i -lt 30 ] && ! { ip -n "$a" -6 route show table local | grep -q '^local fe80' &&
		ip -n "$b" -6 route show table local | grep -q '^local fe80'; }; do
		sleep 0.1
		i=$((i + 1))
	done
}

# ns_del NS...: remove namespaces and what runs in them (all started by
# these scripts).
ns_del() {
	local ns p
	for ns in "$@"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# snap NS DIR: the host state wg-quick changes, normalised so that two
# runs in different namespaces compare equal (MAC and link-local
# addresses, interface indexes, the peer namespace's name, random ports).
snap() {
	local ns=$1 d=$2
	mkdir -p "$d"
	# One namespace entry for all of it: every process costs under TCG.
	ip netns exec "$ns" /bin/sh -c '
		ip -d link; ip addr; ip -4 route show table all; ip -6 route show table all
		ip -4 rule; ip -6 rule; nft list ruleset
		cat /proc/sys/net/ipv4/conf/all/src_valid_mark
		"$0" showconf wg0; "$0" showconf wg1; ls /run/wireguard' "$REF_WG" 2>&1 | normalise > "$d/state.txt"
}

normalise() {
	# Userspace devices (phase 1): the TUN's details depend on the
	# implementation (offloads, queues), not on wg-quick.
	local tun='s/^( +tun) .*/\1 DETAILS/'
	[ -n "${NORMALISE_TUN:-}" ] || tun='s/^$//'
	sed -E -e "$tun" \
		-e 's/([0-9a-f]{2}:){5}[0-9a-f]{2}/MAC/g' \
		-e 's/fe80::[0-9a-f:]+/fe80::LL/g' \
		-e 's/@if[0-9]+/@ifN/g' \
		-e 's/^[0-9]+: /N: /' \
		-e 's/link-netns [^ ]+/link-netns PEER/' \
		-e 's/link-netnsid [0-9]+/link-netnsid N/' \
		-e 's/^ListenPort = [0-9]+$/ListenPort = PORT/' \
		-e 's/^(Endpoint = .*):[0-9]+$/\1:PORT/' \
		-e 's/listening port: [0-9]+/listening port: PORT/' \
		-e 's/(valid_lft|preferred_lft) [0-9]+sec/\1 Tsec/g' \
		-e 's/ tentative / /; s/ dadfailed / /' |
		# Userspace devices: the reference's wireguard-go TUN gets an IPv6
		# link-local address (addrgenmode random); our embedded device has
		# none, like a kernel WireGuard interface (a README difference).
		if [ -n "${NORMALISE_TUN:-}" ]; then
			awk '/inet6 fe80::LL\/64 scope link stable-privacy/ { getline; next }
				/^(local )?fe80::(LL|\/64) dev wg[0-9]/ { next }
				{ print }'
		else
			cat
		fi |
		# Lines that differ only by a (now hidden) random link-local
		# address come in address order: sort each run of them.
		awk '/fe80::LL/ { run[++n] = $0; next }
			{ flush(); print }
			END { flush() }
			function flush(  i, j, t) {
				for (i = 2; i <= n; i++) for (j = i; j > 1 && run[j-1] > run[j]; j--) { t = run[j]; run[j] = run[j-1]; run[j-1] = t }
				for (i = 1; i <= n; i++) print run[i]
				n = 0
			}'
}

# difference A B: a short unified diff, or nothing.
difference() { diff -u "$1" "$2" | head -40; }

# The fixed test keys of testdata/reference/wg-quick/_tools/lib.sh.
KA_PRIV=kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8= KA_PUB=KhrmLGjKZpVhu+UsqqSiIEWfBTzVpPlf/51vBC/FTXA=
KB_PRIV=MFacJUr9QagO2MNwbZVpjcb5UFIixyGnJyMevGdvfV4= KB_PUB=Xt9quZAyypsVNY/hSlxiMWomz3XLP4tok86WEj9CuE8=
KC_PRIV=INf5LfyyDqYLP1i4xFZ5/wVhgJtiXRlhkCTfhheJ13Q= KC_PUB=jqpiImZJaNTgv/iVZjoLCjERwTqd2QwnzSOluXfJaWo=
PSK=yqIu1+V9Je59NPVR4cjW9FaUZ+hDk9w5pI8ACuBBzlE=

# gen_peers N BIG SEED: N [Peer] sections with distinct valid keys, an
# endpoint and two allowed IPs each; the first also gets BIG more allowed
# IPs. SEED makes the keys of another set differ.
gen_peers() {
	awk -v n="$1" -v big="$2" -v seed="$3" 'BEGIN {
		B = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		L = "AEIMQUYcgkosw048" # a last character whose two low bits are zero
		for (i = 0; i < n; i++) {
			# The index in the first four characters keeps keys distinct.
			k = substr(B, seed % 64 + 1, 1) substr(B, int(i / 4096) % 64 + 1, 1) substr(B, int(i / 64) % 64 + 1, 1) substr(B, i % 64 + 1, 1)
			x = i * 31 + seed
			for (j = 0; j < 38; j++) { x = (x * 69069 + 1) % 4294967296; k = k substr(B, int(x / 16777216) % 64 + 1, 1) }
			k = k substr(L, i % 16 + 1, 1) "="
			printf "[Peer]\nPublicKey = %s\nEndpoint = 192.0.2.%d:%d\nAllowedIPs = 10.%d.%d.%d/32, fd00::%x/128\n", k, i % 250 + 1, 1000 + i, seed % 200, int(i / 256) % 256, i % 256, i
			if (i == 0) {
				for (b = 0; b < big; b++) printf "AllowedIPs = 172.%d.%d.%d/32\n", 16 + int(b / 65536), int(b / 256) % 256, b % 256
			}
			printf "\n"
		}
	}'
}

# ns_state NS: wg0's state in NS as lines "allowed KEY PREFIX" and "route
# DESTINATION", sorted (the reference wg reads the device; ip the main
# table's routes through wg0), to compare with what a file says (the
# .state files vmtest/many_test.go writes).
ns_state() {
	ip netns exec "$1" sh -c '"$0" show wg0 allowed-ips | awk "{ for (i = 2; i <= NF; i++) print \"allowed\", \$1, \$i }"
		ip -4 route show dev wg0 | awk "{ print \"route\", \$1 }"
		ip -6 route show dev wg0 | awk "\$1 !~ /^fe80/ { print \"route\", \$1 }"' "$REF_WG" | LC_ALL=C sort
}
