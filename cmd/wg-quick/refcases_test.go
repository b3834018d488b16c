package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// The golden-quick captures of the reference wg-quick (testdata/reference/
// wg-quick, see its README): each case is replayed with our wg-quick in the
// same topology, and the trace, exit status, standard output, resulting
// state and saved files are compared, after masking what differs by nature
// (MAC addresses, namespace ids, IPv6 link-local addresses, random ports,
// the reference wireguard-go's banner and the topology's "Peer netns
// reference is invalid" noise) and what we do differently on purpose (the
// TUN's flags and address generation mode: ours has no link-local address,
// like a kernel interface).

const refQuick = "../../testdata/reference/wg-quick"

// refTopology is the captures' namespaces: A (192.0.2.1, 2001:db8:1::1,
// default routes through B) and B (192.0.2.2, 2001:db8:1::2, and
// 192.168.1.1 on lo).
func refTopology(t *testing.T) (a, b *testnet.Host) {
	a, b = testnet.NewHost(t, "wgr-a"), testnet.NewHost(t, "wgr-b")
	testnet.Connect(t, a, b, "eth0")
	a.MustRun("ip", "addr", "add", "192.0.2.1/24", "dev", "eth0")
	a.MustRun("ip", "addr", "add", "2001:db8:1::1/64", "dev", "eth0", "nodad")
	b.MustRun("ip", "addr", "add", "192.0.2.2/24", "dev", "eth0")
	b.MustRun("ip", "addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad")
	a.MustRun("ip", "route", "add", "default", "via", "192.0.2.2")
	a.MustRun("ip", "-6", "route", "add", "default", "via", "2001:db8:1::2")
	b.MustRun("ip", "addr", "add", "192.168.1.1/24", "dev", "lo")
	return a, b
}

// readRef reads a file of capture c; a missing file fails the test (the
// comparison would have nothing to compare with).
func readRef(t *testing.T, c, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refQuick, c, name))
	if err != nil {
		t.Fatalf("the reference capture: %v", err)
	}
	return string(data)
}

// readRefOptional reads a file the captures leave out where it would be
// empty or does not apply: STEP.stdout (written only when not empty, see
// the captures' README), a second host's configuration. Any error but
// the file's absence fails the test.
func readRefOptional(t *testing.T, c, name string) (string, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refQuick, c, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatalf("the reference capture: %v", err)
	}
	return string(data), true
}

var (
	bannerLine  = regexp.MustCompile(`(?m)^[┌│└].*\n`)
	netnsNoise  = regexp.MustCompile(`(?m)^Error: Peer netns reference is invalid\.\n`)
	macAddr     = regexp.MustCompile(`link/ether [0-9a-f:]{17}`)
	linkNetns   = regexp.MustCompile(`link-netns(id)? \S+`)
	peerIndex   = regexp.MustCompile(`@if\d+`)
	tunFlags    = regexp.MustCompile(`tun type tun pi \w+ vnet_hdr \w+ persist \w+ addrgenmode \w+`)
	linkLocal   = regexp.MustCompile(`(?m)^.*fe80::.*\n(\s+valid_lft.*\n)?`)
	counters    = regexp.MustCompile(`\[\d+:\d+\]|counter packets \d+ bytes \d+`)
	listenPort  = regexp.MustCompile(`(?m)^ListenPort = \d+$`)
	tentativeRe = regexp.MustCompile(` tentative`)
	nftWarning  = regexp.MustCompile(`(?m)^# Warning: table .*\n`)
	randomPort  = regexp.MustCompile(`(?m)^(Endpoint = .*):(\d+)$`)
)

// normState masks a state file (ours or the reference's).
func normState(s string) string {
	s = netnsNoise.ReplaceAllString(s, "")
	s = macAddr.ReplaceAllString(s, "link/ether MAC")
	s = linkNetns.ReplaceAllString(s, "link-netns NS")
	s = peerIndex.ReplaceAllString(s, "@ifN")
	s = tunFlags.ReplaceAllString(s, "tun type tun (flags)")
	s = linkLocal.ReplaceAllString(s, "")
	s = counters.ReplaceAllString(s, "[N]")
	s = tentativeRe.ReplaceAllString(s, "")
	// nft's warning goes to stderr: where it lands among stdout's lines
	// depends on timing.
	s = nftWarning.ReplaceAllString(s, "")
	return s
}

