package firewall

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

// host is a test host and an open handle of its network namespace.
type host struct {
	*testnet.Host
	t  *testing.T
	fd int
}

func newHost(t *testing.T, prefix string) *host {
	t.Helper()
	h := testnet.NewHost(t, prefix)
	f, err := os.Open("/run/netns/" + h.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &host{Host: h, t: t, fd: int(f.Fd())}
}

// fw is a Firewall working in the host.
func (h *host) fw(b Backend) *Firewall { return New(Options{NetNS: h.fd, Backend: b}) }

// in runs a program in the host with stdin and returns its stdout; it
// fails the test unless the program succeeds.
func (h *host) in(stdin, name string, args ...string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := h.Command(ctx, name, args...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String()
}

// trace collects the lines a removal prints.
type trace []string

func (tr *trace) add(line string) { *tr = append(*tr, line) }

var (
	handleRE   = regexp.MustCompile(`(# handle |"handle": )\d+`)
	nlHeaderRE = regexp.MustCompile(`(?m)^((?:ip|ip6|inet) \S+ \S+)( \d+)+$`)
	countersRE = regexp.MustCompile(`\[\d+:\d+\]`)
	nftCountRE = regexp.MustCompile(`counter packets \d+ bytes \d+`)
)

// nftViews are the ways nft(8) shows a ruleset, with handles masked:
// text, text with handles, netlink expressions, JSON.
func (h *host) nftViews() map[string]string {
	h.t.Helper()
	mask := func(s string) string {
		return nlHeaderRE.ReplaceAllString(handleRE.ReplaceAllString(s, "${1}H"), "$1 H")
	}
	return map[string]string{
		"list ruleset":                 h.in("", "nft", "list", "ruleset"),
		"-a list ruleset":              mask(h.in("", "nft", "-a", "list", "ruleset")),
		"--debug=netlink list ruleset": mask(h.in("", "nft", "--debug=netlink", "list", "ruleset")),
		"-j list ruleset":              mask(h.in("", "nft", "-j", "list", "ruleset")),
	}
}

// save is iptables-save (or ip6tables-save) without comment lines and with
// counters masked, as the reference's snapshots were taken.
func (h *host) save(prog string) string {
	h.t.Helper()
	var keep []string
	for _, l := range strings.SplitAfter(h.in("", prog), "\n") {
		if !strings.HasPrefix(l, "#") && l != "" {
			keep = append(keep, l)
		}
	}
	return countersRE.ReplaceAllString(strings.Join(keep, ""), "[0:0]")
}

// ifaceAddrs reads the addresses of IFACE, per family in listing order,
// from a capture of `ip addr`.
func ifaceAddrs(t *testing.T, path, iface string) (v4, v6 []netip.Addr) {
	t.Helper()
	in := false
	for _, l := range strings.Split(readRef(t, path), "\n") {
		if m := regexp.MustCompile(`^\d+: ([^:@]+)`).FindStringSubmatch(l); m != nil {
			in = m[1] == iface
			continue
		}
		f := strings.Fields(l)
		if !in || len(f) < 2 || (f[0] != "inet" && f[0] != "inet6") {
			continue
		}
		a := netip.MustParsePrefix(f[1]).Addr()
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return v4, v6
}

// fwmarkOf reads the table/fwmark wg-quick chose from an up trace.
func fwmarkOf(t *testing.T, path string) uint32 {
	t.Helper()
	if strings.Contains(readRef(t, path), "wg set wg0 fwmark 51820") {
		return 51820
	}
	t.Fatalf("%s: no `wg set wg0 fwmark 51820`", path)
	return 0
}

func diff(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s(quoted: %q\n%q)", what, got, want, got, want)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}
