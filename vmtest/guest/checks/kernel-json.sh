# Sourced by run.sh (phase 2): `wg show IFACE json` and `wg show all json`
# on kernel devices against the reference's `wg show ... dump` of the same
# state, field by field, and against dist/schema/wg-show.schema.json
# (vmtest/cmd/jsoncheck: internal/jsontest's checks), with keys hidden as
# dump hides them and shown with WG_HIDE_KEYS=never. Devices of 0 peers, 1
# peer after a handshake and traffic (a tunnel between two namespaces), and
# 5000 peers (preshared keys, keepalives, endpoints: vmtest/many_test.go's
# j5000).

JC=/opt/vmtest/bin/jsoncheck
JSCHEMA=/opt/vmtest/schema/wg-show.schema.json
JD=$OUT/json
mkdir -p "$JD"
(umask 077 && echo "$KA_PRIV" > "$JD/a.key" && echo "$KB_PRIV" > "$JD/b.key" && echo "$PSK" > "$JD/psk")

# json_check NAME NS TARGET hidden|shown [PEERS]: our json between two
# reference dumps, until both dumps are the same (a live tunnel counts its
# traffic; a handshake may land between them), then the checker; with
# PEERS, the dump must hold that many peers (the check is not vacuous).
json_check() {
	local name=$1 ns=$2 target=$3 keys=$4 peers=${5:-} env= flags= f=$JD/${1//[\/ ]/_} try
	[ "$keys" = shown ] && env=WG_HIDE_KEYS=never flags=-keys
	[ "$target" = all ] && flags="$flags -all"
	for try in 1 2 3 4 5; do
		nsx "$ns" "$REF_WG" show "$target" dump > "$f.dump" 2> "$f.dump.err"
		nsx "$ns" $env "$OURS_WG" show "$target" json > "$f.json" 2> "$f.err"
		echo $? > "$f.rc"
		nsx "$ns" "$REF_WG" show "$target" dump > "$f.dump2" 2>> "$f.dump.err"
		cmp -s "$f.dump" "$f.dump2" && break
	done
	if [ "$(cat "$f.rc")" != 0 ] || [ -s "$f.err" ]; then
		fail "$name" "our wg show $target json: status $(cat "$f.rc"): $(head -c 300 "$f.err")"
	elif ! cmp -s "$f.dump" "$f.dump2"; then
		fail "$name" "the reference's dump changed between every two calls of 5"
	elif [ ! -s "$f.dump" ] || [ -s "$f.dump.err" ]; then
		fail "$name" "the reference's dump: $(head -c 300 "$f.dump.err")"
	elif [ -n "$peers" ] && [ "$(awk -F'\t' -v all="$target" 'NF == (all == "all" ? 9 : 8)' "$f.dump" | wc -l)" != "$peers" ]; then
		fail "$name" "the dump has $(wc -l < "$f.dump") lines, not the $peers peers the check is for"
	elif ! "$JC" -schema "$JSCHEMA" -dump "$f.dump" $flags "$f.json" > "$f.check" 2>&1; then
		fail "$name" "$(head -c 600 "$f.check")"
	else
		pass "$name"
	fi
}

# A tunnel between jsa and jsb (kernel devices), a handshake and traffic;
# jsa's wg1 has no key and no peers.
n=json/kernel
if ns_pair jsa jsb &&
	ip -n jsa link add wg0 type wireguard && ip -n jsa link add wg1 type wireguard &&
	ip -n jsb link add wg0 type wireguard &&
	nsx jsa "$REF_WG" set wg0 private-key "$JD/a.key" listen-port 51820 fwmark 0x1234 \
		peer "$KB_PUB" preshared-key "$JD/psk" endpoint 192.0.2.2:51820 allowed-ips 10.9.0.2/32,fd00:9::2/128 persistent-keepalive 25 &&
	nsx jsb "$REF_WG" set wg0 private-key "$JD/b.key" listen-port 51820 \
		peer "$KA_PUB" preshared-key "$JD/psk" allowed-ips 10.9.0.1/32 &&
	ip -n jsa addr add 10.9.0.1/24 dev wg0 && ip -n jsa link set wg0 up &&
	ip -n jsb addr add 10.9.0.2/24 dev wg0 && ip -n jsb link set wg0 up &&
	ip -n jsa link set wg1 up; then
	if ip netns exec jsa ping -c 2 -w 15 10.9.0.2 > /dev/null 2>&1; then
		pass "$n: setup: a handshake and traffic"
	else
		fail "$n: setup: a handshake and traffic" "no ping through the tunnel"
	fi
	for keys in hidden shown; do
		json_check "$n/0 peers/$keys" jsa wg1 $keys 0
		json_check "$n/1 peer/$keys" jsa wg0 $keys 1
		json_check "$n/all/$keys" jsa all $keys 1
	done
	# The handshake and the counters are in the document, not nulls or 0.
	if grep -q '"latest_handshake_age_seconds": [0-9]' "$JD/json_kernel_1_peer_shown.json" &&
		grep -q '"transfer_rx_bytes": [1-9]' "$JD/json_kernel_1_peer_shown.json"; then
		pass "$n/1 peer: the handshake and the traffic are in the document"
	else
		fail "$n/1 peer: the handshake and the traffic are in the document" "$(head -c 600 "$JD/json_kernel_1_peer_shown.json")"
	fi
	# Hidden means hidden: neither secret appears without WG_HIDE_KEYS=never.
	if grep -qF -e "$KA_PRIV" -e "$PSK" "$JD/json_kernel_all_hidden.json"; then
		fail "$n/all/hidden: no secret key" "a private or preshared key is in the document"
	elif ! grep -qF "$KA_PRIV" "$JD/json_kernel_all_shown.json" || ! grep -qF "$PSK" "$JD/json_kernel_all_shown.json"; then
		fail "$n/all/shown: the secret keys" "WG_HIDE_KEYS=never: the private or preshared key is missing"
	else
		pass "$n/all: secret keys hidden by default, shown with WG_HIDE_KEYS=never"
	fi
else
	fail "$n: setup" "could not make the namespaces and devices"
fi
ns_del jsa jsb

# 5000 peers (the device stays down: no handshakes are attempted).
n="json/kernel/5000 peers"
if ip netns add jsc && ip -n jsc link set lo up && ip -n jsc link add wg0 type wireguard &&
	nsx jsc "$REF_WG" setconf wg0 /opt/vmtest/many/j5000.conf; then
	for keys in hidden shown; do
		json_check "$n/$keys" jsc wg0 $keys 5000
		json_check "$n/all/$keys" jsc all $keys 5000
	done
else
	fail "$n: setup" "could not make the device"
fi
# Left for the power-off: tearing down 5000 peers costs minutes under TCG.
