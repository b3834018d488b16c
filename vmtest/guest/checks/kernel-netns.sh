# Sourced by run.sh (phase 2): what wg-quick keeps under /run (the lock,
# the record of a run killed half-way) is per network namespace (issue 13
# §2). Namespaces made by `ip netns` share this guest's /run, as on a host.

NN=/tmp/netns-check
mkdir -p $NN
# The reference captures' keys (testdata/reference/wg-quick/_tools/lib.sh).
NN_PRIV_A=kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8=
NN_PUB_B=Xt9quZAyypsVNY/hSlxiMWomz3XLP4tok86WEj9CuE8=

# nn_conf FILE ADDRESS [EXTRA]: a wg0 with one peer and one route.
nn_conf() {
	printf '[Interface]\nPrivateKey = %s\nAddress = %s\n%s\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.0/24\n' \
		"$NN_PRIV_A" "$2" "${3:-}" "$NN_PUB_B" > "$1"
	chmod 600 "$1"
}

# nn_wgq NS VERB CONF OUT: our wg-quick in NS; OUT.err, OUT.rc.
nn_wgq() {
	nsx "$1" "$OURS_WGQ" "$2" "$3" > "$4.out" 2> "$4.err"
	echo $? > "$4.rc"
}

mkdir -p $NN/a $NN/b
ip netns add nna && ip netns add nnb && ip -n nna link set lo up && ip -n nnb link set lo up || fail "quick/netns/setup" "could not make the namespaces"
nn_conf $NN/a/wg0.conf 10.98.0.1/24
nn_conf $NN/b/wg0.conf 10.98.0.2/24

# 20 rounds: up of wg0 in both namespaces at once, then down of both.
bad=""
for round in $(seq 1 20); do
	nn_wgq nna up $NN/a/wg0.conf $NN/up-a &
	nn_wgq nnb up $NN/b/wg0.conf $NN/up-b &
	wait
	for s in a b; do
		if [ "$(cat $NN/up-$s.rc)" != 0 ]; then
			bad="$bad round $round: up in $s exited $(cat $NN/up-$s.rc): $(tail -2 $NN/up-$s.err)"
		elif ! ip -n nn$s -d link show wg0 | grep -q ' wireguard '; then
			bad="$bad round $round: no kernel wg0 in $s"
		fi
	done
	nn_wgq nna down $NN/a/wg0.conf $NN/down-a &
	nn_wgq nnb down $NN/b/wg0.conf $NN/down-b &
	wait
	for s in a b; do
		[ "$(cat $NN/down-$s.rc)" = 0 ] || bad="$bad round $round: down in $s exited $(cat $NN/down-$s.rc): $(tail -2 $NN/down-$s.err)"
	done
	[ -z "$bad" ] || break
	echo "vmtest: netns round $round done at $(cut -d' ' -f1 /proc/uptime)s"
done
if [ -z "$bad" ]; then
	pass "quick/netns: 20 rounds of up of wg0 in two namespaces at once"
else
	fail "quick/netns: 20 rounds of up of wg0 in two namespaces at once" "$bad"
fi

# SIGKILL of up in A (its PostUp kills it, once all is made), then up and
# down of wg0 in B, then recovery in A: each in its own namespace.
nn_conf $NN/a/wg0.conf 10.98.0.1/24 'PostUp = kill -KILL $PPID'
nn_wgq nna up $NN/a/wg0.conf $NN/kill-a
ino_a=$(stat -L -c %i /run/netns/nna)
if [ "$(cat $NN/kill-a.rc)" = 137 ] && grep -qs '^up ' /run/wireguard/wg0.$ino_a.lock; then
	pass "quick/netns: up killed in A leaves A's record"
else
	fail "quick/netns: up killed in A leaves A's record" "exit $(cat $NN/kill-a.rc); /run/wireguard: $(ls /run/wireguard)"
fi
nn_wgq nnb up $NN/b/wg0.conf $NN/b-up
nn_wgq nnb down $NN/b/wg0.conf $NN/b-down
nn_wgq nnb up $NN/b/wg0.conf $NN/b-up2
if [ "$(cat $NN/b-up.rc)$(cat $NN/b-down.rc)$(cat $NN/b-up2.rc)" = 000 ] && ! grep -qs 'Cleaning up' $NN/b-up.err $NN/b-down.err $NN/b-up2.err &&
	ip -n nna -br address show wg0 | grep -q 10.98.0.1/24; then
	pass "quick/netns: up and down in B leave A's record and A's wg0 alone"
else
	fail "quick/netns: up and down in B leave A's record and A's wg0 alone" "$(cat $NN/b-up.err $NN/b-down.err $NN/b-up2.err); A: $(ip -n nna -br address show wg0 2>&1)"
fi
nn_conf $NN/a/wg0.conf 10.98.0.1/24
nn_wgq nna down $NN/a/wg0.conf $NN/recover-a
if [ "$(cat $NN/recover-a.rc)" = 0 ] && grep -q "^\[!\] Cleaning up \`wg0' after an interrupted run (up " $NN/recover-a.err &&
	! ip -n nna link show wg0 > /dev/null 2>&1 && ip -n nnb -br address show wg0 | grep -q 10.98.0.2/24 &&
	[ ! -e /run/wireguard/wg0.$ino_a.lock ]; then
	pass "quick/netns: recovery in A acts in A only"
else
	fail "quick/netns: recovery in A acts in A only" "exit $(cat $NN/recover-a.rc): $(cat $NN/recover-a.err); B: $(ip -n nnb -br address show wg0 2>&1)"
fi
nn_wgq nnb down $NN/b/wg0.conf $NN/b-down2
if [ -z "$(ls /run/wireguard)" ]; then
	pass "quick/netns: nothing left in /run/wireguard"
else
	fail "quick/netns: nothing left in /run/wireguard" "$(ls /run/wireguard)"
fi
ns_del nna nnb