// refSnap takes the snapshot files the reference's snap() takes.
func refSnap(t *testing.T, h *testnet.Host, iface string) map[string]string {
	t.Helper()
	out := func(name string, args ...string) string {
		r := h.Run(name, args...)
		return r.Stdout + r.Stderr
	}
	m := map[string]string{
		"ip-d-link.txt":            out("ip", "-d", "link"),
		"ip-addr.txt":              out("ip", "addr"),
		"ip-4-route-table-all.txt": out("ip", "-4", "route", "show", "table", "all"),
		"ip-6-route-table-all.txt": out("ip", "-6", "route", "show", "table", "all"),
		"ip-4-rule.txt":            out("ip", "-4", "rule"),
		"ip-6-rule.txt":            out("ip", "-6", "rule"),
		"nft-list-ruleset.txt":     out("nft", "list", "ruleset"),
		"iptables-save.txt":        dropHash(out("iptables-save")),
		"ip6tables-save.txt":       dropHash(out("ip6tables-save")),
		"sysctl.txt":               out("sysctl", "net.ipv4.conf.all.src_valid_mark"),
		"run-wireguard-ls.txt":     out("ls", "/run/wireguard"),
	}
	// The reference's wg reads our device (kernel or userspace), as in
	// the captures (needRefWG has checked that it is there).
	m["wg-showconf.txt"] = out("/usr/bin/wg", "showconf", iface)
	return m
}

// needRefWG skips t, saying so, without the reference's wg: the state
// comparisons read the device with it, as the captures did.
func needRefWG(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/wg"); err != nil {
		t.Skip("needs /usr/bin/wg (wireguard-tools): the captured state was read with it")
	}
}

