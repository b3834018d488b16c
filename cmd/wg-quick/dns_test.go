package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// DNS with the real managers (issue 16), each in a host's private mount
// namespace (see testnet.InstallDeb): Debian's resolvconf and openresolv,
// where we must do exactly what the reference does (compared side by side
// with the reference on a twin host), and systemd-resolved over D-Bus.

// dnsConf is a tunnel with DNS servers and a search domain; full adds a
// default route.
func dnsConf(full bool, extra string) string {
	allowed := "10.0.0.2/32"
	if full {
		allowed = "0.0.0.0/0"
	}
	return "[Interface]\nPrivateKey = " + relPriv + "\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53, fd00::53, example.com\n" + extra +
		"\n[Peer]\nPublicKey = " + relPeerPub + "\nAllowedIPs = " + allowed + "\n"
}

// ourEnv is our wg-quick's environment without the stub resolvconf: the
// host's own DNS manager (or none) is what counts.
func ourEnv(t testing.TB) []string {
	return []string{"PATH=" + binaries(t) + ":" + basePath, "HOME=/root"}
}

// refEnv runs the reference wg-quick on wireguard-go (this kernel may
// have no WireGuard module).
var refEnv = []string{"PATH=" + basePath, "HOME=/root",
	"WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go", "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1"}

// withResolvconf gives h the real resolvconf pkg, with a record for its
// LAN (192.0.2.53) as a DHCP client would have made.
func withResolvconf(t *testing.T, h *testnet.Host, pkg string) {
	h.InstallDeb(pkg)
	switch pkg {
	case "resolvconf":
		// What the package's postinst and tmpfiles.d would have made.
		h.MustRun("sh", "-c", "mkdir -p /run/resolvconf/interface && touch /run/resolvconf/enable-updates && "+
			"ln -sf ../run/resolvconf/resolv.conf /etc/resolv.conf")
		runStdin(t, h, []string{"PATH=" + basePath}, "nameserver 192.0.2.53\n", "resolvconf", "-a", "eth0.inet")
	case "openresolv":
		runStdin(t, h, []string{"PATH=" + basePath}, "nameserver 192.0.2.53\n", "resolvconf", "-a", "eth0")
	}
}

