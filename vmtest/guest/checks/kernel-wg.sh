# Sourced by run.sh (phase 2): our wg against the reference wg on the same
# kernel devices, output for output and state for state. This part makes
# the namespace and the files; cli-wg-body.sh runs in the namespace (one
# namespace entry, not one per command: processes are dear under TCG).

NS=cliwg
WD=/tmp/cliwg
mkdir -p $WD/k
ip netns add $NS && ip -n $NS link set lo up
ip -n $NS link add wg0 type wireguard
ip -n $NS link add wg1 type wireguard
ip -n $NS link add dum0 type dummy
umask 077
echo "$KA_PRIV" > $WD/k/a.key
echo "$PSK" > $WD/k/psk
cat > $WD/wg0.conf <<CONF
[Interface]
PrivateKey = $KA_PRIV
ListenPort = 51820
FwMark = 0x1234

[Peer]
PublicKey = $KB_PUB
PresharedKey = $PSK
Endpoint = 192.0.2.2:51820
AllowedIPs = 10.0.0.2/32, fd00::2/128, 10.9.0.0/16
PersistentKeepalive = 25

[Peer]
PublicKey = $KC_PUB
Endpoint = [fe80::1%dum0]:51821
AllowedIPs = 10.0.0.3/32

$(gen_peers 3 0 7 | awk '/^Endpoint/ { n++; if (n == 1) $0 = "Endpoint = [::ffff:198.51.100.9]:1"; if (n == 2) $0 = "Endpoint = [2001:db8::5]:65535" } { print }')
CONF
{ echo "[Interface]"; echo "PrivateKey = $KC_PRIV"; echo; gen_peers 2000 20000 1; } > $WD/big.conf
{ gen_peers 2 0 2; printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.200.0.0/16\n' "$(gen_peers 1 0 1 | sed -n 's/^PublicKey = //p')"; } > $WD/add.conf
{ echo "[Interface]"; echo "ListenPort = 51999"; echo; gen_peers 10 0 1 | sed '/^AllowedIPs = 172/d'; gen_peers 1 0 9; } > $WD/sync.conf
umask 022

if ip netns exec $NS "$REF_WG" setconf wg0 $WD/wg0.conf 2> $WD/setconf.err; then
	NS=$NS WD=$WD ip netns exec $NS bash -c '. /opt/vmtest/lib.sh; . /opt/vmtest/checks/cli-wg-body.sh' ||
		fail checks/cli-wg-body.sh "stopped with status $?"
else
	fail cli/setup "the reference could not configure wg0: $(cat $WD/setconf.err)"
fi
ns_del $NS