func dropHash(s string) string {
	var keep []string
	for l := range strings.SplitSeq(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// compareState compares our state with the reference's state directory.
// The kernel finishes some work after the netlink call returns (an IPv6
// address's local route comes when the address is brought up, from a work
// queue), so a difference is looked at again for up to a second.
func compareState(t *testing.T, c, dir string, snap func() map[string]string, iface string) {
	t.Helper()
	var diffs []string
	for range 10 {
		if diffs = stateDiffs(c, dir, snap(), iface); len(diffs) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, d := range diffs {
		t.Error(d)
	}
}

func stateDiffs(c, dir string, ours map[string]string, iface string) []string {
	var diffs []string
	names := make([]string, 0, len(ours))
	for n := range ours {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(refQuick, c, dir, n))
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s/%s: no reference to compare with: %v", dir, n, err))
			continue
		}
		ref := string(data)
		got := ours[n]
		if n == "run-wireguard-ls.txt" {
			// The captures shared one /run/wireguard between both
			// namespaces; keep the lines of this one's interface.
			ref = keepMatching(ref, iface+".")
		}
		if n == "wg-showconf.txt" {
			// A side without ListenPort gets a random port, which its
			// peer learns as the endpoint's port.
			mask := func(s string) string {
				s = listenPort.ReplaceAllString(s, "ListenPort = N")
				return randomPort.ReplaceAllStringFunc(s, func(m string) string {
					if strings.HasSuffix(m, ":51820") {
						return m
					}
					return m[:strings.LastIndex(m, ":")] + ":N"
				})
			}
			ref, got = mask(ref), mask(got)
		}
		if normState(ref) != normState(got) {
			diffs = append(diffs, fmt.Sprintf("%s/%s differs (- reference, + ours):\n%s", dir, n, difftest.Lines(normState(ref), normState(got))))
		}
	}
	return diffs
}

func keepMatching(s, prefix string) string {
	var keep []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	return strings.Join(keep, "\n") + "\n"
}

// step runs our wg-quick and compares with the reference's capture PREFIX
// (PREFIX.stderr, .rc, .stdout).
func step(t *testing.T, c string, h *testnet.Host, prefix string, args ...string) {
	t.Helper()
	r := wgQuick(t, h, args...)
	refErr := readRef(t, c, prefix+".stderr")
	refErr = netnsNoise.ReplaceAllString(bannerLine.ReplaceAllString(refErr, ""), "")
	if r.Stderr != refErr {
		t.Errorf("%s: stderr differs (- reference, + ours):\n%s", prefix, difftest.Lines(refErr, r.Stderr))
	}
	refRC := readRef(t, c, prefix+".rc")
	if strings.TrimSpace(refRC) != fmt.Sprint(r.Code) {
		t.Errorf("%s: exit %d, reference %s", prefix, r.Code, strings.TrimSpace(refRC))
	}
	refOut, _ := readRefOptional(t, c, prefix+".stdout")
	if r.Stdout != refOut {
		t.Errorf("%s: stdout %q, reference %q", prefix, r.Stdout, refOut)
	}
}

// compareSaved compares the file our save wrote with the reference's.
func compareSaved(t *testing.T, c, refName, got string) {
	t.Helper()
	ref := readRef(t, c, refName)
	input := readRef(t, c, "input-A-wg0.conf")
	// Ours keeps the file (issue 16): what it configures must be what the
	// reference's configures, and the file's comments must still be there.
	if a, b := savedConfig(t, ref), savedConfig(t, got); a != b {
		t.Errorf("%s configures otherwise (- reference, + ours):\n%s\nours:\n%s", refName, difftest.Lines(a, b), got)
	}
	// (After down, the peer that was removed took its comment with it.)
	for l := range strings.SplitSeq(input, "\n") {
		if !strings.Contains(refName, "after-down") && strings.HasPrefix(strings.TrimSpace(l), "#") && !strings.Contains(got, l+"\n") {
			t.Errorf("%s: our save lost the comment %q:\n%s", refName, l, got)
		}
	}
}

// savedConfig is what a saved file configures (conf.Canonical), but for
// what differs by nature or on purpose: the reference's TUN had an IPv6
// link-local address (ours has none), ports are random, the reference
// loses DNS search domains, and Debian's reference cuts hooks at '#'.
func savedConfig(t *testing.T, text string) string {
	t.Helper()
	text = regexp.MustCompile(`(?m)^Address = fe80::.*\n`).ReplaceAllString(text, "")
	f, err := conf.ParseQuick("wg0.conf", []byte(text), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	i := &f.Config.Interface
	i.ListenPort, i.DNSSearch = nil, nil
	for _, hooks := range []*[]string{&i.PreUp, &i.PostUp, &i.PreDown, &i.PostDown} {
		for n, h := range *hooks {
			h, _, _ = strings.Cut(h, "#")
			(*hooks)[n] = strings.TrimSpace(h)
		}
	}
	return conf.Canonical(&f.Config)
}

// sortPeerSections orders [Peer] sections (wireguard-go lists peers in a
// random order; we list them in insertion order, as the kernel).
func sortPeerSections(s string) string {
	head, rest, ok := strings.Cut(s, "\n[Peer]\n")
	if !ok {
		return s
	}
	peers := strings.Split(strings.TrimSuffix(rest, "\n"), "\n\n[Peer]\n")
	slices.Sort(peers)
	return head + "\n[Peer]\n" + strings.Join(peers, "\n\n[Peer]\n") + "\n"
}

func installRefConfs(t *testing.T, c string, a, b *testnet.Host) {
	t.Helper()
	confA := readRef(t, c, "input-A-wg0.conf")
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(confA), 0o600)
	if confB, ok := readRefOptional(t, c, "input-B-wg1.conf"); ok {
		b.WriteFile("/etc/wireguard/wg1.conf", []byte(confB), 0o600)
	}
}

const refKeyCPub = "jqpiImZJaNTgv/iVZjoLCjERwTqd2QwnzSOluXfJaWo="
const refKeyBPub = "Xt9quZAyypsVNY/hSlxiMWomz3XLP4tok86WEj9CuE8="

func TestReferenceCases(t *testing.T) {
	testnet.Require(t)
	needRefWG(t)
	for _, c := range []struct {
		name string
		run  func(t *testing.T, c string, a, b *testnet.Host)
	}{
		{"p2p", bothUpDown(func(a, b *testnet.Host) bool { return pingUntil(b, "10.0.0.1", 20) })},
		{"server-fwd-masq", bothUpDown(func(a, b *testnet.Host) bool {
			return pingUntil(b, "10.0.0.1", 20) && pingUntil(a, "192.168.1.1", 20)
		})},
		{"table-off", upSnapDown},
		{"table-1234", upSnapDown},
		{"mtu-explicit", func(t *testing.T, c string, a, b *testnet.Host) {
			step(t, c, a, "A-up", "up", "wg0")
			compareA(t, c, a, "A-state-up")
			step(t, c, a, "A-save", "save", "wg0")
			compareSaved(t, c, "A-wg0.conf-after-save.txt", a.ReadFile("/etc/wireguard/wg0.conf"))
			step(t, c, a, "A-down", "down", "wg0")
		}},
		{"mtu-auto-no-endpoint", func(t *testing.T, c string, a, b *testnet.Host) {
			a.MustRun("ip", "link", "set", "eth0", "mtu", "1400")
			step(t, c, a, "A-up", "up", "wg0")
			compareA(t, c, a, "A-state-up")
			step(t, c, a, "A-down", "down", "wg0")
		}},
		{"ipv6", func(t *testing.T, c string, a, b *testnet.Host) {
			step(t, c, a, "A-up", "up", "wg0")
			step(t, c, b, "B-up", "up", "wg1")
			if !pingUntil(a, "fd00::2", 20) {
				t.Error("no ping6 through the tunnel")
			}
			compareA(t, c, a, "A-state-up")
			step(t, c, a, "A-down", "down", "wg0")
			step(t, c, b, "B-down", "down", "wg1")
		}},
		{"dns", func(t *testing.T, c string, a, b *testnet.Host) {
			step(t, c, a, "A-up", "up", "wg0")
			compareA(t, c, a, "A-state-up")
			step(t, c, a, "A-save", "save", "wg0")
			compareSaved(t, c, "A-wg0.conf-after-save.txt", a.ReadFile("/etc/wireguard/wg0.conf"))
			step(t, c, a, "A-down", "down", "wg0")
			ref := readRef(t, c, "resolvconf.log")
			if got := a.ReadFile("/run/resolvconf.log"); got != ref {
				t.Errorf("resolvconf calls differ (- reference, + ours):\n%s", difftest.Lines(ref, got))
			}
		}},
		{"saveconfig", func(t *testing.T, c string, a, b *testnet.Host) {
			// The case changes the device with the reference's wg set.
			step(t, c, a, "A-up", "up", "wg0")
			a.MustRun("/usr/bin/wg", "set", "wg0", "listen-port", "51999", "peer", refKeyCPub, "allowed-ips", "10.0.0.3/32,192.168.50.0/24", "persistent-keepalive", "15")
			a.MustRun("ip", "addr", "add", "10.0.0.100/24", "dev", "wg0")
			step(t, c, a, "A-save", "save", "wg0")
			compareSaved(t, c, "A-wg0.conf-after-save.txt", a.ReadFile("/etc/wireguard/wg0.conf"))
			if st, err := os.Stat(a.Path("/etc/wireguard/wg0.conf")); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("saved file mode: %v %v", st.Mode(), err)
			}
			a.MustRun("/usr/bin/wg", "set", "wg0", "peer", refKeyBPub, "remove")
			step(t, c, a, "A-down", "down", "wg0")
			compareSaved(t, c, "A-wg0.conf-after-down.txt", a.ReadFile("/etc/wireguard/wg0.conf"))
			compareA(t, c, a, "A-state-down")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := refTopology(t)
			installRefConfs(t, c.name, a, b)
			c.run(t, c.name, a, b)
		})
	}
}

