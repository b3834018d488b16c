package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// refDir holds the reference's captures (see its README.md).
const refDir = "../../testdata/reference/wg-quick"

func readRef(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// payloadBlock is one command's input in a fulltunnel-payloads capture.
type payloadBlock struct {
	cmd, text string
}

// payloadBlocks splits a capture of the logging shims (_tools/capture-*:
// "### CMD" then the input through `cat -A`, which ends each line with
// "$") into its blocks, with the input as it was.
func payloadBlocks(t testing.TB, path string) []payloadBlock {
	t.Helper()
	var blocks []payloadBlock
	for _, part := range strings.Split(readRef(t, path), "### ")[1:] {
		cmd, text, _ := strings.Cut(part, "\n")
		if strings.ContainsAny(text, "^\\") {
			t.Fatalf("%s: cat -A escapes in %q", path, text)
		}
		text = strings.ReplaceAll(text, "$\n", "\n")
		blocks = append(blocks, payloadBlock{cmd, text})
	}
	return blocks
}

// specOfPayload reads back the spec of a reference install payload
// (nft or iptables-restore): interface, family, mark and addresses in
// payload order.
func specOfPayload(t testing.TB, text string) Spec {
	t.Helper()
	s := Spec{Family: IPv4}
	if strings.Contains(text, " ip6 ") || regexp.MustCompile(`-d [0-9a-f:]*:`).MatchString(text) {
		s.Family = IPv6
	}
	for _, m := range regexp.MustCompile(`(?m)(?:daddr|-d) ([0-9a-f:.]+)`).FindAllStringSubmatch(text, -1) {
		s.Addrs = append(s.Addrs, netip.MustParseAddr(m[1]))
	}
	m := regexp.MustCompile(`mark (?:--mark )?(\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no mark in payload:\n%s", text)
	}
	mark, _ := strconv.ParseUint(m[1], 10, 32)
	s.Mark = uint32(mark)
	m = regexp.MustCompile(`(?:wg-quick-|rule for )([A-Za-z0-9_=+.-]+)`).FindStringSubmatch(text)
	s.Iface = m[1]
	return s
}

func TestNFTPayloadMatchesReference(t *testing.T) {
	blocks := payloadBlocks(t, "fulltunnel-payloads/A-nft-payloads.txt")
	if len(blocks) != 3 {
		t.Fatalf("want 3 blocks (up v6, up v4, down), got %d", len(blocks))
	}
	for _, b := range blocks[:2] {
		s := specOfPayload(t, b.text)
		if got := NFTPayload(s); got != b.text {
			t.Errorf("NFTPayload(%+v):\n got %q\nwant %q", s, got, b.text)
		}
		if b.cmd != lineNFT {
			t.Errorf("command %q, want %q", b.cmd, lineNFT)
		}
	}
}

func TestIPTablesPayloadMatchesReference(t *testing.T) {
	blocks := payloadBlocks(t, "fulltunnel-payloads/A-iptables-payloads.txt")
	if len(blocks) != 4 {
		t.Fatalf("want 4 blocks (up v6, up v4, down v4, down v6), got %d", len(blocks))
	}
	for _, b := range blocks[:2] {
		s := specOfPayload(t, b.text)
		if got := IPTablesPayload(s); got != b.text {
			t.Errorf("IPTablesPayload(%+v):\n got %q\nwant %q", s, got, b.text)
		}
		if want := restoreLine(s.Family); b.cmd != want {
			t.Errorf("command %q, want %q", b.cmd, want)
		}
	}
}

func TestNoAddresses(t *testing.T) {
	s := Spec{Iface: "wg0", Family: IPv4, Mark: 7}
	want := "*raw\nCOMMIT\n*mangle\n" +
		`-I POSTROUTING -m mark --mark 7 -p udp -j CONNMARK --save-mark -m comment --comment "wg-quick(8) rule for wg0"` + "\n" +
		`-I PREROUTING -p udp -j CONNMARK --restore-mark -m comment --comment "wg-quick(8) rule for wg0"` + "\nCOMMIT\n"
	if got := IPTablesPayload(s); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := NFTPayload(s); strings.Contains(got, "preraw iifname") {
		t.Errorf("rule without address: %q", got)
	}
}

func TestSplitArgs(t *testing.T) {
	// Every rule line of the reference's iptables-save captures reads
	// back into arguments that print the same.
	for _, path := range []string{"fulltunnel-iptables/A-state-up/iptables-save.txt", "fulltunnel-iptables/A-state-up/ip6tables-save.txt"} {
		for _, l := range strings.Split(readRef(t, path), "\n") {
			if !strings.HasPrefix(l, "-A ") {
				continue
			}
			args, err := splitArgs(l)
			if err != nil {
				t.Fatal(err)
			}
			if got := quoteArgs(args); got != l {
				t.Errorf("round trip:\n got %q\nwant %q", got, l)
			}
			if iface, ok := markerIface(args); !ok || iface != "wg0" {
				t.Errorf("marker of %q: %q %v", l, iface, ok)
			}
		}
	}
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`-A X -m comment --comment "a \"b\" \\c" -j DROP`, []string{"-A", "X", "-m", "comment", "--comment", `a "b" \c`, "-j", "DROP"}},
		{`-A X  --comment ""`, []string{"-A", "X", "--comment", ""}},
	} {
		got, err := splitArgs(c.in)
		if err != nil || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if q := quoteArgs(got); q != strings.ReplaceAll(c.in, "  ", " ") {
			t.Errorf("quoteArgs(%q) = %q", got, q)
		}
	}
	if _, err := splitArgs(`-A X --comment "open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestMarkerIface(t *testing.T) {
	for _, c := range []struct {
		spec  string
		iface string
		ok    bool
	}{
		{`-p udp -m comment --comment "wg-quick(8) rule for wg0" -j X`, "wg0", true},
		{`-p udp -m comment --comment "wg-quick(8) rule for wg0.x" -j X`, "wg0.x", true},
		{`-p udp -m comment --comment "wg-quick(8) rule for " -j X`, "", false},
		{`-p udp -m comment --comment "other" -j X`, "", false},
		{`-p udp -j X`, "", false},
	} {
		args, _ := splitArgs(c.spec)
		iface, ok := markerIface(args)
		if iface != c.iface || ok != c.ok {
			t.Errorf("markerIface(%s) = %q %v, want %q %v", c.spec, iface, ok, c.iface, c.ok)
		}
	}
}

func TestParseBackend(t *testing.T) {
	for in, want := range map[string]Backend{"": Auto, "auto": Auto, "nft": NFTables, "NFTables": NFTables, "iptables": IPTables} {
		got, err := ParseBackend(in)
		if err != nil || got != want {
			t.Errorf("ParseBackend(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseBackend("ipfw"); err == nil || !strings.Contains(err.Error(), EnvBackend) {
		t.Errorf("ParseBackend(ipfw): %v", err)
	}
}

func TestSpecCheck(t *testing.T) {
	for _, c := range []struct {
		s    Spec
		want string
	}{
		{Spec{Iface: "wg0", Family: IPv4, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}, ""},
		{Spec{Iface: "wg0", Family: IPv6, Addrs: []netip.Addr{netip.MustParseAddr("fe80::1%wg0")}}, ""},
		{Spec{Iface: "", Family: IPv4}, `invalid interface name ""`},
		{Spec{Iface: "wg 0", Family: IPv4}, `invalid interface name "wg 0"`},
		{Spec{Iface: "wg0", Family: 5}, "unknown address family 5"},
		{Spec{Iface: "wg0", Family: IPv4, Addrs: []netip.Addr{netip.MustParseAddr("fd00::1")}}, "address fd00::1 is not an ip address"},
		{Spec{Iface: "wg0", Family: IPv6, Addrs: []netip.Addr{{}}}, "is not an ip6 address"},
	} {
		err := c.s.check()
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("check(%+v) = %v, want %q", c.s, err, c.want)
		}
	}
	s := Spec{Iface: "wg0", Family: IPv6, Mark: 1, Addrs: []netip.Addr{netip.MustParseAddr("fe80::1%wg0")}}
	if got := NFTPayload(s); !strings.Contains(got, "ip6 daddr fe80::1 fib") {
		t.Errorf("zone kept: %q", got)
	}
}

func TestProbeResult(t *testing.T) {
	for _, c := range []struct {
		err         error
		unavailable bool
		ok          bool
	}{
		{nil, false, true},
		{&os.SyscallError{Syscall: "socket", Err: syscall.EPROTONOSUPPORT}, true, false},
		{fmt.Errorf("netlink receive: %w", syscall.EINVAL), true, false},
		{fmt.Errorf("netlink receive: %w", syscall.ENOENT), true, false},
		{fmt.Errorf("netlink receive: %w", syscall.EPERM), false, false},
	} {
		err := probeResult(c.err)
		if (err == nil) != c.ok || errors.Is(err, errUnavailable) != c.unavailable {
			t.Errorf("probeResult(%v) = %v", c.err, err)
		}
	}
}
