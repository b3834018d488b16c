package main

import (
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// Hosts that differ (issue 7): IPv6 disabled, a read-only /proc/sys,
// nftables not used (iptables forced), the fwmark's table already in use.
// Each either works (and down leaves the host as it was) or fails with a
// clear message and leaves the host as it was: never half-applied.

// hostCase is one configuration on one kind of host.
type hostCase struct {
	name  string
	conf  string
	env   []string
	setup func(t *testing.T, h *testnet.Host)
	// code is up's expected status (-1: any failure, where the status is
	// not settled yet); want is a line its stderr must hold (on failure,
	// the message).
	code int
	want string
	// check, after a successful up, looks at what it made.
	check func(t *testing.T, h *testnet.Host)
}

const (
	hostV4     = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53\n\n[Peer]\nPublicKey = {PEERPUB}\nPresharedKey = {PSK}\nAllowedIPs = 10.0.0.2/32, 192.168.1.0/24\nEndpoint = 192.0.2.2:51820\n"
	hostV6     = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24, fd00::1/64\n\n[Peer]\nPublicKey = {PEERPUB}\nAllowedIPs = 10.0.0.2/32, fd00:1::/64\nEndpoint = 192.0.2.2:51820\n"
	hostV6Only = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = fd00::1/64\n\n[Peer]\nPublicKey = {PEERPUB}\nAllowedIPs = fd00:1::/64, ::/0\nEndpoint = [2001:db8::2]:51820\n"
	hostV6R    = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\n\n[Peer]\nPublicKey = {PEERPUB}\nAllowedIPs = 10.0.0.2/32, fd00:1::/64\nEndpoint = 192.0.2.2:51820\n"
	hostFull   = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24, fd00::1/64\nDNS = 10.0.0.53\n\n[Peer]\nPublicKey = {PEERPUB}\nPresharedKey = {PSK}\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 192.0.2.2:51820\n"
	hostFull4  = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\n\n[Peer]\nPublicKey = {PEERPUB}\nAllowedIPs = 0.0.0.0/0\nEndpoint = 192.0.2.2:51820\n"
)

func disableIPv6(t *testing.T, h *testnet.Host) {
	h.MustRun("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
}

// readOnlyProcSys makes /proc/sys read-only in the host's own mount
// namespace (as a container runtime does), with src_valid_mark set first.
func readOnlyProcSys(srcValidMark string) func(t *testing.T, h *testnet.Host) {
	return func(t *testing.T, h *testnet.Host) {
		h.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark="+srcValidMark)
		h.MustRun("mount", "--bind", "/proc/sys", "/proc/sys")
		h.MustRun("mount", "-o", "remount,bind,ro", "/proc/sys")
		if r := h.Run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1"); r.Code == 0 {
			t.Fatal("/proc/sys is still writable")
		}
	}
}

func TestHostsThatDiffer(t *testing.T) {
	testnet.Require(t)
	for _, c := range []hostCase{
		{name: "ipv6-disabled/v4-only", conf: hostV4, setup: disableIPv6},
		// Issue 16: the IPv6 parts are skipped, with one warning.
		{name: "ipv6-disabled/v6-address", conf: hostV6, setup: disableIPv6,
			want: "[!] IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6 = 1): skipping address fd00::1/64 and the route to fd00:1::/64; IPv4 only.\n"},
		{name: "ipv6-disabled/v6-route", conf: hostV6R, setup: disableIPv6,
			want: "[!] IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6 = 1): skipping the route to fd00:1::/64; IPv4 only.\n"},
		{name: "ipv6-disabled/v6-only", conf: hostV6Only, setup: disableIPv6, code: 1,
			want: "wg-quick: IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6 = 1), and every address and allowed IP of `wg0' is IPv6: nothing would work\n"},
		{name: "ipv6-disabled/full-tunnel", conf: hostFull4, setup: disableIPv6},
		{name: "read-only-proc-sys/v4-v6", conf: hostV6, setup: readOnlyProcSys("0")},
		{name: "read-only-proc-sys/full-tunnel-src-valid-mark-set", conf: hostFull4, setup: readOnlyProcSys("1")},
		{name: "read-only-proc-sys/full-tunnel-src-valid-mark-unset", conf: hostFull4, setup: readOnlyProcSys("0"), code: -1,
			want: "src_valid_mark"},
		{name: "iptables-forced/full-tunnel", conf: hostFull, env: []string{"WG_QUICK_FIREWALL=iptables"},
			setup: withIPTablesTables,
			check: func(t *testing.T, h *testnet.Host) {
				if out := h.MustRun("iptables-save", "-t", "raw"); !strings.Contains(out, `"wg-quick(8) rule for wg0"`) {
					t.Errorf("no iptables rules:\n%s", out)
				}
				if out := h.MustRun("nft", "list", "ruleset"); strings.Contains(out, "wg-quick-wg0") {
					t.Errorf("nftables rules with iptables forced:\n%s", out)
				}
			}},
		{name: "firewall-bogus/full-tunnel", conf: hostFull, env: []string{"WG_QUICK_FIREWALL=bogus"}, code: -1, want: "WG_QUICK_FIREWALL"},
		{name: "fwmark-table-in-use/full-tunnel", conf: hostFull4, setup: func(t *testing.T, h *testnet.Host) {
			h.MustRun("ip", "route", "add", "198.51.100.0/24", "via", "192.0.2.2", "table", "51820")
		}, check: func(t *testing.T, h *testnet.Host) {
			// The reference's choice: the first free table from 51820 on.
			if out := h.MustRun("ip", "-4", "rule"); !strings.Contains(out, "not from all fwmark 0xca6d lookup 51821") {
				t.Errorf("rules:\n%s", out)
			}
			if out := h.MustRun("ip", "route", "show", "table", "51820"); out != "198.51.100.0/24 via 192.0.2.2 dev eth0 \n" {
				t.Errorf("table 51820 changed:\n%s", out)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := killHost(t, c.conf, false)
			if c.setup != nil {
				c.setup(t, a)
			}
			before := fullState(t, a, "wg0")
			r := a.RunEnv(quickEnv(t, c.env...), "wg-quick", "up", "wg0")
			if k := leaked(r.Stdout+r.Stderr, secretForms(relPriv, relPSK)); k != "" {
				t.Errorf("up printed a key")
			}
			if (r.Code != c.code && !(c.code == -1 && r.Code != 0)) || !strings.Contains(r.Stderr, c.want) {
				t.Fatalf("up: exit %d (want %d), stderr:\n%s\nwant it to hold %q", r.Code, c.code, r.Stderr, c.want)
			}
			if r.Code == 0 {
				if c.check != nil {
					c.check(t, a)
				}
				if d := a.RunEnv(quickEnv(t, c.env...), "wg-quick", "down", "wg0"); d.Code != 0 {
					t.Errorf("down: exit %d\n%s", d.Code, d.Stderr)
				}
			}
			diffState(t, "after up (and down)", before, waitState(t, a, before))
		})
	}
}
