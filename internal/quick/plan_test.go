package quick

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/netlinkx"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const refDir = "../../testdata/reference/wg-quick"

// Test keys (those of the reference captures, testdata/reference/wg-quick/_tools/lib.sh).
const (
	keyAPriv = "kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8="
	keyBPub  = "Xt9quZAyypsVNY/hSlxiMWomz3XLP4tok86WEj9CuE8="
	keyCPub  = "jqpiImZJaNTgv/iVZjoLCjERwTqd2QwnzSOluXfJaWo="
)

func loadText(t *testing.T, text string) *Loaded {
	t.Helper()
	path := "/etc/wireguard/wg0.conf"
	f, err := conf.ParseQuick(path, []byte(text), &conf.Options{Tables: func(n string) (uint32, bool) {
		return map[string]uint32{"main": 254, "vpn": 200}[n], n == "main" || n == "vpn"
	}})
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	return &Loaded{Interface: "wg0", Path: path, File: f}
}

type verbFunc func(context.Context, *Sys, *Loaded) int

var verbsByName = map[string]verbFunc{"up": Up, "down": Down, "save": Save}

// runVerb runs one verb on the fake and renders what happened.
func runVerb(t *testing.T, f *fakeHost, l *Loaded, verb string) (out string, code int) {
	t.Helper()
	f.log = nil
	f.stdout.Reset()
	f.stderr.Reset()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	f.cancel = cancel
	code = verbsByName[verb](ctx, f.sys(), l)
	var b strings.Builder
	fmt.Fprintf(&b, "== %s: exit %d\n-- stderr --\n%s", verb, code, f.stderr.String())
	if f.stdout.Len() > 0 {
		fmt.Fprintf(&b, "-- stdout --\n%s", f.stdout.String())
	}
	fmt.Fprintf(&b, "-- done --\n%s\n", strings.Join(f.log, "\n"))
	return b.String(), code
}

// state renders the fake's links, addresses, routes and rules.
func (f *fakeHost) state() string {
	var b strings.Builder
	for _, l := range f.links {
		fmt.Fprintf(&b, "link %d %s kind=%s mtu=%d up=%v addrs=%v\n", l.Index, l.Name, l.Kind, l.MTU, l.up, l.addrs)
	}
	for _, r := range f.routes {
		fmt.Fprintf(&b, "route %s dev %d table %d\n", r.Dst, r.LinkIndex, r.Table)
	}
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		for _, r := range f.rules[fam] {
			fmt.Fprintf(&b, "rule %s\n", netlinkx.RuleAdd{Rule: r}.String())
		}
	}
	for k, v := range f.resolv {
		fmt.Fprintf(&b, "resolvconf %s %q\n", k, v)
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "plans", name+".golden")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (-want +got):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff is a small line diff for test failures.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&out, "line %d:\n-%s\n+%s\n", i+1, x, y)
		}
	}
	return out.String()
}

