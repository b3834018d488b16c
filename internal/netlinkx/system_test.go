package netlinkx

import (
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/testnet"
)

// TestSystem drives the real kernel inside a test host (the test binary is
// re-run there): address order, route dumps and lookups, tables in use,
// rules, and iproute2's wording of the kernel's refusals.
func TestSystem(t *testing.T) {
	if !testnet.InHost() {
		testnet.Require(t)
		h := testnet.NewHost(t, "nlx")
		h.MustRun("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
		h.MustRun("ip", "link", "set", "d0", "up")
		h.MustRun("ip", "link", "set", "d1", "up")
		h.RunTest(t, "TestSystem")
		return
	}
	h := New()
	p := netip.MustParsePrefix
	must := func(op Op) {
		t.Helper()
		if err := h.Apply(op); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	for _, a := range []string{"fd00::1/64", "10.0.0.1/24", "fd00:aaaa::1/128", "10.0.0.100/24"} {
		must(AddrAddOf("d0", conf.Address{Raw: a, Prefix: p(a)}))
	}
	got, err := h.Addresses("d0")
	if err != nil {
		t.Fatal(err)
	}
	// IPv4 then IPv6, in the kernel's order (IPv6 newest first), without
	// the link-local address DAD-less veths get... which is listed too.
	var globals []netip.Prefix
	for _, a := range got {
		if !a.Addr().IsLinkLocalUnicast() {
			globals = append(globals, a)
		}
	}
	if want := []netip.Prefix{p("10.0.0.1/24"), p("10.0.0.100/24"), p("fd00:aaaa::1/128"), p("fd00::1/64")}; !slices.Equal(globals, want) {
		t.Errorf("addresses %v, want %v", globals, want)
	}
	if err := h.Apply(AddrAddOf("d0", conf.Address{Raw: "10.0.0.1/24", Prefix: p("10.0.0.1/24")})); err == nil || err.Error() != "Error: ipv4: Address already assigned." {
		t.Errorf("adding an address twice: %v", err)
	}
	link, ok, err := h.LinkByName("d0")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	must(RouteAdd{Link: "d0", Prefix: p("192.168.1.0/24")})
	must(RouteAdd{Link: "d0", Prefix: p("203.0.113.0/24"), Table: "1234", TableID: 1234})
	must(RouteAdd{Link: "d0", Prefix: p("::/0"), Table: "1234", TableID: 1234})
	if err := h.Apply(RouteAdd{Link: "d0", Prefix: p("192.168.1.0/24")}); err == nil || err.Error() != "RTNETLINK answers: File exists" {
		t.Errorf("adding a route twice: %v", err)
	}
	if err := h.Apply(RouteAdd{Link: "nosuch", Prefix: p("192.168.2.0/24")}); err == nil || err.Error() != `Cannot find device "nosuch"` || err.(*Error).ExitCode() != 1 {
		t.Errorf("route through a missing device: %v", err)
	}
	main4, err := h.Routes(unix.AF_INET, unix.RT_TABLE_MAIN)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    string
		want bool
	}{{"10.0.0.2/32", true}, {"192.168.1.7/32", true}, {"203.0.113.1/32", false}, {"10.0.0.0/16", false}} {
		if Covered(main4, link.Index, p(c.p)) != c.want {
			t.Errorf("Covered(%s) != %v in %v", c.p, c.want, main4)
		}
	}
	for table, want := range map[uint32]bool{1234: true, 1235: false} {
		if in, err := h.TableInUse(table); err != nil || in != want {
			t.Errorf("TableInUse(%d) = %v, %v", table, in, err)
		}
	}
	if _, ok, _ := h.DefaultRoute(unix.AF_INET); ok {
		t.Errorf("a default route in main")
	}
	// Route lookups for the automatic MTU: a route's mtu, else the link's.
	must(LinkSetMTUUp{Name: "d0", MTU: 1400})
	h4, _, _ := h.LinkByName("d0")
	if h4.MTU != 1400 {
		t.Errorf("mtu %d", h4.MTU)
	}
	l := h.RouteGetAll([]netip.Addr{netip.MustParseAddr("192.168.1.9")})[0]
	if l.Err != nil || !l.OK || l.Route.LinkIndex != link.Index || l.Route.MTU != 0 {
		t.Errorf("route get: %+v", l)
	}
	if err := h.Apply(LinkSetMTUUp{Name: "d0", MTU: 20}); err == nil || err.Error() != "Error: mtu less than device minimum." {
		t.Errorf("mtu 20: %v", err)
	}
	// Rules: added, listed, deleted by table.
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		must(RuleAdd{Rule{Family: fam, Not: true, FwMark: 51820, Table: 51820, SuppressPrefixlen: -1, Priority: -1}})
		must(RuleAdd{Rule{Family: fam, Table: unix.RT_TABLE_MAIN, SuppressPrefixlen: 0, Priority: -1}})
		rules, err := h.Rules(fam)
		if err != nil {
			t.Fatal(err)
		}
		var mine []Rule
		for _, r := range rules {
			if r.Table == 51820 || r.SuppressPrefixlen == 0 {
				mine = append(mine, r)
			}
		}
		want := []Rule{
			{Family: fam, Table: unix.RT_TABLE_MAIN, SuppressPrefixlen: 0, Priority: 32764},
			{Family: fam, Not: true, FwMark: 51820, Table: 51820, SuppressPrefixlen: -1, Priority: 32765},
		}
		if !slices.Equal(mine, want) {
			t.Errorf("rules: %+v", rules)
		}
		must(RuleDelete{Rule{Family: fam, Table: 51820, SuppressPrefixlen: -1, Priority: -1}})
		must(RuleDelete{Rule{Family: fam, Table: unix.RT_TABLE_MAIN, SuppressPrefixlen: 0, Priority: -1}})
		if after, _ := h.Rules(fam); len(after) != len(rules)-2 {
			t.Errorf("rules left: %+v", after)
		}
	}
	must(LinkDelete{Name: "d0"})
	if _, ok, _ := h.LinkByName("d1"); ok {
		t.Errorf("the veth's peer outlived it")
	}
	if err := h.Apply(LinkAdd{Name: "wg9"}); err == nil {
		h.Apply(LinkDelete{Name: "wg9"})
	} else if err.Error() != "Error: Unknown device type." {
		t.Errorf("link add without the module: %v", err)
	}
}