// compareA compares A's wg0 state with the capture's dir.
func compareA(t *testing.T, c string, a *testnet.Host, dir string) {
	t.Helper()
	compareState(t, c, dir, func() map[string]string { return refSnap(t, a, "wg0") }, "wg0")
}

// bothUpDown is the two-host captures' run: A and B up, pings through the
// tunnel (ping reports whether they were answered), A's state, strip, both
// down, A's state again.
func bothUpDown(ping func(a, b *testnet.Host) bool) func(t *testing.T, c string, a, b *testnet.Host) {
	return func(t *testing.T, c string, a, b *testnet.Host) {
		step(t, c, a, "A-up", "up", "wg0")
		step(t, c, b, "B-up", "up", "wg1")
		if !ping(a, b) {
			t.Error("no ping through the tunnel")
		}
		compareA(t, c, a, "A-state-up")
		step(t, c, a, "A-strip", "strip", "wg0")
		step(t, c, a, "A-down", "down", "wg0")
		step(t, c, b, "B-down", "down", "wg1")
		compareA(t, c, a, "A-state-down")
	}
}

func upSnapDown(t *testing.T, c string, a, b *testnet.Host) {
	step(t, c, a, "A-up", "up", "wg0")
	compareA(t, c, a, "A-state-up")
	step(t, c, a, "A-down", "down", "wg0")
	compareA(t, c, a, "A-state-down")
}

// TestExternalUserspace: WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go
// runs that program, as the reference does: the trace is then the
// reference's own, banner included, and down stops the program.
func TestExternalUserspace(t *testing.T) {
	testnet.Require(t)
	if _, err := os.Stat("/usr/bin/wireguard-go"); err != nil {
		t.Skip("needs /usr/bin/wireguard-go (Debian package wireguard-go)")
	}
	a, b := refTopology(t)
	installRefConfs(t, "p2p", a, b)
	env := quickEnv(t, "WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go", "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")
	before := a.Snapshot()
	r := a.RunEnv(env, filepath.Join(binaries(t), "wg-quick"), "up", "wg0")
	ref := readRef(t, "p2p", "A-up.stderr")
	if r.Code != 0 || r.Stderr != ref {
		t.Errorf("up: exit %d, stderr differs (- reference, + ours):\n%s", r.Code, difftest.Lines(ref, r.Stderr))
	}
	if ps := a.Snapshot(); !strings.Contains(ps, "wireguard-go wg0") {
		t.Errorf("no wireguard-go process:\n%s", ps)
	}
	r = a.RunEnv(env, filepath.Join(binaries(t), "wg-quick"), "down", "wg0")
	if r.Code != 0 || r.Stderr != "[#] ip link delete dev wg0\n" {
		t.Errorf("down: exit %d\n%s", r.Code, r.Stderr)
	}
	diffState(t, "after down", before, a.Snapshot())
}