func refConf(t *testing.T, c string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refDir, c, "input-A-wg0.conf"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

const baseConf = `[Interface]
Address = 10.0.0.1/24
PrivateKey = ` + keyAPriv + `
%s
[Peer]
PublicKey = ` + keyBPub + `
AllowedIPs = 10.0.0.2/32, 192.168.1.0/24
Endpoint = 192.0.2.2:51820
`

func withIface(extra string) string { return fmt.Sprintf(baseConf, extra) }

// TestPlans runs up (and down, save) on the in-memory machine and compares
// the trace, the exit status, everything done, and the machine's state
// after, with golden files.
func TestPlans(t *testing.T) {
	cases := []struct {
		name  string
		conf  string
		setup func(f *fakeHost)
		verbs []string
	}{
		{name: "p2p", conf: "ref:p2p", verbs: []string{"up", "down"}},
		{name: "server-fwd-masq", conf: "ref:server-fwd-masq", verbs: []string{"up", "down"}},
		{name: "table-off", conf: "ref:table-off", verbs: []string{"up", "down"}},
		{name: "table-1234", conf: "ref:table-1234", verbs: []string{"up", "down"}},
		{name: "mtu-explicit", conf: "ref:mtu-explicit", verbs: []string{"up", "save", "down"}},
		{name: "mtu-auto-no-endpoint", conf: "ref:mtu-auto-no-endpoint", setup: func(f *fakeHost) { f.link("eth0").MTU = 1400 }, verbs: []string{"up", "down"}},
		{name: "ipv6", conf: "ref:ipv6", verbs: []string{"up", "down"}},
		{name: "dns", conf: "ref:dns", verbs: []string{"up", "save", "down"}},
		{name: "saveconfig", conf: "ref:saveconfig", verbs: []string{"up", "save", "down"}},
		{name: "kernel-module", conf: "ref:p2p", setup: func(f *fakeHost) { f.kmod = true }, verbs: []string{"up", "down"}},
		{name: "dns-tun-prefix", conf: "ref:dns", setup: func(f *fakeHost) {
			f.files[interfaceOrder] = "# comment\nlo.inet*\ntun*\ntap*\n"
		}, verbs: []string{"up", "down"}},
		{name: "table-name", conf: withIface("Table = vpn\n"), verbs: []string{"up", "down"}},
		{name: "mtu-smallest-endpoint", conf: withIface("") + "\n[Peer]\nPublicKey = " + keyCPub + "\nAllowedIPs = 10.0.0.3/32\nEndpoint = 203.0.113.5:51820\n",
			setup: func(f *fakeHost) {
				f.routes = append(f.routes, netlinkx.Route{Dst: netip.MustParsePrefix("203.0.113.0/24"), LinkIndex: 2, Table: 254, MTU: 1300})
			}, verbs: []string{"up"}},
		{name: "mtu-endpoint-unreachable", conf: strings.Replace(withIface(""), "192.0.2.2:", "203.0.113.9:", 1), setup: func(f *fakeHost) {
			f.routes = nil // no route to the endpoint, no default route: 1500
			f.link("eth0").MTU = 9000
		}, verbs: []string{"up"}},
		// Failures and rollbacks.
		{name: "exists", conf: "ref:p2p", setup: func(f *fakeHost) { f.addLink("wg0", "veth", 1500) }, verbs: []string{"up", "down"}},
		{name: "preup-fails", conf: withIface("PreUp = false\n"), verbs: []string{"up"}},
		{name: "postup-fails", conf: withIface("DNS = 10.0.0.53\nPostUp = echo about to fail; exit 7\nPostDown = echo should-not-run\n"), verbs: []string{"up"}},
		{name: "route-exists", conf: withIface("DNS = 10.0.0.53\n"), setup: func(f *fakeHost) {
			f.routes = append(f.routes, netlinkx.Route{Dst: netip.MustParsePrefix("192.168.1.0/24"), LinkIndex: 2, Table: 254})
		}, verbs: []string{"up"}},
		{name: "mtu-too-small", conf: withIface(""), setup: func(f *fakeHost) {
			f.routes = append(f.routes, netlinkx.Route{Dst: netip.MustParsePrefix("192.0.2.2/32"), LinkIndex: 2, Table: 254, MTU: 100})
		}, verbs: []string{"up"}},
		{name: "no-resolvconf", conf: withIface("DNS = 10.0.0.53\n"), setup: func(f *fakeHost) { delete(f.programs, "resolvconf") }, verbs: []string{"up"}},
		{name: "addconf-fails", conf: withIface(""), setup: func(f *fakeHost) { f.failOps["configure wg0"] = syscall.EADDRINUSE }, verbs: []string{"up"}},
		{name: "embedded-fails", conf: withIface(""), setup: func(f *fakeHost) {
			f.failOps["start embedded wg0"] = errors.New("Failed to create TUN device: no such device")
		}, verbs: []string{"up"}},
		{name: "kernel-add-fails", conf: withIface(""), setup: func(f *fakeHost) {
			f.kmod = true
			f.failOps["ip link add dev wg0 type wireguard"] = syscall.EPERM
		}, verbs: []string{"up"}},
		{name: "fulltunnel-refused", conf: "ref:fulltunnel-nft", verbs: []string{"up"}},
		{name: "signal-mid-up", conf: withIface("DNS = 10.0.0.53\n"), setup: func(f *fakeHost) {
			f.cancelOn = "ip -4 address add 10.0.0.1/24 dev wg0"
		}, verbs: []string{"up"}},
		{name: "not-wireguard", conf: withIface(""), verbs: []string{"down", "save"}},
		{name: "predown-fails", conf: withIface("PreDown = exit 3\nPostDown = echo never\n"), verbs: []string{"up", "down", "down"}},
		{name: "down-fulltunnel-rules", conf: "ref:fulltunnel-nft", setup: func(f *fakeHost) {
			// What a full-tunnel up leaves: fwmark, /0 allowed IPs, two
			// rules per family (and one rule of someone else's).
			l := f.addLink("wg0", "tun", 1420)
			l.up = true
			f.devices["wg0"] = &conf.Device{Name: "wg0", FwMark: 51820, Peers: []conf.DevicePeer{{
				AllowedIPs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}}}
			for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
				f.rules[fam] = append(f.rules[fam],
					netlinkx.Rule{Family: fam, Table: unix.RT_TABLE_MAIN, SuppressPrefixlen: 0, Priority: 32764},
					netlinkx.Rule{Family: fam, Not: true, FwMark: 51820, Table: 51820, SuppressPrefixlen: -1, Priority: 32765})
			}
			f.rules[unix.AF_INET] = append(f.rules[unix.AF_INET], netlinkx.Rule{Family: unix.AF_INET, Table: 100, SuppressPrefixlen: -1, Priority: 100})
		}, verbs: []string{"down"}},
		{name: "save-write-fails", conf: withIface("SaveConfig = true\n"), setup: func(f *fakeHost) {
			f.failOps["write /etc/wireguard/wg0.conf"] = &WriteError{Moving: true, Err: syscall.EXDEV}
		}, verbs: []string{"up", "save", "down"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := c.conf
			if ref, ok := strings.CutPrefix(text, "ref:"); ok {
				text = refConf(t, ref)
			}
			f := newFakeHost()
			if c.setup != nil {
				c.setup(f)
			}
			before := f.state()
			l := loadText(t, text)
			var b strings.Builder
			for _, v := range c.verbs {
				out, _ := runVerb(t, f, l, v)
				b.WriteString(out)
				f.cancelOn = ""
			}
			after := f.state()
			fmt.Fprintf(&b, "== state after (same as before: %v)\n%s", before == after, after)
			golden(t, c.name, b.String())
		})
	}
}

