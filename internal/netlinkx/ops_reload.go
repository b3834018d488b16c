package netlinkx

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// The changes `wg-quick reload` makes besides up's: an MTU without
// bringing the link up, and the deletion of an address or a route.

// LinkSetMTU sets an interface's MTU.
type LinkSetMTU struct {
	Name string
	MTU  int
}

func (o LinkSetMTU) String() string { return fmt.Sprintf("ip link set mtu %d dev %s", o.MTU, o.Name) }

func (o LinkSetMTU) apply(h *Handle) error {
	l, err := h.link(o.Name)
	if err != nil {
		return err
	}
	return h.h.LinkSetMTU(l, o.MTU)
}

// AddrDelete deletes an address from an interface. Raw is the address as
// the command line shows it; Prefix is its value.
type AddrDelete struct {
	Link   string
	Raw    string
	Prefix netip.Prefix
}

func (o AddrDelete) String() string { return addrCommand("delete", o.Raw, o.Link) }

func (o AddrDelete) apply(h *Handle) error {
	l, addr, err := h.addr(o.Link, o.Prefix)
	if err != nil {
		return err
	}
	return h.h.AddrDel(l, addr)
}

// RouteDelete deletes the route for Prefix through an interface from the
// main table or the one given (Table as written, TableID its number).
type RouteDelete struct {
	Link    string
	Prefix  netip.Prefix
	Table   string
	TableID uint32
}

func (o RouteDelete) String() string { return routeCommand("delete", o.Prefix, o.Link, o.Table) }

func (o RouteDelete) apply(h *Handle) error {
	r, err := h.route(o.Link, o.Prefix, o.TableID)
	if err != nil {
		return err
	}
	// Any scope (the kernel matches the one given otherwise, and ip route
	// add gives IPv4 routes through a device the link scope).
	r.Scope = netlink.SCOPE_NOWHERE
	return h.h.RouteDel(r)
}
