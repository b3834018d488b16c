package netlinkx

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
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

func (o AddrDelete) String() string {
	flag := "-4"
	if strings.Contains(o.Raw, ":") {
		flag = "-6"
	}
	return fmt.Sprintf("ip %s address delete %s dev %s", flag, o.Raw, o.Link)
}

func (o AddrDelete) apply(h *Handle) error {
	l, err := h.link(o.Link)
	if err != nil {
		return err
	}
	addr := &netlink.Addr{IPNet: prefixNet(o.Prefix)}
	if o.Prefix.Addr().Is4() {
		addr.Broadcast = net.IPv4zero
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

func (o RouteDelete) String() string {
	p := o.Prefix
	s := "ip " + familyFlag(p) + " route delete " + conf.FormatPrefix(p) + " dev " + o.Link
	if o.Table != "" {
		s += " table " + o.Table
	}
	return s
}

func (o RouteDelete) apply(h *Handle) error {
	l, err := h.link(o.Link)
	if err != nil {
		return err
	}
	p := o.Prefix
	r := &netlink.Route{
		LinkIndex: l.Attrs().Index,
		Dst:       prefixNet(p.Masked()),
		Family:    family(p.Addr()),
		Table:     unix.RT_TABLE_MAIN,
		// Any scope (the kernel matches the one given otherwise, and
		// ip route add gives IPv4 routes through a device the link
		// scope).
		Scope: netlink.SCOPE_NOWHERE,
	}
	if o.TableID != 0 {
		r.Table = int(o.TableID)
	}
	return h.h.RouteDel(r)
}
