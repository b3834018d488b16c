package netlinkx

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
)

func TestOpLines(t *testing.T) {
	p := netip.MustParsePrefix
	for _, c := range []struct {
		op   Op
		want string
	}{
		{LinkAdd{Name: "wg0"}, "ip link add dev wg0 type wireguard"},
		{LinkDelete{Name: "wg0"}, "ip link delete dev wg0"},
		{LinkSetMTUUp{Name: "wg0", MTU: 1420}, "ip link set mtu 1420 up dev wg0"},
		{AddrAddOf("wg0", conf.Address{Raw: "10.0.0.1/24", Prefix: p("10.0.0.1/24")}), "ip -4 address add 10.0.0.1/24 dev wg0"},
		{AddrAddOf("wg0", conf.Address{Raw: "fd00::1", Prefix: p("fd00::1/128")}), "ip -6 address add fd00::1 dev wg0"},
		{RouteAdd{Link: "wg0", Prefix: p("192.168.1.0/24")}, "ip -4 route add 192.168.1.0/24 dev wg0"},
		{RouteAdd{Link: "wg0", Prefix: p("::/0"), Table: "1234", TableID: 1234}, "ip -6 route add ::/0 dev wg0 table 1234"},
		{RouteAdd{Link: "wg0", Prefix: p("0.0.0.0/0"), Table: "main", TableID: 254}, "ip -4 route add 0.0.0.0/0 dev wg0 table main"},
		{RuleAdd{Rule{Family: unix.AF_INET, Not: true, FwMark: 51820, Table: 51820, SuppressPrefixlen: -1, Priority: -1}}, "ip -4 rule add not fwmark 51820 table 51820"},
		{RuleAdd{Rule{Family: unix.AF_INET6, Table: 254, SuppressPrefixlen: 0, Priority: -1}}, "ip -6 rule add table main suppress_prefixlength 0"},
		{RuleDelete{Rule{Family: unix.AF_INET, Table: 51820, SuppressPrefixlen: -1, Priority: -1}}, "ip -4 rule delete table 51820"},
		{RuleDelete{Rule{Family: unix.AF_INET, Table: 254, SuppressPrefixlen: 0, Priority: -1}}, "ip -4 rule delete table main suppress_prefixlength 0"},
	} {
		if got := c.op.String(); got != c.want {
			t.Errorf("%#v: got %q, want %q", c.op, got, c.want)
		}
	}
}

func TestErrorWording(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
		code int
	}{
		{syscall.EEXIST, "RTNETLINK answers: File exists", 2},
		{fmt.Errorf("%w: %s", syscall.EOPNOTSUPP, "Unknown device type"), "Error: Unknown device type.", 2},
		{fmt.Errorf("%w: %s", syscall.EINVAL, "mtu less than device minimum."), "Error: mtu less than device minimum.", 2},
		{&missingLinkError{name: "wg0"}, `Cannot find device "wg0"`, 1},
	} {
		e := NewError("ip x", c.err)
		if e.Error() != c.want || e.ExitCode() != c.code {
			t.Errorf("%v: got %q/%d, want %q/%d", c.err, e.Error(), e.ExitCode(), c.want, c.code)
		}
		if !errors.Is(e, c.err) && !errors.As(c.err, new(*missingLinkError)) {
			t.Errorf("%v: not wrapped", c.err)
		}
	}
}

// TestCovered checks the in-memory "ip route show dev IF match P".
func TestCovered(t *testing.T) {
	p := netip.MustParsePrefix
	routes := []Route{
		{Dst: p("10.0.0.0/24"), LinkIndex: 3},
		{Dst: p("192.0.2.0/24"), LinkIndex: 2},
		{Dst: p("fd00::/64"), LinkIndex: 3},
		{Dst: p("0.0.0.0/0"), LinkIndex: 2},
	}
	for _, c := range []struct {
		p    string
		want bool
	}{
		{"10.0.0.2/32", true},
		{"10.0.0.0/24", true},
		{"10.0.0.0/23", false}, // the route is longer than the prefix
		{"10.0.1.0/24", false},
		{"192.0.2.7/32", false}, // covered, but on another interface
		{"fd00::2/128", true},
		{"fd00:1::/48", false},
		{"10.0.0.128/25", true},
	} {
		if got := Covered(routes, 3, p(c.p)); got != c.want {
			t.Errorf("Covered(%s) = %v, want %v", c.p, got, c.want)
		}
	}
}