func traceWith(stderr, word string) string {
	var out []string
	for l := range strings.SplitSeq(stderr, "\n") {
		if strings.HasPrefix(l, "[#] ") && strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDNSRealResolvconf: with Debian's resolvconf (which gets the tun.
// prefix) and with openresolv, up and down call resolvconf as the
// reference does, and /etc/resolv.conf reads as the reference leaves it,
// up and down.
func TestDNSRealResolvconf(t *testing.T) {
	testnet.Require(t)
	for _, p := range []string{"/usr/bin/wg-quick", "/usr/bin/wg", "/usr/bin/wireguard-go"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("needs the reference (%s: Debian packages wireguard-tools, wireguard-go)", p)
		}
	}
	for _, c := range []struct{ pkg, name string }{{"resolvconf", "tun.wg0"}, {"openresolv", "wg0"}} {
		t.Run(c.pkg, func(t *testing.T) {
			testnet.RequireDeb(t, c.pkg)
			ours, ref := testnet.NewHost(t, "wgdns-o"), testnet.NewHost(t, "wgdns-r")
			for _, h := range []*testnet.Host{ours, ref} {
				withResolvconf(t, h, c.pkg)
				h.WriteFile("/etc/wireguard/wg0.conf", []byte(dnsConf(false, "")), 0o600)
			}
			before := ours.ReadFile("/etc/resolv.conf")
			if before != ref.ReadFile("/etc/resolv.conf") || !strings.Contains(before, "192.0.2.53") {
				t.Fatalf("the twins differ before up, or the LAN record is missing:\n%s", before)
			}
			run := func(h *testnet.Host, env []string, prog, verb string) string {
				r := h.RunEnv(env, prog, verb, "wg0")
				if r.Code != 0 {
					t.Fatalf("%s %s on %s: exit %d\n%s", prog, verb, h.Name, r.Code, r.Stderr)
				}
				return traceWith(r.Stderr, "resolvconf")
			}
			for _, verb := range []string{"up", "down"} {
				got := run(ours, ourEnv(t), filepath.Join(binaries(t), "wg-quick"), verb)
				want := run(ref, refEnv, "/usr/bin/wg-quick", verb)
				if got != want {
					t.Errorf("%s: resolvconf calls differ (- reference, + ours):\n%s", verb, difftest.Lines(want, got))
				}
				if verb == "up" && !strings.Contains(got, "resolvconf -a "+c.name+" -m 0 -x") {
					t.Errorf("up: no record %s:\n%s", c.name, got)
				}
				o, r := ours.ReadFile("/etc/resolv.conf"), ref.ReadFile("/etc/resolv.conf")
				if o != r {
					t.Errorf("%s: /etc/resolv.conf differs (- reference, + ours):\n%s", verb, difftest.Lines(r, o))
				}
				if up := strings.Contains(o, "10.0.0.53"); up != (verb == "up") {
					t.Errorf("%s: /etc/resolv.conf:\n%s", verb, o)
				}
			}
			if after := ours.ReadFile("/etc/resolv.conf"); after != before {
				t.Errorf("/etc/resolv.conf after down differs from before up:\n%s", difftest.Lines(before, after))
			}
		})
	}
}

// resolvedHost is a host with systemd-resolved running on its own system
// bus, and systemd's resolvconf (a link to resolvectl) as its only one.
func resolvedHost(t *testing.T, conf string) *testnet.Host {
	testnet.RequireDeb(t, "systemd-resolved")
	h := testnet.NewHost(t, "wgdns-d")
	h.StartResolved()
	if out := h.MustRun("readlink", "-f", "/sbin/resolvconf"); strings.TrimSpace(out) != "/usr/bin/resolvectl" {
		t.Fatalf("/sbin/resolvconf is not systemd's: %s", out)
	}
	h.WriteFile("/etc/wireguard/wg0.conf", []byte(conf), 0o600)
	return h
}

var linkIndex = regexp.MustCompile(`Link \d+ `)

// linkDNS is what resolved has for wg0, as resolvectl shows it.
func linkDNS(h *testnet.Host) string {
	var b strings.Builder
	for _, what := range []string{"dns", "domain", "default-route"} {
		r := h.Run("resolvectl", what, "wg0")
		b.WriteString(what + ": " + strings.TrimSpace(r.Stdout+r.Stderr) + "\n")
	}
	return b.String()
}

// TestDNSResolved: where the only resolvconf is systemd's, up sets the
// link's servers and search domains in systemd-resolved over D-Bus, its
// "[#] resolvectl ..." lines do the same when replayed, save keeps the
// file's DNS, and down reverts it, leaving the host as it was. A full
// tunnel routes every name to the link ("~.", default route); a split
// tunnel with search domains only those names (no default route).
func TestDNSResolved(t *testing.T) {
	testnet.Require(t)
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "split", true: "full-tunnel"}[full]
		t.Run(name, func(t *testing.T) {
			h := resolvedHost(t, dnsConf(full, ""))
			before := fullState(t, h, "wg0")
			r := h.RunEnv(ourEnv(t), filepath.Join(binaries(t), "wg-quick"), "up", "wg0")
			if r.Code != 0 {
				t.Fatalf("up: exit %d\n%s", r.Code, r.Stderr)
			}
			want := "[#] resolvectl dns wg0 10.0.0.53 fd00::53\n[#] resolvectl domain wg0 example.com"
			if full {
				want += " '~.'\n[#] resolvectl default-route wg0 yes"
			} else {
				want += "\n[#] resolvectl default-route wg0 no"
			}
			if got := traceWith(r.Stderr, "resolvectl"); got != want {
				t.Errorf("up's DNS lines:\n%s\nwant:\n%s", got, want)
			}
			set := linkDNS(h)
			wantSet := "dns: Link N (wg0): 10.0.0.53 fd00::53\ndomain: Link N (wg0): example.com\ndefault-route: Link N (wg0): "
			if full {
				wantSet = strings.Replace(wantSet, "example.com", "example.com ~.", 1) + "yes\n"
			} else {
				wantSet += "no\n"
			}
			if got := ifIndex.ReplaceAllString(linkIndex.ReplaceAllString(set, "Link N "), "N: "); got != wantSet {
				t.Errorf("resolved has:\n%s\nwant:\n%s", got, wantSet)
			}
			// The lines, replayed by hand after a revert, set the same.
			h.MustRun("resolvectl", "revert", "wg0")
			for l := range strings.SplitSeq(want, "\n") {
				h.MustRun("sh", "-c", strings.TrimPrefix(l, "[#] "))
			}
			if again := linkDNS(h); again != set {
				t.Errorf("the [#] lines replayed set (+) otherwise than up (-):\n%s", difftest.Lines(set, again))
			}
			// save reads the servers back and keeps the file's search domain.
			if s := h.RunEnv(ourEnv(t), filepath.Join(binaries(t), "wg-quick"), "save", "wg0"); s.Code != 0 {
				t.Errorf("save: exit %d\n%s", s.Code, s.Stderr)
			}
			if saved := h.ReadFile("/etc/wireguard/wg0.conf"); !strings.Contains(saved, "DNS = 10.0.0.53, fd00::53, example.com\n") {
				t.Errorf("save lost the DNS line:\n%s", saved)
			}
			d := h.RunEnv(ourEnv(t), filepath.Join(binaries(t), "wg-quick"), "down", "wg0")
			if d.Code != 0 || !strings.HasPrefix(traceWith(d.Stderr, ""), "[#] resolvectl revert wg0\n") {
				t.Errorf("down: exit %d\n%s", d.Code, d.Stderr)
			}
			diffState(t, "after up and down", before, waitState(t, h, before))
		})
	}
}

