package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// Full tunnel (AllowedIPs 0.0.0.0/0 and ::/0, Table unset): as root, in
// test hosts.

// nftCounters reads the packet counts of the counter rules of an nft chain,
// in rule order.
func nftCounters(t *testing.T, h *testnet.Host, family, table, chain string) []int {
	t.Helper()
	var out []int
	for _, m := range regexp.MustCompile(`counter packets (\d+)`).FindAllStringSubmatch(h.MustRun("nft", "list", "chain", family, table, chain), -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// nftIn loads an nft script in h.
func nftIn(t *testing.T, h *testnet.Host, script string) {
	t.Helper()
	h.WriteFile("/run/test.nft", []byte(script), 0o600)
	if r := h.Run("nft", "-f", "/run/test.nft"); r.Code != 0 {
		t.Fatalf("nft -f:\n%s\n%s", script, r.Stderr)
	}
	h.MustRun("rm", "/run/test.nft")
}

func mustContain(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s:\n%s\nwant it to contain %q", what, got, want)
	}
}

// TestFullTunnelInternet: a client with a full tunnel (both families) to a
// server that forwards and masquerades, and an "internet" host the client
// can reach only through the server's tunnel (the server drops what the
// client sends it unencrypted). With the tunnel up, ping and HTTP reach
// the internet host through it, the tunnel's own packets still leave by
// the underlay, a packet for a tunnel address arriving on the underlay is
// dropped; down leaves the client exactly as it was.
func TestFullTunnelInternet(t *testing.T) {
	testnet.Require(t)
	c, s, inet := testnet.NewHost(t, "wgf-c"), testnet.NewHost(t, "wgf-s"), testnet.NewHost(t, "wgf-i")
	testnet.Connect(t, c, s, "eth0")
	testnet.Connect(t, s, inet, "eth1")
	c.MustRun("ip", "addr", "add", "192.0.2.1/24", "dev", "eth0")
	c.MustRun("ip", "addr", "add", "2001:db8:1::1/64", "dev", "eth0", "nodad")
	c.MustRun("ip", "route", "add", "default", "via", "192.0.2.2")
	c.MustRun("ip", "-6", "route", "add", "default", "via", "2001:db8:1::2")
	s.MustRun("ip", "addr", "add", "192.0.2.2/24", "dev", "eth0")
	s.MustRun("ip", "addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad")
	s.MustRun("ip", "addr", "add", "198.51.100.2/24", "dev", "eth1")
	s.MustRun("ip", "addr", "add", "2001:db8:99::2/64", "dev", "eth1", "nodad")
	inet.MustRun("ip", "addr", "add", "198.51.100.1/24", "dev", "eth1")
	inet.MustRun("ip", "addr", "add", "2001:db8:99::1/64", "dev", "eth1", "nodad")
	// The server: forwarding, masquerade to the internet, nothing forwarded
	// from the underlay; counters of what the client sends on the underlay.
	s.MustRun("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	nftIn(t, s, `table inet srv {
		chain forwarding { type filter hook forward priority 0; iifname "eth0" drop; }
		chain masq { type nat hook postrouting priority 100; oifname "eth1" masquerade; }
		chain underlay { type filter hook prerouting priority -450;
			iifname "eth0" udp dport 51820 counter;
			iifname "eth0" ip daddr 198.51.100.0/24 counter;
			iifname "eth0" ip6 daddr 2001:db8:99::/64 counter; }
	}`)
	privC, pubC := keyPair(t)
	privS, pubS := keyPair(t)
	s.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privS, "10.0.0.1/24, fd00::1/64", "51820", pubC, "10.0.0.2/32, fd00::2/128", "", "")), 0o600)
	c.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privC, "10.0.0.2/32, fd00::2/128", "", pubS, "0.0.0.0/0, ::/0", "192.0.2.2:51820", "")+"PersistentKeepalive = 25\n"), 0o600)
	mustQuick(t, s, "up", "wg0")
	serveHello(t, inet, "198.51.100.1:8080")
	serveHello(t, inet, "[2001:db8:99::1]:8081")

	c.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=0")
	before := c.Snapshot()
	for _, dst := range []string{"198.51.100.1", "2001:db8:99::1"} {
		if pingOnce(c, dst) {
			t.Fatalf("%s answers without the tunnel", dst)
		}
	}
	base := nftCounters(t, s, "inet", "srv", "underlay")
	up := mustQuick(t, c, "up", "wg0")
	mustContain(t, "up", up.Stderr, "[#] wg set wg0 fwmark 51820\n")
	mustContain(t, "up", up.Stderr, "[#] sysctl -q net.ipv4.conf.all.src_valid_mark=1\n")

	// Through the tunnel.
	for _, dst := range []string{"198.51.100.1", "2001:db8:99::1"} {
		if !pingUntil(c, dst, 20) {
			t.Fatalf("no ping to %s through the tunnel", dst)
		}
	}
	for _, url := range []string{"http://198.51.100.1:8080/", "http://[2001:db8:99::1]:8081/"} {
		if got := fetchHello(t, c, url); got != "hello, wireguard" {
			t.Errorf("GET %s: %q", url, got)
		}
	}
	// Routing: everything by the tunnel but its own marked packets and the
	// local network.
	mustContain(t, "route get 198.51.100.1", c.MustRun("ip", "route", "get", "198.51.100.1"), "dev wg0 table 51820")
	mustContain(t, "route get 198.51.100.1 mark 51820", c.MustRun("ip", "route", "get", "198.51.100.1", "mark", "51820"), "via 192.0.2.2 dev eth0")
	mustContain(t, "route get 192.0.2.2", c.MustRun("ip", "route", "get", "192.0.2.2"), "192.0.2.2 dev eth0")
	mustContain(t, "route get 2001:db8:99::1", c.MustRun("ip", "-6", "route", "get", "2001:db8:99::1"), "dev wg0 table 51820")
	mustContain(t, "route get 2001:db8:99::1 mark 51820", c.MustRun("ip", "-6", "route", "get", "2001:db8:99::1", "mark", "51820"), "via 2001:db8:1::2 dev eth0")
	// On the underlay the server saw the tunnel's UDP and no plain packet
	// for the internet.
	if n := nftCounters(t, s, "inet", "srv", "underlay"); len(n) != 3 || n[0] == base[0] || n[1] != base[1] || n[2] != base[2] {
		t.Errorf("server's underlay counters (tunnel UDP, plain IPv4, plain IPv6 to the internet): %v, before up %v", n, base)
	}

	// A packet for a tunnel address that arrives on the underlay is
	// dropped: counted before the guard's priority (-300), not after.
	nftIn(t, c, `table inet probe {
		chain early { type filter hook prerouting priority -450; iifname "eth0" ip daddr 10.0.0.2 counter; iifname "eth0" ip6 daddr fd00::2 counter; }
		chain late { type filter hook prerouting priority -250; iifname "eth0" ip daddr 10.0.0.2 counter; iifname "eth0" ip6 daddr fd00::2 counter; }
	}`)
	s.MustRun("ip", "route", "add", "10.0.0.2/32", "via", "192.0.2.1", "dev", "eth0")
	s.MustRun("ip", "-6", "route", "add", "fd00::2/128", "via", "2001:db8:1::1", "dev", "eth0")
	for _, dst := range []string{"10.0.0.2", "fd00::2"} {
		if pingOnce(s, dst) {
			t.Errorf("%s answered a ping that came by the underlay", dst)
		}
	}
	if early, late := nftCounters(t, c, "inet", "probe", "early"), nftCounters(t, c, "inet", "probe", "late"); len(early) != 2 || early[0] == 0 || early[1] == 0 || late[0] != 0 || late[1] != 0 {
		t.Errorf("spoofed packets: before the guard %v, after it %v", early, late)
	}
	s.MustRun("ip", "route", "del", "10.0.0.2/32")
	s.MustRun("ip", "-6", "route", "del", "fd00::2/128")
	c.MustRun("nft", "delete", "table", "inet", "probe")

	down := mustQuick(t, c, "down", "wg0")
	mustContain(t, "down", down.Stderr, "[#] sysctl -q net.ipv4.conf.all.src_valid_mark=0\n")
	diffState(t, "client after down", before, waitNoProcesses(c, before))
}

// refFix is what we do differently from the reference's capture on
// purpose: we set back the src_valid_mark we set (the reference leaves
// it at 1), which down prints.
const svmRestore = "[#] sysctl -q net.ipv4.conf.all.src_valid_mark=0\n"

func svmRestored(s string) string {
	return strings.Replace(s, "net.ipv4.conf.all.src_valid_mark = 1", "net.ipv4.conf.all.src_valid_mark = 0", 1)
}

// stepEnv is step with extra environment and our expected difference:
// extraErr is what we print after the reference's stderr.
func stepEnv(t *testing.T, c string, h *testnet.Host, env []string, prefix, extraErr string, args ...string) {
	t.Helper()
	r := h.RunEnv(quickEnv(t, env...), filepath.Join(binaries(t), "wg-quick"), args...)
	refErr := readRef(t, c, prefix+".stderr")
	refErr = netnsNoise.ReplaceAllString(bannerLine.ReplaceAllString(refErr, ""), "") + extraErr
	if r.Stderr != refErr {
		t.Errorf("%s: stderr differs (- reference, + ours):\n%s", prefix, difftest.Lines(refErr, r.Stderr))
	}
	// The payload captures recorded no status (fulltunnel-payloads has
	// no .rc files): then success is wanted.
	refRC, _ := readRefOptional(t, c, prefix+".rc")
	if rc := strings.TrimSpace(refRC); rc != "" && rc != strconv.Itoa(r.Code) {
		t.Errorf("%s: exit %d, reference %s", prefix, r.Code, rc)
	} else if rc == "" && r.Code != 0 {
		t.Errorf("%s: exit %d", prefix, r.Code)
	}
	refOut, _ := readRefOptional(t, c, prefix+".stdout")
	if r.Stdout != refOut {
		t.Errorf("%s: stdout %q, reference %q", prefix, r.Stdout, refOut)
	}
}

// ftSnap is refSnap without the record of the src_valid_mark we set
// (/run/wireguard/src_valid_mark.NETNS, ours only), and, where fixSVM is
// set, with our src_valid_mark of 0 shown as the reference's 1 when the
// reference left it at 1 (we set it back on purpose).
func ftSnap(t *testing.T, c, dir string, h *testnet.Host, fixSVM bool) func() map[string]string {
	return func() map[string]string {
		m := refSnap(t, h, "wg0")
		m["run-wireguard-ls.txt"] = regexp.MustCompile(`(?m)^src_valid_mark\.\d+\n`).ReplaceAllString(m["run-wireguard-ls.txt"], "")
		if ref := readRef(t, c, filepath.Join(dir, "sysctl.txt")); fixSVM && svmRestored(ref) == m["sysctl.txt"] && ref != m["sysctl.txt"] {
			m["sysctl.txt"] = ref
		}
		return m
	}
}

// TestReferenceFullTunnel replays the reference's full-tunnel captures:
// the same trace, exit status, resulting state (nft list ruleset and
// iptables-save included, counters and handles masked, its TUN's IPv6
// link-local address left out), routing decisions, and the same state after
// down, but for src_valid_mark, which we set back.
func TestReferenceFullTunnel(t *testing.T) {
	testnet.Require(t)
	needRefWG(t)
	for _, c := range []struct {
		name string
		run  func(t *testing.T, c string, a, b *testnet.Host)
	}{
		{"fulltunnel-nft", func(t *testing.T, c string, a, b *testnet.Host) {
			step(t, c, b, "B-up", "up", "wg1")
			step(t, c, a, "A-up", "up", "wg0")
			if !pingUntil(a, "10.0.0.1", 20) || !pingUntil(a, "fd00::1", 20) {
				t.Error("no ping through the tunnel")
			}
			ref := readRef(t, c, "A-route-get.txt")
			got := a.MustRun("ip", "route", "get", "198.51.100.7") + a.MustRun("ip", "route", "get", "192.0.2.2") +
				a.MustRun("ip", "route", "get", "198.51.100.7", "mark", "51820") + a.MustRun("ip", "-6", "route", "get", "2001:db8:99::1")
			if got != ref {
				t.Errorf("route get differs (- reference, + ours):\n%s", difftest.Lines(ref, got))
			}
			compareState(t, c, "A-state-up", ftSnap(t, c, "A-state-up", a, false), "wg0")
			stepEnv(t, c, a, nil, "A-down", svmRestore, "down", "wg0")
			compareState(t, c, "A-state-down", ftSnap(t, c, "A-state-down", a, true), "wg0")
			step(t, c, b, "B-down", "down", "wg1")
		}},
		{"fulltunnel-iptables", func(t *testing.T, c string, a, b *testnet.Host) {
			env := []string{"WG_QUICK_FIREWALL=iptables"}
			step(t, c, b, "B-up", "up", "wg1")
			stepEnv(t, c, a, env, "A-up", "", "up", "wg0")
			if !pingUntil(a, "10.0.0.1", 20) {
				t.Error("no ping through the tunnel")
			}
			compareState(t, c, "A-state-up", ftSnap(t, c, "A-state-up", a, false), "wg0")
			stepEnv(t, c, a, env, "A-down", svmRestore, "down", "wg0")
			compareState(t, c, "A-state-down", ftSnap(t, c, "A-state-down", a, true), "wg0")
			step(t, c, b, "B-down", "down", "wg1")
		}},
		{"fulltunnel-payloads", func(t *testing.T, c string, a, b *testnet.Host) {
			step(t, c, b, "B-up", "up", "wg1")
			stepEnv(t, c, a, nil, "A-up-nft", "", "up", "wg0")
			stepEnv(t, c, a, nil, "A-down-nft", svmRestore, "down", "wg0")
			// The reference's first down left src_valid_mark at 1, so its
			// second up did not set it: start the iptables run from there.
			a.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=1")
			env := []string{"WG_QUICK_FIREWALL=iptables"}
			stepEnv(t, c, a, env, "A-up-ipt", "", "up", "wg0")
			stepEnv(t, c, a, env, "A-down-ipt", "", "down", "wg0")
			step(t, c, b, "B-down", "down", "wg1")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := refTopology(t)
			// The captures' namespaces started with src_valid_mark 0 (a
			// new namespace copies the machine's value: set it).
			a.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=0")
			installRefConfs(t, c.name, a, b)
			// The B side is fulltunnel-nft's in every case.
			confB := readRef(t, "fulltunnel-nft", "input-B-wg1.conf")
			b.WriteFile("/etc/wireguard/wg1.conf", []byte(confB), 0o600)
			c.run(t, c.name, a, b)
		})
	}
}

// The reference captures' keys (testdata/reference/wg-quick/_tools/lib.sh).
const (
	refKeyAPriv = "kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8="
	refKeyCPriv = "INf5LfyyDqYLP1i4xFZ5/wVhgJtiXRlhkCTfhheJ13Q="
)

// ftConf is the captures' full-tunnel client (A) with extra [Interface]
// lines and the given AllowedIPs.
func ftConf(extra, allowed string) string {
	return "[Interface]\nAddress = 10.0.0.2/32, fd00::2/128\nPrivateKey = " + refKeyAPriv + "\n" + extra +
		"\n[Peer]\nPublicKey = " + refKeyBPub + "\nAllowedIPs = " + allowed + "\nEndpoint = 192.0.2.2:51820\nPersistentKeepalive = 25\n"
}

// ftHosts is the captures' topology with B's server (wg1) up and A's
// src_valid_mark at 0; A's wg0.conf is conf.
func ftHosts(t *testing.T, conf string) (a, b *testnet.Host) {
	a, b = refTopology(t)
	a.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=0")
	confB := readRef(t, "fulltunnel-nft", "input-B-wg1.conf")
	b.WriteFile("/etc/wireguard/wg1.conf", []byte(confB), 0o600)
	mustQuick(t, b, "up", "wg1")
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(conf), 0o600)
	return a, b
}

// upFails runs up, wants it to fail with code and stderr ending in (or,
// with contains, containing) want, and the host as it was.
func upFails(t *testing.T, a *testnet.Host, env []string, code int, want string) {
	t.Helper()
	before := a.Snapshot()
	r := a.RunEnv(quickEnv(t, env...), filepath.Join(binaries(t), "wg-quick"), "up", "wg0")
	if r.Code != code || !strings.Contains(r.Stderr, want) {
		t.Errorf("up: exit %d (want %d), stderr:\n%s\nwant it to contain:\n%s", r.Code, code, r.Stderr, want)
	}
	diffState(t, "after the failed up", before, waitNoProcesses(a, before))
}

// upDown runs up and down, checks both traces for the given lines, and
// that down leaves the host as it was.
func upDown(t *testing.T, a *testnet.Host, env []string, upWant, downWant string, between func()) {
	t.Helper()
	before := a.Snapshot()
	r := a.RunEnv(quickEnv(t, env...), filepath.Join(binaries(t), "wg-quick"), "up", "wg0")
	if r.Code != 0 || !strings.Contains(r.Stderr, upWant) {
		t.Fatalf("up: exit %d, stderr:\n%s\nwant it to contain:\n%s", r.Code, r.Stderr, upWant)
	}
	if between != nil {
		between()
	}
	r = a.RunEnv(quickEnv(t, env...), filepath.Join(binaries(t), "wg-quick"), "down", "wg0")
	if r.Code != 0 || !strings.Contains(r.Stderr, downWant) {
		t.Errorf("down: exit %d, stderr:\n%s\nwant it to contain:\n%s", r.Code, r.Stderr, downWant)
	}
	diffState(t, "after down", before, waitNoProcesses(a, before))
}

const (
	ftRules6 = "[#] ip -6 rule add not fwmark 51820 table 51820\n[#] ip -6 rule add table main suppress_prefixlength 0\n[#] ip -6 route add ::/0 dev wg0 table 51820\n"
	ftDel    = "[#] ip -4 rule delete table 51820\n[#] ip -4 rule delete table main suppress_prefixlength 0\n" +
		"[#] ip -6 rule delete table 51820\n[#] ip -6 rule delete table main suppress_prefixlength 0\n"
)

// TestFullTunnelCases: the full tunnel's variants and failures, each
// leaving the host as it found it.
func TestFullTunnelCases(t *testing.T) {
	testnet.Require(t)
	t.Run("fwmark-set", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("FwMark = 0x1234\n", "0.0.0.0/0, ::/0"))
		upDown(t, a, nil, "[#] ip link set mtu 1420 up dev wg0\n[#] ip -6 rule add not fwmark 4660 table 4660\n",
			"[#] ip -4 rule delete table 4660\n", func() {
				if !pingUntil(a, "10.0.0.1", 20) {
					t.Error("no ping through the tunnel")
				}
				mustContain(t, "ip rule", a.MustRun("ip", "-4", "rule"), "not from all fwmark 0x1234 lookup 4660")
			})
	})
	t.Run("preup-adds-default", func(t *testing.T) {
		// The /0 comes from a PreUp hook, not the file: routes follow the
		// device.
		a, _ := ftHosts(t, strings.Replace(ftConf("PreUp = wg set %i peer "+refKeyCPub+" allowed-ips 0.0.0.0/0\n", "10.0.0.1/32"),
			"10.0.0.2/32, fd00::2/128", "10.0.0.2/32", 1))
		upDown(t, a, nil, "[#] ip -4 route add 10.0.0.1/32 dev wg0\n[#] wg set wg0 fwmark 51820\n[#] ip -4 rule add not fwmark 51820 table 51820\n",
			"[#] ip -4 rule delete table 51820\n", func() {
				if !pingUntil(a, "10.0.0.1", 20) {
					t.Error("no ping through the tunnel")
				}
			})
	})
	t.Run("table51820-busy", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("", "0.0.0.0/0, ::/0"))
		a.MustRun("ip", "route", "add", "203.0.113.0/24", "via", "192.0.2.2", "table", "51820")
		upDown(t, a, nil, "[#] wg set wg0 fwmark 51821\n[#] ip -6 rule add not fwmark 51821 table 51821\n",
			"[#] ip -4 rule delete table 51821\n", nil)
	})
	t.Run("table-main", func(t *testing.T) {
		a, _ := ftHosts(t, strings.Replace(ftConf("Table = main\n", "10.0.0.2/32, 192.168.1.0/24, 0.0.0.0/0"), "10.0.0.2/32, fd00::2/128", "10.0.0.1/24", 1))
		upFails(t, a, nil, 2, "[#] ip -4 route add 192.168.1.0/24 dev wg0 table main\n[#] ip -4 route add 0.0.0.0/0 dev wg0 table main\n"+
			"RTNETLINK answers: File exists\n[#] ip link delete dev wg0\n")
	})
	t.Run("table-1234", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("Table = 1234\n", "0.0.0.0/0, ::/0"))
		upDown(t, a, nil, "[#] ip link set mtu 1420 up dev wg0\n[#] ip -6 route add ::/0 dev wg0 table 1234\n[#] ip -4 route add 0.0.0.0/0 dev wg0 table 1234\n",
			"[#] ip link delete dev wg0\n", func() {
				if rules := a.MustRun("ip", "-4", "rule"); strings.Contains(rules, "1234") || strings.Contains(rules, "suppress") {
					t.Errorf("rules with Table = 1234:\n%s", rules)
				}
			})
	})
	t.Run("postup-fails", func(t *testing.T) {
		// The reference's errors/up-postup-fails (there wg3, IPv4 only).
		a, _ := ftHosts(t, ftConf("PostUp = echo about to fail; exit 7\nPostDown = echo should-not-run\n", "0.0.0.0/0"))
		upFails(t, a, nil, 7, "[#] nft -f /dev/fd/63\n[#] echo about to fail; exit 7\n[#] nft -f /dev/fd/63\n"+
			"[#] ip -4 rule delete table 51820\n[#] ip -4 rule delete table main suppress_prefixlength 0\n[#] ip link delete dev wg0\n"+svmRestore)
	})
	t.Run("firewall-fails", func(t *testing.T) {
		// iptables forced, and not in PATH.
		a, _ := ftHosts(t, ftConf("", "0.0.0.0/0, ::/0"))
		env := []string{"WG_QUICK_FIREWALL=iptables", "PATH=" + filepath.Join(binaries(t), "stubbin") + ":" + binaries(t) + ":/usr/bin:/bin"}
		upFails(t, a, env, 1, ftRules6+"[#] ip6tables-restore -n\nwg-quick: ip6tables: program not found\n"+
			"[#] ip -6 rule delete table 51820\n[#] ip -6 rule delete table main suppress_prefixlength 0\n[#] ip link delete dev wg0\n")
	})
	t.Run("bad-WG_QUICK_FIREWALL", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("", "0.0.0.0/0, ::/0"))
		upFails(t, a, []string{"WG_QUICK_FIREWALL=pf"}, 1, "wg-quick: WG_QUICK_FIREWALL=\"pf\": want nftables, iptables or auto\n")
		// Only up reads it: a wrong value does not stop a down.
		upDown(t, a, []string{"WG_QUICK_FIREWALL=nft"}, "[#] nft -f /dev/fd/63\n", "[#] nft -f /dev/fd/63\n", func() {
			if r := a.RunEnv(quickEnv(t, "WG_QUICK_FIREWALL=pf"), filepath.Join(binaries(t), "wg-quick"), "save", "wg0"); r.Code != 0 {
				t.Errorf("save with a wrong WG_QUICK_FIREWALL: exit %d\n%s", r.Code, r.Stderr)
			}
		})
	})
	t.Run("sigterm", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("PostUp = sleep 30\n", "0.0.0.0/0, ::/0"))
		before := a.Snapshot()
		cmd, stderr, done := startUp(t, a, "[#] sleep 30")
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		<-done
		if code := cmd.ProcessState.ExitCode(); code != 143 {
			t.Errorf("exit %d", code)
		}
		want := "[!] Interrupted by SIGTERM: undoing what was done.\n[#] nft -f /dev/fd/63\n" + ftDel + "[#] ip link delete dev wg0\n" + svmRestore
		if !strings.HasSuffix(stderr.String(), want) {
			t.Errorf("stderr:\n%s\nwant it to end with:\n%s", stderr.String(), want)
		}
		diffState(t, "after SIGTERM", before, waitNoProcesses(a, before))
	})
	t.Run("killed-up", func(t *testing.T) {
		// up killed (SIGKILL) while its PostUp runs: the next down cleans
		// up the full tunnel too.
		a, _ := ftHosts(t, ftConf("PostUp = sleep 30\n", "0.0.0.0/0, ::/0"))
		before := a.Snapshot()
		cmd, _, done := startUp(t, a, "[#] sleep 30")
		sleeper := hookSleep(t, a)
		cmd.Process.Kill()
		cmd.Wait()
		<-done
		killGroup(t, sleeper)
		r := mustQuick(t, a, "down", "wg0")
		mustContain(t, "down after a killed up", r.Stderr, ftDel+"[#] ip link delete dev wg0\n[#] nft -f /dev/fd/63\n"+svmRestore)
		diffState(t, "down after a killed up", before, waitNoProcesses(a, before))
	})
	t.Run("two-interfaces", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("", "0.0.0.0/0, ::/0"))
		conf1 := strings.Replace(strings.Replace(ftConf("", "0.0.0.0/0, ::/0"), refKeyAPriv, refKeyCPriv, 1), "10.0.0.2/32, fd00::2/128", "10.0.1.2/32, fd00:1::2/128", 1)
		a.WriteFile("/etc/wireguard/wg1.conf", []byte(conf1), 0o600)
		before := a.Snapshot()
		mustQuick(t, a, "up", "wg0")
		up1 := mustQuick(t, a, "up", "wg1")
		mustContain(t, "second up", up1.Stderr, "[#] wg set wg1 fwmark 51821\n")
		if strings.Contains(up1.Stderr, "sysctl") {
			t.Errorf("second up set src_valid_mark again:\n%s", up1.Stderr)
		}
		down0 := mustQuick(t, a, "down", "wg0")
		want := "[#] ip -4 rule delete table 51820\n[#] ip -4 rule delete pref 32764 table main suppress_prefixlength 0\n" +
			"[#] ip -6 rule delete table 51820\n[#] ip -6 rule delete pref 32764 table main suppress_prefixlength 0\n[#] ip link delete dev wg0\n[#] nft -f /dev/fd/63\n"
		if down0.Stderr != want {
			t.Errorf("down wg0:\n%s\nwant:\n%s", down0.Stderr, want)
		}
		// wg1's tunnel still has its suppress rule, before its own rule.
		for fam, want := range map[string]string{"-4": "32762:\tfrom all lookup main suppress_prefixlength 0\n32763:\tnot from all fwmark 0xca6d lookup 51821\n",
			"-6": "32762:\tfrom all lookup main suppress_prefixlength 0\n32763:\tnot from all fwmark 0xca6d lookup 51821\n"} {
			mustContain(t, "ip "+fam+" rule", a.MustRun("ip", fam, "rule"), want)
		}
		mustContain(t, "route get 192.0.2.2", a.MustRun("ip", "route", "get", "192.0.2.2"), "192.0.2.2 dev eth0")
		mustContain(t, "route get 198.51.100.7", a.MustRun("ip", "route", "get", "198.51.100.7"), "dev wg1 table 51821")
		mustContain(t, "src_valid_mark", a.MustRun("sysctl", "net.ipv4.conf.all.src_valid_mark"), "= 1")
		down1 := mustQuick(t, a, "down", "wg1")
		mustContain(t, "down wg1", down1.Stderr, "[#] ip -4 rule delete table main suppress_prefixlength 0\n")
		mustContain(t, "down wg1", down1.Stderr, svmRestore)
		diffState(t, "after both downs", before, waitNoProcesses(a, before))
	})
	t.Run("down-link-deleted", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("DNS = 10.0.0.53\n", "0.0.0.0/0, ::/0"))
		upDown(t, a, nil, "[#] nft -f /dev/fd/63\n", "[!] `wg0' no longer exists: removing what it left behind.\n"+ftDel+
			"[#] resolvconf -d wg0 -f\n[#] nft -f /dev/fd/63\n"+svmRestore, func() {
			a.MustRun("ip", "link", "delete", "wg0")
		})
		r := wgQuick(t, a, "down", "wg0")
		if r.Code != 1 || r.Stderr != "wg-quick: `wg0' is not a WireGuard interface\n" {
			t.Errorf("down with nothing left: exit %d\n%s", r.Code, r.Stderr)
		}
	})
	t.Run("down-link-deleted-iptables", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("", "0.0.0.0/0, ::/0"))
		withIPTablesTables(t, a)
		upDown(t, a, []string{"WG_QUICK_FIREWALL=iptables"}, "[#] iptables-restore -n\n", "[!] `wg0' no longer exists: removing what it left behind.\n"+ftDel+
			"[#] iptables-restore -n\n[#] ip6tables-restore -n\n"+svmRestore, func() {
			a.MustRun("ip", "link", "delete", "wg0")
		})
	})
	t.Run("rules-exist", func(t *testing.T) {
		// An administrator's suppress rule, and a table rule left by a
		// crash: a rollback leaves both; down removes both (as the
		// reference's greedy loops do).
		a, _ := ftHosts(t, ftConf("PostUp = exit 3\n", "0.0.0.0/0"))
		a.MustRun("ip", "rule", "add", "pref", "1000", "table", "main", "suppress_prefixlength", "0")
		a.MustRun("ip", "rule", "add", "pref", "1001", "not", "fwmark", "51820", "table", "51820")
		upFails(t, a, nil, 3, "[#] exit 3\n[#] nft -f /dev/fd/63\n[#] ip -4 rule delete table 51820\n[#] ip -4 rule delete table main suppress_prefixlength 0\n")
		a.WriteFile("/etc/wireguard/wg0.conf", []byte(ftConf("", "0.0.0.0/0")), 0o600)
		mustQuick(t, a, "up", "wg0")
		if !pingUntil(a, "10.0.0.1", 20) {
			t.Error("no ping through the tunnel")
		}
		down := mustQuick(t, a, "down", "wg0")
		want := "[#] ip -4 rule delete table 51820\n[#] ip -4 rule delete table 51820\n" +
			"[#] ip -4 rule delete table main suppress_prefixlength 0\n[#] ip -4 rule delete table main suppress_prefixlength 0\n"
		mustContain(t, "down", down.Stderr, want)
		if rules := a.MustRun("ip", "-4", "rule"); strings.Contains(rules, "51820") || strings.Contains(rules, "suppress") {
			t.Errorf("rules left:\n%s", rules)
		}
	})
	// IPv6 off on the interface only (by a PreUp; off on the whole host,
	// the IPv6 parts are skipped: TestIPv6DisabledTunnel).
	t.Run("ipv6-disabled", func(t *testing.T) {
		a, _ := ftHosts(t, strings.Replace(ftConf("PreUp = sysctl -q net.ipv6.conf.%i.disable_ipv6=1\n", "0.0.0.0/0, ::/0"), "10.0.0.2/32, fd00::2/128", "10.0.0.2/32", 1))
		upFails(t, a, nil, 1, "[#] ip link set mtu 1420 up dev wg0\nwg-quick: cannot route ::/0 through `wg0': IPv6 is disabled on it "+
			"(net.ipv6.conf.wg0.disable_ipv6 = 1); enable IPv6, or remove ::/0 from AllowedIPs\n[#] ip link delete dev wg0\n")
	})
	t.Run("proc-sys-read-only", func(t *testing.T) {
		a, _ := ftHosts(t, ftConf("", "0.0.0.0/0, ::/0"))
		a.MustRun("sh", "-c", "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys")
		upFails(t, a, nil, 1, "[#] sysctl -q net.ipv4.conf.all.src_valid_mark=1\nwg-quick: setting net.ipv4.conf.all.src_valid_mark=1: "+
			"/proc/sys is mounted read-only (as in many containers): open /proc/sys/net/ipv4/conf/all/src_valid_mark: read-only file system; "+
			"set it where the container is made "+
			"(docker run --sysctl net.ipv4.conf.all.src_valid_mark=1)\n[#] nft -f /dev/fd/63\n"+ftDel+"[#] ip link delete dev wg0\n")
	})
}

// withIPTablesTables gives a host iptables' raw and mangle tables (both
// families) as a host that ever used iptables has them: iptables makes
// them on first use and they stay, with the reference as with us, so a
// state compared before and after must start with them.
func withIPTablesTables(t *testing.T, h *testnet.Host) {
	t.Helper()
	h.MustRun("sh", "-c", "for t in ip6tables iptables; do $t -t raw -A PREROUTING -j ACCEPT && $t -t raw -D PREROUTING -j ACCEPT && "+
		"$t -t mangle -A POSTROUTING -j ACCEPT && $t -t mangle -D POSTROUTING -j ACCEPT && "+
		"$t -t mangle -A PREROUTING -j ACCEPT && $t -t mangle -D PREROUTING -j ACCEPT || exit 1; done")
}
