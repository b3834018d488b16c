package netlinkx

import (
	"errors"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Link is what wg-quick needs to know about an interface.
type Link struct {
	Index int
	Name  string
	MTU   int
	// Kind is the rtnetlink kind ("wireguard", "tun", "veth", ...).
	Kind string
}

// LinkByName returns the named link; ok is false when there is none.
func (h *Handle) LinkByName(name string) (l Link, ok bool, err error) {
	return found(h.h.LinkByName(name))
}

// LinkByIndex returns the link with that index; ok is false when there is
// none.
func (h *Handle) LinkByIndex(index int) (l Link, ok bool, err error) {
	return found(h.h.LinkByIndex(index))
}

// found turns a lookup's "not found" into ok false.
func found(nl netlink.Link, err error) (Link, bool, error) {
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return Link{}, false, nil
		}
		return Link{}, false, err
	}
	return linkOf(nl), true, nil
}

func linkOf(nl netlink.Link) Link {
	a := nl.Attrs()
	return Link{Index: a.Index, Name: a.Name, MTU: a.MTU, Kind: nl.Type()}
}

// Links lists every link, in ifindex order.
func (h *Handle) Links() ([]Link, error) {
	list, err := retryDump("listing links", h.h.LinkList)
	if err != nil {
		return nil, err
	}
	out := make([]Link, len(list))
	for i, l := range list {
		out[i] = linkOf(l)
	}
	return out, nil
}

// Addresses lists an interface's addresses with their prefix lengths, in
// the order `ip -brief address show dev NAME` prints them (IPv4 then IPv6,
// each in the kernel's order).
func (h *Handle) Addresses(name string) ([]netip.Prefix, error) {
	l, err := h.link(name)
	if err != nil {
		return nil, err
	}
	list, err := retryDump("listing addresses", func() ([]netlink.Addr, error) {
		return h.h.AddrList(l, netlink.FAMILY_ALL)
	})
	if err != nil {
		return nil, err
	}
	var v4, v6 []netip.Prefix
	for _, a := range list {
		p, ok := netPrefix(a.IPNet)
		if !ok {
			continue
		}
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return append(v4, v6...), nil
}

// SetAddrGenModeNone turns off IPv6 link-local address generation on an
// interface (as the kernel's WireGuard interfaces have none).
func (h *Handle) SetAddrGenModeNone(name string) error {
	l, err := h.link(name)
	if err != nil {
		return err
	}
	return h.h.LinkSetIP6AddrGenMode(l, 1) // IN6_ADDR_GEN_MODE_NONE
}

// Route is a route as wg-quick reads them.
type Route struct {
	// Dst is the destination; 0.0.0.0/0 or ::/0 for a default route.
	Dst       netip.Prefix
	LinkIndex int // 0 when the route has no single output interface
	Table     uint32
	Type      int
	// MTU is the route's mtu metric, 0 when unset; MTULock is set for
	// `mtu lock N`.
	MTU     int
	MTULock bool
}

// Routes lists one family's routes in a table, in the kernel's order.
func (h *Handle) Routes(family int, table uint32) ([]Route, error) {
	list, err := retryDump("listing routes", func() ([]netlink.Route, error) {
		return h.h.RouteListFiltered(family, &netlink.Route{Table: int(table)}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Route, 0, len(list))
	for _, r := range list {
		out = append(out, routeOf(family, r))
	}
	return out, nil
}

func routeOf(family int, r netlink.Route) Route {
	dst, ok := netPrefix(r.Dst)
	if !ok {
		if family == unix.AF_INET6 {
			dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	}
	return Route{
		Dst:       dst,
		LinkIndex: r.LinkIndex,
		Table:     uint32(r.Table),
		Type:      r.Type,
		MTU:       r.MTU,
		MTULock:   r.MTULock,
	}
}

// TableInUse reports whether a table holds any IPv4 or IPv6 route, as
// `ip -4 route show table N` or `ip -6 route show table N` would print one.
func (h *Handle) TableInUse(table uint32) (bool, error) {
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		list, err := h.Routes(fam, table)
		if err != nil {
			return false, err
		}
		if len(list) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// DefaultRoute is the first default route of a family in the main table,
// the first line `ip -4 route show default` prints; ok is false when there
// is none.
func (h *Handle) DefaultRoute(family int) (r Route, ok bool, err error) {
	routes, err := h.Routes(family, unix.RT_TABLE_MAIN)
	if err != nil {
		return Route{}, false, err
	}
	r, ok = FirstDefault(routes)
	return r, ok, nil
}

// FirstDefault is the first route of routes whose destination is 0/0.
func FirstDefault(routes []Route) (Route, bool) {
	for _, r := range routes {
		if r.Dst.Bits() == 0 {
			return r, true
		}
	}
	return Route{}, false
}

// Covered reports whether a route of routes through the interface
// linkIndex covers p: what `ip route show dev IF match P` prints a line for
// when routes is the main table of p's family.
func Covered(routes []Route, linkIndex int, p netip.Prefix) bool {
	p = p.Masked()
	for _, r := range routes {
		if r.LinkIndex != linkIndex || r.Dst.Addr().Is4() != p.Addr().Is4() {
			continue
		}
		if r.Dst.Bits() <= p.Bits() && r.Dst.Masked().Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func netPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, bits := n.Mask.Size()
	if bits == 32 {
		a = a.Unmap()
	}
	if bits != a.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, ones), true
}