// TestDNSResolvedRollback: a failing PostUp takes the DNS back (revert)
// before the interface goes, and the host is as it was.
func TestDNSResolvedRollback(t *testing.T) {
	testnet.Require(t)
	h := resolvedHost(t, dnsConf(false, "PostUp = exit 7\n"))
	before := fullState(t, h, "wg0")
	r := h.RunEnv(ourEnv(t), filepath.Join(binaries(t), "wg-quick"), "up", "wg0")
	if r.Code != 7 || !strings.Contains(r.Stderr, "[#] exit 7\n[#] resolvectl revert wg0\n[#] ip link delete dev wg0\n") {
		t.Errorf("up: exit %d\n%s", r.Code, r.Stderr)
	}
	diffState(t, "after the rollback", before, waitState(t, h, before))
}

// TestDNSNoManager: with no resolvconf and no systemd-resolved (or only
// systemd's resolvconf, and resolved not running), up fails before it
// changes anything, saying what is missing.
func TestDNSNoManager(t *testing.T) {
	testnet.Require(t)
	for _, c := range []struct {
		name  string
		setup func(h *testnet.Host)
		want  string
	}{
		{"nothing", func(*testnet.Host) {}, "wg-quick: cannot set DNS for `wg0': there is no resolvconf in PATH and systemd-resolved cannot be reached on the system bus"},
		{"shim-without-resolved", func(h *testnet.Host) {
			h.InstallDeb("systemd-resolved")
			h.StartSystemBus()
		}, "wg-quick: cannot set DNS for `wg0': the only resolvconf (/usr/sbin/resolvconf) is systemd's, a link to resolvectl, and systemd-resolved is not running"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name != "nothing" {
				testnet.RequireDeb(t, "systemd-resolved")
			}
			h := testnet.NewHost(t, "wgdns-n")
			c.setup(h)
			if h.Run("sh", "-c", "command -v resolvconf").Code == 0 && c.name == "nothing" {
				t.Fatal("this machine has a resolvconf in PATH")
			}
			h.WriteFile("/etc/wireguard/wg0.conf", []byte(dnsConf(false, "")), 0o600)
			before := fullState(t, h, "wg0")
			r := h.RunEnv(ourEnv(t), filepath.Join(binaries(t), "wg-quick"), "up", "wg0")
			if r.Code != 1 || !strings.HasPrefix(r.Stderr, c.want) || strings.Contains(r.Stderr, "[#]") {
				t.Errorf("up: exit %d\n%s\nwant it to start with %q and change nothing", r.Code, r.Stderr, c.want)
			}
			diffState(t, "after the refused up", before, fullState(t, h, "wg0"))
		})
	}
}

