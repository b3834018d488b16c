# Sourced by run.sh (phase 2): many peers on the kernel module. wg-quick
# up of 2000 peers (3000 routes), with the default socket buffers and with
# small ones; ours and the reference's up of 300 peers to the same state.
# Each wg-quick up and down is timed (lib.sh's timed: $OUT/timings.txt).
# (kernel-many20k.sh: 20000 peers.) "The state" is what the file says:
# every route through wg0, and the device's peers with their allowed IPs
# (read back by the reference wg); `down` leaves the namespace as `up`
# found it. The helpers here serve kernel-many20k.sh too.

# The files (and the states they say) come from vmtest/many_test.go.
MF=/opt/vmtest/many
MW=$OUT/many
mkdir -p "$MW"

# many_ns NS: a namespace whose default route goes out through a dummy
# link (the endpoints' route lookups for the MTU find it).
many_ns() {
	ip netns add "$1" && ip -n "$1" link set lo up && ip -n "$1" link add dum0 type dummy &&
		ip -n "$1" addr add 192.0.2.1/24 dev dum0 && ip -n "$1" link set dum0 up &&
		ip -n "$1" route add default via 192.0.2.254
}

# small_buffers on|off: the guest's socket buffer sizes (a VM of our own:
# the sysctls are global here), the smallest the kernel accepts, or back.
RMEM=$(cat /proc/sys/net/core/rmem_default) RMAX=$(cat /proc/sys/net/core/rmem_max)
WMEM=$(cat /proc/sys/net/core/wmem_default) WMAX=$(cat /proc/sys/net/core/wmem_max)
small_buffers() {
	if [ "$1" = on ]; then
		sysctl -q -w net.core.rmem_default=4608 net.core.rmem_max=4608 net.core.wmem_default=4608 net.core.wmem_max=4608
	else
		sysctl -q -w net.core.rmem_default=$RMEM net.core.rmem_max=$RMAX net.core.wmem_default=$WMEM net.core.wmem_max=$WMAX
	fi
}

# check_state NAME NS CONF [device]: wg0 in NS holds exactly what CONF
# says (its .state file): the routes, peers and allowed IPs, or with
# "device" the peers and allowed IPs only.
check_state() {
	if [ "${4:-}" = device ]; then
		grep '^allowed ' "${3%.conf}.state" > "$MW/want"
		ns_state "$2" | grep '^allowed ' > "$MW/got"
	else
		cp "${3%.conf}.state" "$MW/want"
		ns_state "$2" > "$MW/got"
	fi
	if [ -s "$MW/want" ] && cmp -s "$MW/want" "$MW/got"; then
		pass "$1"
		echo "vmtest:   ($(grep -c '^route' "$MW/got") routes, $(awk '$1 == "allowed" { print $2 }' "$MW/got" | sort -u | wc -l) peers, $(grep -c '^allowed' "$MW/got") allowed IPs)"
	else
		fail "$1" "$(grep -c . "$MW/want") lines wanted, $(grep -c . "$MW/got") found: $(difference "$MW/want" "$MW/got")"
	fi
}

# rc_ok NAME PREFIX: status 0 and no refusal from the kernel on stderr.
rc_ok() {
	if [ "$(cat "$2.rc")" = 0 ] && ! grep -q -e 'RTNETLINK answers' -e '^Error' -e 'Unable to' "$2.err"; then
		pass "$1"
	else
		fail "$1" "status $(cat "$2.rc"): $(grep -v '^\[#\]' "$2.err" | tail -5)"
	fi
}

# many_quick NAME CONF [small]: our up in a fresh namespace, the state, our
# down, nothing left; with "small", up and down run with small buffers.
many_quick() {
	local name=$1 conf=$2 small=${3:-} ns=mq d=$MW/$1
	mkdir -p "$d"
	cp "$conf" "$d/wg0.conf"
	many_ns $ns || { fail "$name: setup" "could not make the namespace"; return; }
	snap $ns "$d/pre"
	[ -n "$small" ] && small_buffers on
	timed "$name: wg-quick up (ours)" wgq ours $ns "$d/wg0.conf" up "$d/up"
	[ -n "$small" ] && small_buffers off
	rc_ok "$name: up" "$d/up"
	check_state "$name: the routes, peers and allowed IPs are the file's" $ns "$conf"
	[ -n "$small" ] && small_buffers on
	timed "$name: wg-quick down (ours)" wgq ours $ns "$d/wg0.conf" down "$d/down"
	[ -n "$small" ] && small_buffers off
	rc_ok "$name: down" "$d/down"
	snap $ns "$d/post"
	expect "$name: down leaves the namespace as up found it" "$d/post/state.txt" "$d/pre/state.txt"
	ns_del $ns
}

run_in() { # NS OUTPREFIX CMD...: status and output of CMD in NS
	local ns=$1 out=$2
	shift 2
	nsx "$ns" "$@" > "$out.out" 2> "$out.err"
	echo $? > "$out.rc"
}

. /opt/vmtest/checks/quick-lib.sh
# kernel-many20k.sh needs only the helpers.
[ -n "${MANY_HELPERS_ONLY:-}" ] && return 0

echo "vmtest: many/2000 at $(uptime_s)s"
many_quick "quick/many/2000 peers" "$MF/q2000.conf"
echo "vmtest: many/2000 small at $(uptime_s)s"
many_quick "quick/many/2000 peers, small socket buffers" "$MF/q2000.conf" small

# 300 peers, ours and the reference's, to the same state.
echo "vmtest: many/300 at $(uptime_s)s"
n="quick/many/300 peers"
for who in ours ref; do
	d=$MW/300-$who
	mkdir -p "$d"
	cp "$MF/q300.conf" "$d/wg0.conf"
	many_ns m3 || { fail "$n: setup" "could not make the namespace"; continue; }
	snap m3 "$d/pre"
	timed "$n: wg-quick up ($who)" wgq $who m3 "$d/wg0.conf" up "$d/up"
	snap m3 "$d/up"
	timed "$n: wg-quick down ($who)" wgq $who m3 "$d/wg0.conf" down "$d/down"
	snap m3 "$d/post"
	ns_del m3
	rc_ok "$n: up ($who)" "$d/up"
	rc_ok "$n: down ($who)" "$d/down"
	expect "$n: down ($who) leaves the namespace as up found it" "$d/post/state.txt" "$d/pre/state.txt"
done
# Both reach the state the file says, and the same host state.
expect "$n: the host state after up is the reference's" "$MW/300-ours/up/state.txt" "$MW/300-ref/up/state.txt"
routes=$(grep -c -E '^(10\.101\.|fd00:65::)[0-9a-f.:]* dev wg0 ' "$MW/300-ref/up/state.txt")
if [ "$routes" -eq 450 ]; then
	pass "$n: the compared state has the 450 routes"
else
	fail "$n: the compared state has the 450 routes" "$routes in the reference's"
fi
echo "vmtest: many done at $(uptime_s)s"
