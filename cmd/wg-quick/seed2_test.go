package main

import (
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// TestSeed2 is seed 2: a LAN host (192.168.1.123) behind peer2
// (192.168.1.10), reached from peer1, whose AllowedIPs include
// 192.168.1.0/24. Without forwarding on peer2 the LAN is unreachable; with
// peer2's PostUp FORWARD and MASQUERADE rules and ip_forward on, ping and
// HTTP reach it, and down removes the rules.
func TestSeed2(t *testing.T) {
	testnet.Require(t)
	a, b, lan := seed2Lab(t)
	privA, pubA := keyPair(t)
	privB, pubB := keyPair(t)
	confA := peerConf(privA, "10.0.0.1/24", "51820", pubB, "10.0.0.2/32, 192.168.1.0/24", "192.0.2.2:51820", "")
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(confA), 0o600)

	// Without forwarding.
	b.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privB, "10.0.0.2/24", "51820", pubA, "10.0.0.1/32", "192.0.2.1:51820", "")), 0o600)
	mustQuick(t, b, "up", "wg0")
	up := mustQuick(t, a, "up", "wg0")
	if !strings.Contains(up.Stderr, "[#] ip -4 route add 192.168.1.0/24 dev wg0\n") {
		t.Errorf("no route to the LAN:\n%s", up.Stderr)
	}
	if !pingUntil(a, "10.0.0.2", 20) {
		t.Fatal("no ping to peer2 through the tunnel")
	}
	if pingUntil(a, "192.168.1.123", 2) {
		t.Fatal("the LAN host answers although peer2 does not forward")
	}
	mustQuick(t, a, "down", "wg0")
	mustQuick(t, b, "down", "wg0")

	// With forwarding and the hooks.
	b.MustRun("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	hooks := "PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -A FORWARD -o %i -j ACCEPT; iptables -t nat -A POSTROUTING -o lan0 -j MASQUERADE\n" +
		"PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -D FORWARD -o %i -j ACCEPT; iptables -t nat -D POSTROUTING -o lan0 -j MASQUERADE\n"
	b.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privB, "10.0.0.2/24", "51820", pubA, "10.0.0.1/32", "192.0.2.1:51820", hooks)), 0o600)
	// The hooks' iptables makes the filter and nat tables on first use,
	// and they stay (that is iptables, not wg-quick): start from a host
	// that has them.
	b.MustRun("sh", "-c", "iptables -A FORWARD -j ACCEPT && iptables -D FORWARD -j ACCEPT && iptables -t nat -A POSTROUTING -j ACCEPT && iptables -t nat -D POSTROUTING -j ACCEPT")
	beforeB := b.Snapshot()
	mustQuick(t, b, "up", "wg0")
	mustQuick(t, a, "up", "wg0")
	if rules := b.MustRun("iptables-save"); !strings.Contains(rules, "-A FORWARD -i wg0 -j ACCEPT") || !strings.Contains(rules, "-A POSTROUTING -o lan0 -j MASQUERADE") {
		t.Fatalf("PostUp's rules are missing:\n%s", rules)
	}
	if !pingUntil(a, "192.168.1.123", 20) {
		t.Fatal("no ping to the LAN host through peer2")
	}
	serveHello(t, lan, "192.168.1.123:9090")
	if got := fetchHello(t, a, "http://192.168.1.123:9090/"); got != "hello, wireguard" {
		t.Fatalf("HTTP to the LAN host: %q", got)
	}
	mustQuick(t, a, "down", "wg0")
	down := mustQuick(t, b, "down", "wg0")
	if !strings.Contains(down.Stderr, "[#] iptables -D FORWARD -i wg0 -j ACCEPT;") {
		t.Errorf("PostDown did not run:\n%s", down.Stderr)
	}
	diffState(t, b.Name, beforeB, b.Snapshot())
}

// seed2Lab is the seed's second scenario's hosts: peer1 (a), peer2 (b) and
// a LAN host at 192.168.1.123 behind peer2's lan0 (192.168.1.10).
func seed2Lab(t *testing.T) (a, b, lan *testnet.Host) {
	t.Helper()
	a, b = twoPeers(t)
	lan = testnet.NewHost(t, "wgq-lan")
	testnet.Connect(t, b, lan, "lan0")
	b.MustRun("ip", "addr", "add", "192.168.1.10/24", "dev", "lan0")
	lan.MustRun("ip", "addr", "add", "192.168.1.123/24", "dev", "lan0")
	return a, b, lan
}

// seed2Tunnel brings up the seed's tunnel without peer2's forwarding hooks
// (peer1 routes the LAN into it), waits for a ping through it and starts
// peer1 pinging the LAN host. It returns peer2's public key.
func seed2Tunnel(t *testing.T, a, b *testnet.Host) string {
	t.Helper()
	privA, pubA := keyPair(t)
	privB, pubB := keyPair(t)
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privA, "10.0.0.1/24", "51820", pubB, "10.0.0.2/32, 192.168.1.0/24", "192.0.2.2:51820", "")), 0o600)
	b.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privB, "10.0.0.2/24", "51820", pubA, "10.0.0.1/32", "192.0.2.1:51820", "")), 0o600)
	mustQuick(t, b, "up", "wg0")
	mustQuick(t, a, "up", "wg0")
	if !pingUntil(a, "10.0.0.2", 20) {
		t.Fatal("no ping to peer2 through the tunnel")
	}
	startPings(t, a, "192.168.1.123")
	return pubB
}