// TestDoctorDNSResolved: where systemd-resolved (the real one, on the
// host's own bus) is the DNS manager, doctor reads what it holds for the
// link. After up, nothing is reported. After `resolvectl revert wg0`, the
// DNS is reported with up's own "[#] resolvectl" lines as the fix, and
// those lines, run as printed, make doctor find nothing again. In a full
// tunnel, a link that lost only its "~." routing domain is reported too.
func TestDoctorDNSResolved(t *testing.T) {
	testnet.Require(t)
	testnet.RequireDeb(t, "systemd-resolved")
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "split", true: "full-tunnel"}[full]
		t.Run(name, func(t *testing.T) {
			a, b := twoPeers(t)
			a.StartResolved()
			privA, pubA := keyPair(t)
			privB, pubB := keyPair(t)
			allowed := "10.0.0.2/32"
			if full {
				allowed = "0.0.0.0/0"
			}
			a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privA, "10.0.0.1/24", "51820", pubB, allowed, "192.0.2.2:51820",
				"DNS = 10.0.0.53, fd00::53, example.com\n")), 0o600)
			b.WriteFile("/etc/wireguard/wg0.conf", []byte(strings.NewReplacer("{PRIV}", privB, "{PUB}", pubA).Replace(docBConf)), 0o600)
			mustQuick(t, b, "up", "wg0")
			quick := filepath.Join(binaries(t), "wg-quick")
			up := a.RunEnv(ourEnv(t), quick, "up", "wg0")
			if up.Code != 0 {
				t.Fatalf("up: exit %d\n%s", up.Code, up.Stderr)
			}
			var upLines []string
			for l := range strings.SplitSeq(traceWith(up.Stderr, "resolvectl"), "\n") {
				upLines = append(upLines, strings.TrimPrefix(l, "[#] "))
			}
			if len(upLines) != 3 {
				t.Fatalf("up's resolvectl lines: %q\n%s", upLines, up.Stderr)
			}
			if !pingUntil(a, "10.0.0.2", 20) {
				t.Fatal("no ping through the tunnel")
			}
			doctor := func(what string, code int) string {
				t.Helper()
				r := a.RunEnv(ourEnv(t), quick, "doctor", "--watch", "0", "wg0")
				t.Logf("doctor, %s (exit %d):\n%s%s", what, r.Code, r.Stdout, r.Stderr)
				if r.Code != code {
					t.Fatalf("doctor, %s: exit %d, want %d\n%s%s", what, r.Code, code, r.Stdout, r.Stderr)
				}
				if code == 0 && r.Stdout != "wg0: no problem found\n" {
					t.Errorf("doctor, %s:\n%s", what, r.Stdout)
				}
				return r.Stdout
			}
			doctor("after up", 0)

			a.MustRun("resolvectl", "revert", "wg0")
			out := doctor("after resolvectl revert", 1)
			mustHold(t, "doctor's output", out, "problem [dns-not-applied] DNS: the file's DNS 10.0.0.53, fd00::53 is not in use",
				"  seen: systemd-resolved's link wg0 (read over D-Bus): servers none; domains none;")
			if got := fixCommands(out); strings.Join(got, "\n") != strings.Join(upLines, "\n") {
				t.Errorf("doctor's fix:\n%s\nwant up's lines:\n%s", strings.Join(got, "\n"), strings.Join(upLines, "\n"))
			}
			for _, c := range fixCommands(out) {
				if r := a.Sh(c); r.Code != 0 {
					t.Fatalf("%s: exit %d\n%s%s", c, r.Code, r.Stdout, r.Stderr)
				}
			}
			doctor("after its fix", 0)

			if full {
				a.MustRun("resolvectl", "domain", "wg0", "example.com")
				out := doctor("without ~.", 1)
				mustHold(t, "doctor's output", out, "the link's domains are example.com, the file's DNS makes them example.com ~.")
				if got := fixCommands(out); strings.Join(got, "\n") != strings.Join(upLines, "\n") {
					t.Errorf("doctor's fix without ~.:\n%s\nwant up's lines:\n%s", strings.Join(got, "\n"), strings.Join(upLines, "\n"))
				}
			}
		})
	}
}
