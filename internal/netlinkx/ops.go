package netlinkx

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
)

// Op is one change to the namespace. String is the iproute2 command line
// that makes the same change.
type Op interface {
	String() string
	apply(h *Handle) error
}

// Apply makes the change op names. A failure is an *Error.
func (h *Handle) Apply(op Op) error {
	if err := op.apply(h); err != nil {
		return opError(op.String(), err)
	}
	return nil
}

// familyFlag is ip's -4 or -6 for a prefix.
func familyFlag(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "-4"
	}
	return "-6"
}

// LinkAdd creates a kernel WireGuard interface.
type LinkAdd struct{ Name string }

func (o LinkAdd) String() string { return "ip link add dev " + o.Name + " type wireguard" }

func (o LinkAdd) apply(h *Handle) error {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = o.Name
	return h.h.LinkAdd(&netlink.Wireguard{LinkAttrs: attrs})
}

// LinkDelete deletes an interface of any kind.
type LinkDelete struct{ Name string }

func (o LinkDelete) String() string { return "ip link delete dev " + o.Name }

func (o LinkDelete) apply(h *Handle) error {
	l, err := h.link(o.Name)
	if err != nil {
		return err
	}
	return h.h.LinkDel(l)
}

// LinkSetMTUUp sets an interface's MTU and brings it up.
type LinkSetMTUUp struct {
	Name string
	MTU  int
}

func (o LinkSetMTUUp) String() string {
	return fmt.Sprintf("ip link set mtu %d up dev %s", o.MTU, o.Name)
}

func (o LinkSetMTUUp) apply(h *Handle) error {
	l, err := h.link(o.Name)
	if err != nil {
		return err
	}
	if err := h.h.LinkSetMTU(l, o.MTU); err != nil {
		return err
	}
	return h.h.LinkSetUp(l)
}

// AddrAdd adds an address to an interface. Raw is the address as the user
// wrote it (what the command line shows); Prefix is its value.
type AddrAdd struct {
	Link   string
	Raw    string
	Prefix netip.Prefix
}

// AddrAddOf is the AddrAdd for a wg-quick Address entry.
func AddrAddOf(link string, a conf.Address) AddrAdd {
	return AddrAdd{Link: link, Raw: a.Raw, Prefix: a.Prefix}
}

func (o AddrAdd) String() string { return addrCommand("add", o.Raw, o.Link) }

func (o AddrAdd) apply(h *Handle) error {
	l, addr, err := h.addr(o.Link, o.Prefix)
	if err != nil {
		return err
	}
	return h.h.AddrAdd(l, addr)
}

// addrCommand is `ip -4|-6 address VERB RAW dev LINK`; wg-quick picks -6
// when the text has a colon.
func addrCommand(verb, raw, link string) string {
	flag := "-4"
	if strings.Contains(raw, ":") {
		flag = "-6"
	}
	return fmt.Sprintf("ip %s address %s %s dev %s", flag, verb, raw, link)
}

// addr is the link named and the address p on it, as `ip address` makes
// it.
func (h *Handle) addr(link string, p netip.Prefix) (netlink.Link, *netlink.Addr, error) {
	l, err := h.link(link)
	if err != nil {
		return nil, nil, err
	}
	addr := &netlink.Addr{IPNet: prefixNet(p)}
	if p.Addr().Is4() {
		// `ip address add` sets no broadcast address unless asked; the
		// zero address tells the netlink package not to compute one.
		addr.Broadcast = net.IPv4zero
	}
	return l, addr, nil
}

// RouteAdd adds a route for Prefix through an interface, into the main
// table or the one given. Table is the table as the user wrote it (a number
// or a name, "" for main); TableID is its number.
type RouteAdd struct {
	Link    string
	Prefix  netip.Prefix
	Table   string
	TableID uint32
}

func (o RouteAdd) String() string { return routeCommand("add", o.Prefix, o.Link, o.Table) }

func (o RouteAdd) apply(h *Handle) error {
	r, err := h.route(o.Link, o.Prefix, o.TableID)
	if err != nil {
		return err
	}
	r.Protocol = unix.RTPROT_BOOT // what ip gives routes it adds
	r.Type = unix.RTN_UNICAST
	r.Scope = netlink.SCOPE_LINK
	if o.Prefix.Addr().Is6() {
		r.Scope = netlink.SCOPE_UNIVERSE
	}
	return h.h.RouteAdd(r)
}

// routeCommand is `ip -4|-6 route VERB PREFIX dev LINK [table TABLE]`,
// concatenated: up prints thousands of these.
func routeCommand(verb string, p netip.Prefix, link, table string) string {
	s := "ip " + familyFlag(p) + " route " + verb + " " + conf.FormatPrefix(p) + " dev " + link
	if table != "" {
		s += " table " + table
	}
	return s
}

// route is the route for p through the link named, in the main table or
// table id.
func (h *Handle) route(link string, p netip.Prefix, id uint32) (*netlink.Route, error) {
	l, err := h.link(link)
	if err != nil {
		return nil, err
	}
	r := &netlink.Route{
		LinkIndex: l.Attrs().Index,
		Dst:       prefixNet(p.Masked()),
		Family:    family(p.Addr()),
		Table:     unix.RT_TABLE_MAIN,
	}
	if id != 0 {
		r.Table = int(id)
	}
	return r, nil
}

// RuleAdd adds a policy rule.
type RuleAdd struct{ Rule Rule }

func (o RuleAdd) String() string { return o.Rule.command("add") }

func (o RuleAdd) apply(h *Handle) error { return h.h.RuleAdd(o.Rule.netlink()) }

// RuleDelete deletes the first policy rule that matches every field set in
// Rule (as `ip rule delete` does).
type RuleDelete struct{ Rule Rule }

func (o RuleDelete) String() string { return o.Rule.command("delete") }

func (o RuleDelete) apply(h *Handle) error { return h.h.RuleDel(o.Rule.netlink()) }

func family(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func prefixNet(p netip.Prefix) *net.IPNet {
	a := p.Addr().WithZone("")
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(p.Bits(), a.BitLen())}
}

func (h *Handle) link(name string) (netlink.Link, error) {
	l, err := h.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, &missingLinkError{name: name}
		}
		return nil, err
	}
	return l, nil
}