// sortPeers puts a config's [Peer] sections in a fixed order.
func sortPeers(s string) string {
	head, rest, _ := strings.Cut(s, "\n[Peer]\n")
	peers := strings.Split(strings.TrimSuffix(rest, "\n"), "\n\n[Peer]\n")
	slices.Sort(peers)
	return head + "\n[Peer]\n" + strings.Join(peers, "\n\n[Peer]\n")
}

// traceLines keeps the "[#] ..." lines of a trace.
func traceLines(s string) []string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(line, "[#] ") {
			out = append(out, line)
		}
	}
	return out
}

// TestReferenceTraces compares our "[#]" lines with the reference's for
// the captured cases (its fallback line "[#] wireguard-go IF" included,
// which we print for the embedded device too).
func TestReferenceTraces(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(f *fakeHost)
		// between runs after up: the reference's own changes.
		between func(t *testing.T, f *fakeHost)
		verbs   []string
	}{
		{name: "p2p", verbs: []string{"up", "down"}},
		{name: "server-fwd-masq", verbs: []string{"up", "down"}},
		{name: "table-off", verbs: []string{"up", "down"}},
		{name: "table-1234", verbs: []string{"up", "down"}},
		{name: "mtu-explicit", verbs: []string{"up", "save", "down"}},
		{name: "mtu-auto-no-endpoint", setup: func(f *fakeHost) { f.link("eth0").MTU = 1400 }, verbs: []string{"up", "down"}},
		{name: "ipv6", verbs: []string{"up", "down"}},
		{name: "dns", verbs: []string{"up", "save", "down"}},
		{name: "saveconfig", between: func(t *testing.T, f *fakeHost) {
			// wg set wg0 listen-port 51999 peer C allowed-ips 10.0.0.3/32,192.168.50.0/24 persistent-keepalive 15
			// ip addr add 10.0.0.100/24 dev wg0
			cfg, err := conf.ParseSetArgs([]string{"listen-port", "51999", "peer", keyCPub, "allowed-ips", "10.0.0.3/32,192.168.50.0/24", "persistent-keepalive", "15"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := (fakeDevices{f}).Configure("wg0", cfg); err != nil {
				t.Fatal(err)
			}
			f.link("wg0").addrs = append(f.link("wg0").addrs, netip.MustParsePrefix("10.0.0.100/24"))
		}, verbs: []string{"up", "save", "down"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeHost()
			if c.setup != nil {
				c.setup(f)
			}
			l := loadText(t, refConf(t, c.name))
			for i, v := range c.verbs {
				if i == 1 && c.between != nil {
					c.between(t, f)
				}
				out, code := runVerb(t, f, l, v)
				_ = out
				ref, err := os.ReadFile(filepath.Join(refDir, c.name, "A-"+v+".stderr"))
				if err != nil {
					t.Fatal(err)
				}
				want, got := traceLines(string(ref)), traceLines(f.stderr.String())
				if strings.Join(want, "\n") != strings.Join(got, "\n") {
					t.Errorf("%s: trace differs from the reference's:\n--- reference\n%s\n--- ours\n%s", v, strings.Join(want, "\n"), strings.Join(got, "\n"))
				}
				rc, _ := os.ReadFile(filepath.Join(refDir, c.name, "A-"+v+".rc"))
				if strings.TrimSpace(string(rc)) != fmt.Sprint(code) {
					t.Errorf("%s: exit %d, reference %s", v, code, rc)
				}
				if v == "save" {
					ref, err := os.ReadFile(filepath.Join(refDir, c.name, "A-wg0.conf-after-save.txt"))
					if err != nil {
						t.Fatal(err)
					}
					// The reference's TUN had an IPv6 link-local address; ours has none.
					want := regexp.MustCompile(`(?m)^Address = fe80::.*\n`).ReplaceAllString(string(ref), "")
					// Its random ListenPort and peer order are its own.
					want = regexp.MustCompile(`(?m)^ListenPort = .*\n`).ReplaceAllString(want, "ListenPort = X\n")
					got := regexp.MustCompile(`(?m)^ListenPort = .*\n`).ReplaceAllString(f.files[l.Path], "ListenPort = X\n")
					if sortPeers(got) != sortPeers(want) {
						t.Errorf("saved file differs:\n--- reference (link-local removed)\n%s--- ours\n%s", want, got)
					}
				}
			}
		})
	}
}
