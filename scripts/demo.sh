#!/bin/bash
# make demo: a WireGuard tunnel between two network namespaces, brought up
# and down by our wg-quick with its embedded userspace device.
#
#   peer1 (192.0.2.1) ---- veth ---- (192.0.2.2) peer2
#   wg0 10.0.0.1/24  ==== tunnel ====  wg0 10.0.0.2/24, HTTP on :9090
#
# Each peer lives in its own network namespace and its own mount namespace
# (private /run and /etc/wireguard), so both can call their interface wg0
# and nothing touches the machine's own network or files (the configs are
# in the private /run: wg-quick up /run/wgdemo/wg0.conf). Everything is
# removed at the end, even on failure. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/bin"
[[ $(id -u) == 0 ]] || { echo "demo: needs root (sudo make demo)" >&2; exit 1; }
for tool in ip unshare nsenter; do
	command -v "$tool" >/dev/null || { echo "demo: needs $tool" >&2; exit 1; }
done

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
P1="wgdemo-$$-peer1" P2="wgdemo-$$-peer2"
declare -A HOLDER
SERVER=""

cleanup() {
	local rc=$? ns pid
	say "cleaning up: stopping what the demo started, removing $P1 and $P2"
	[[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null || true
	for ns in "$P1" "$P2"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	if [[ $rc == 0 ]]; then echo "demo: OK"; else echo "demo: FAILED (exit $rc)" >&2; fi
}
trap cleanup EXIT

# on PEER CMD...: run a command in a peer's network and mount namespaces.
on() { local ns=$1; shift; nsenter -t "${HOLDER[$ns]}" -m -n -- "$@"; }

make_peer() {
	local ns=$1
	ip netns add "$ns"
	# A holder process keeps the peer's private mount namespace alive.
	ip netns exec "$ns" unshare -m --propagation private sh -c \
		'mount -t tmpfs -o mode=0755 wgdemo /run && mkdir -p /run/wireguard &&
		 mkdir -m 0700 /run/wgdemo && exec sleep infinity' &
	HOLDER[$ns]=$!
	for _ in $(seq 50); do
		[[ $(readlink "/proc/${HOLDER[$ns]}/exe") == */sleep ]] && break
		sleep 0.1
	done
	on "$ns" ip link set lo up
}

say "building nettool (HTTP server/client and ping for inside the namespaces)"
go build -o "$BIN/nettool" ./scripts/nettool

say "creating network namespaces $P1 and $P2, joined by a veth pair"
make_peer "$P1"; make_peer "$P2"
ip -n "$P1" link add eth0 type veth peer name eth0 netns "$P2"
on "$P1" ip addr add 192.0.2.1/24 dev eth0; on "$P1" ip link set eth0 up
on "$P2" ip addr add 192.0.2.2/24 dev eth0; on "$P2" ip link set eth0 up
echo "peer1 eth0 192.0.2.1/24  <->  peer2 eth0 192.0.2.2/24"

say "fresh keys: bin/wg genkey | bin/wg pubkey"
K1=$("$BIN/wg" genkey); K2=$("$BIN/wg" genkey)
P1PUB=$("$BIN/wg" pubkey <<<"$K1"); P2PUB=$("$BIN/wg" pubkey <<<"$K2")
echo "peer1 public key: $P1PUB"
echo "peer2 public key: $P2PUB"

write_conf() { # PEER ADDRESS PRIVATE PEER-PUBLIC PEER-ALLOWED PEER-ENDPOINT
	on "$1" sh -c 'umask 077; cat > /run/wgdemo/wg0.conf' <<E
[Interface]
Address = $2
ListenPort = 51820
PrivateKey = $3

[Peer]
PublicKey = $4
AllowedIPs = $5
Endpoint = $6
E
}
say "configs: /run/wgdemo/wg0.conf in each peer (private keys not shown)"
write_conf "$P1" 10.0.0.1/24 "$K1" "$P2PUB" 10.0.0.2/32 192.0.2.2:51820
write_conf "$P2" 10.0.0.2/24 "$K2" "$P1PUB" 10.0.0.1/32 192.0.2.1:51820
on "$P1" sed 's/^PrivateKey = .*/PrivateKey = (hidden)/' /run/wgdemo/wg0.conf

say "peer1: wg-quick up /run/wgdemo/wg0.conf"
on "$P1" "$BIN/wg-quick" up /run/wgdemo/wg0.conf
say "peer2: wg-quick up /run/wgdemo/wg0.conf"
on "$P2" "$BIN/wg-quick" up /run/wgdemo/wg0.conf

say "peer1: ping 10.0.0.2 through the tunnel"
ok=0
for i in $(seq 10); do
	if on "$P1" "$BIN/nettool" ping 10.0.0.2; then echo "reply from 10.0.0.2 (try $i)"; ok=1; break; fi
done
[[ $ok == 1 ]] || { echo "no reply from 10.0.0.2" >&2; exit 1; }

say "peer2: HTTP server on 10.0.0.2:9090"
on "$P2" "$BIN/nettool" serve 10.0.0.2:9090 &
SERVER=$!
for _ in $(seq 50); do on "$P2" ss -ltn 2>/dev/null | grep -q '10.0.0.2:9090' && break; sleep 0.1; done

say "peer1: GET http://10.0.0.2:9090/"
body=$(on "$P1" "$BIN/nettool" get http://10.0.0.2:9090/)
echo "$body"
[[ $body == "hello, wireguard" ]] || { echo "unexpected answer" >&2; exit 1; }

say "peer1: wg show"
if ! on "$P1" "$BIN/wg" show 2>/dev/null; then
	echo "(bin/wg show is not in this build yet; the system's wg reads the same device:)"
	on "$P1" wg show || echo "(no wg installed either)"
fi

kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
say "peer1: wg-quick down /run/wgdemo/wg0.conf"
on "$P1" "$BIN/wg-quick" down /run/wgdemo/wg0.conf
say "peer2: wg-quick down /run/wgdemo/wg0.conf"
on "$P2" "$BIN/wg-quick" down /run/wgdemo/wg0.conf
say "peer1 after down: links and /run/wireguard"
on "$P1" ip -brief link
on "$P1" ls -A /run/wireguard
