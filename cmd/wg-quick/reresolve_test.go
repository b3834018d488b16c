package main

import (
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// TestReresolveFollowsTheName (issue 16): two peers named in A's
// /etc/hosts move to other addresses. The one with no handshake (C, no
// host answers there) follows its name in one run of `wg-quick reresolve`,
// with one "[#]" line; the one with a fresh handshake (B, which answers
// pings through the tunnel) is left alone. A second run prints nothing.
func TestReresolveFollowsTheName(t *testing.T) {
	testnet.Require(t)
	a, b := twoPeers(t)
	b.MustRun("ip", "addr", "add", "192.0.2.3/24", "dev", "eth0")
	aPriv, aPub := keyPair(t)
	bPriv, bPub := keyPair(t)
	_, cPub := keyPair(t)
	hosts := "127.0.0.1 localhost\n192.0.2.2 b.example\n192.0.2.20 c.example\n"
	a.BindFile("/etc/hosts", []byte(hosts))
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(aPriv, "10.9.0.1/24", "", bPub, "10.9.0.2/32", "b.example:51820", "")+
		"\n[Peer]\nPublicKey = "+cPub+"\nAllowedIPs = 10.9.0.3/32\nEndpoint = c.example:51820\n"), 0o600)
	b.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(bPriv, "10.9.0.2/24", "51820", aPub, "10.9.0.1/32", "", "")), 0o600)
	mustQuick(t, a, "up", "wg0")
	mustQuick(t, b, "up", "wg0")
	t.Cleanup(func() {
		wgQuick(t, a, "down", "wg0")
		wgQuick(t, b, "down", "wg0")
	})
	if !pingUntil(a, "10.9.0.2", 10) {
		t.Fatal("no ping through the tunnel: B has no fresh handshake")
	}
	endpoints := func() string { return a.MustRun(wgBin(t), "show", "wg0", "endpoints") }
	want := bPub + "\t192.0.2.2:51820\n" + cPub + "\t192.0.2.20:51820\n"
	if got := endpoints(); !sameLines(got, want) {
		t.Fatalf("endpoints after up:\n%s", got)
	}

	// Nothing moved: nothing to do, nothing printed.
	if r := mustQuick(t, a, "reresolve", "wg0"); r.Stdout+r.Stderr != "" {
		t.Errorf("reresolve with nothing moved printed:\n%s%s", r.Stdout, r.Stderr)
	}
	a.WriteFile("/run/testnet-files/etc_hosts", []byte(strings.NewReplacer("192.0.2.2 ", "192.0.2.3 ", "192.0.2.20 ", "192.0.2.21 ").Replace(hosts)), 0o644)
	r := mustQuick(t, a, "reresolve", "wg0")
	if r.Stderr != "[#] wg set wg0 peer "+cPub+" endpoint c.example:51820\n" || r.Stdout != "" {
		t.Errorf("reresolve printed:\n%s%s", r.Stdout, r.Stderr)
	}
	want = bPub + "\t192.0.2.2:51820\n" + cPub + "\t192.0.2.21:51820\n"
	if got := endpoints(); !sameLines(got, want) {
		t.Errorf("endpoints after reresolve:\n%s\nwant:\n%s", got, want)
	}
	if r := mustQuick(t, a, "reresolve", "wg0"); r.Stdout+r.Stderr != "" {
		t.Errorf("a second reresolve printed:\n%s%s", r.Stdout, r.Stderr)
	}
}

// sameLines compares two texts as sets of lines (wg lists peers in the
// device's order).
func sameLines(a, b string) bool {
	x, y := strings.Split(strings.TrimSpace(a), "\n"), strings.Split(strings.TrimSpace(b), "\n")
	if len(x) != len(y) {
		return false
	}
	seen := map[string]int{}
	for _, l := range x {
		seen[l]++
	}
	for _, l := range y {
		seen[l]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
