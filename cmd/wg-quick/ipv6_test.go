package main

import (
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// TestIPv6DisabledTunnel (issue 16): on a host whose network namespace
// has net.ipv6.conf.all.disable_ipv6 = 1 (set inside the test's own
// namespace), a dual-stack full-tunnel configuration comes up on IPv4 with
// one warning naming what is skipped, a ping through the tunnel passes,
// and down leaves the host as it was.
func TestIPv6DisabledTunnel(t *testing.T) {
	testnet.Require(t)
	a, b := twoPeers(t)
	aPriv, aPub := keyPair(t)
	bPriv, bPub := keyPair(t)
	disableIPv6(t, a)
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(aPriv, "10.9.0.1/24, fd09::1/64", "", bPub,
		"10.9.0.2/32, fd09::2/128, 198.51.100.0/24, 0.0.0.0/0, ::/0", "192.0.2.2:51820", "")), 0o600)
	b.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(bPriv, "10.9.0.2/24, fd09::2/64", "51820", aPub,
		"10.9.0.1/32, fd09::1/128", "", "")), 0o600)
	before := fullState(t, a, "wg0")
	r := mustQuick(t, a, "up", "wg0")
	warn := "[!] IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6 = 1): skipping address fd09::1/64 and the routes to fd09::2/128, ::/0 (and the policy rules and firewall rules of ::/0); IPv4 only.\n"
	if !strings.HasPrefix(r.Stderr, warn) || strings.Count(r.Stderr, "[!] IPv6") != 1 || strings.Contains(r.Stderr, "ip -6") {
		t.Errorf("up's output:\n%s\nwant it to start with the one warning\n%s", r.Stderr, warn)
	}
	mustQuick(t, b, "up", "wg0")
	if !pingUntil(a, "10.9.0.2", 10) {
		t.Error("no ping through the tunnel over IPv4")
	}
	if out := a.MustRun("ip", "-6", "rule"); strings.Contains(out, "51820") {
		t.Errorf("IPv6 rules were added:\n%s", out)
	}
	mustQuick(t, a, "down", "wg0")
	diffState(t, "after up and down", before, waitState(t, a, before))
}
