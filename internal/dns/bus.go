package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/godbus/dbus/v5"
)

// systemd-resolved's names on the bus.
const (
	busName       = "org.freedesktop.resolve1"
	managerPath   = dbus.ObjectPath("/org/freedesktop/resolve1")
	managerIface  = "org.freedesktop.resolve1.Manager"
	linkIface     = "org.freedesktop.resolve1.Link"
	errNoSuchLink = "org.freedesktop.resolve1.NoSuchLink"
)

// Bus is systemd-resolved on a D-Bus connection (the system bus in
// production, a private one in tests).
type Bus struct {
	conn *dbus.Conn
	// wait is how long a call waits for resolved to learn of a link it
	// does not know yet (it learns of new links over rtnetlink, in its
	// own time).
	wait time.Duration
}

// linkWait bounds the wait for resolved to see a new link.
const linkWait = 2 * time.Second

// ConnectSystemBus connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS, or
// /run/dbus/system_bus_socket).
func ConnectSystemBus() (*Bus, error) {
	conn, err := dbus.ConnectSystemBus()
	if err != nil {
		return nil, err
	}
	return &Bus{conn: conn, wait: linkWait}, nil
}

// Connect connects to the bus at address (a D-Bus address such as
// unix:path=/run/dbus/system_bus_socket).
func Connect(address string) (*Bus, error) {
	conn, err := dbus.Connect(address)
	if err != nil {
		return nil, err
	}
	return &Bus{conn: conn, wait: linkWait}, nil
}

// Close closes the connection.
func (b *Bus) Close() error { return b.conn.Close() }

// Running reports whether systemd-resolved is on the bus, or the bus can
// start it.
func (b *Bus) Running(ctx context.Context) (bool, error) {
	var owned bool
	if err := b.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, busName).Store(&owned); err != nil {
		return false, err
	}
	if owned {
		return true, nil
	}
	var names []string
	if err := b.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil {
		return false, err
	}
	return slices.Contains(names, busName), nil
}

// dnsAddress is resolve1's (iay): an address family and the address's bytes.
type dnsAddress struct {
	Family  int32
	Address []byte
}

// linkDomain is resolve1's (sb).
type linkDomain struct {
	Domain    string
	RouteOnly bool
}

const (
	afInet  = 2
	afInet6 = 10
)

func addressOf(a netip.Addr) dnsAddress {
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		return dnsAddress{Family: afInet, Address: b[:]}
	}
	b := a.As16()
	return dnsAddress{Family: afInet6, Address: b[:]}
}

// call calls a Manager method, waiting (bounded) while resolved does not
// know the link yet.
func (b *Bus) call(ctx context.Context, method string, args ...any) error {
	obj := b.conn.Object(busName, managerPath)
	deadline := time.Now().Add(b.wait)
	for {
		err := obj.CallWithContext(ctx, managerIface+"."+method, 0, args...).Store()
		if err == nil || errorName(err) != errNoSuchLink || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("systemd-resolved: %s: %w", method, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("systemd-resolved: %s: %w", method, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// errorName is the D-Bus error name of err ("" when it is not a D-Bus
// error): received errors are dbus.Error values, others may be pointers.
func errorName(err error) string {
	var v dbus.Error
	if errors.As(err, &v) {
		return v.Name
	}
	var p *dbus.Error
	if errors.As(err, &p) {
		return p.Name
	}
	return ""
}

func (b *Bus) SetLinkDNS(ctx context.Context, ifindex int, servers []netip.Addr) error {
	list := make([]dnsAddress, len(servers))
	for i, s := range servers {
		list[i] = addressOf(s)
	}
	return b.call(ctx, "SetLinkDNS", int32(ifindex), list)
}

func (b *Bus) SetLinkDomains(ctx context.Context, ifindex int, domains []Domain) error {
	list := make([]linkDomain, len(domains))
	for i, d := range domains {
		list[i] = linkDomain{Domain: d.Name, RouteOnly: d.RouteOnly}
	}
	return b.call(ctx, "SetLinkDomains", int32(ifindex), list)
}

func (b *Bus) SetLinkDefaultRoute(ctx context.Context, ifindex int, on bool) error {
	return b.call(ctx, "SetLinkDefaultRoute", int32(ifindex), on)
}

func (b *Bus) RevertLink(ctx context.Context, ifindex int) error {
	return b.call(ctx, "RevertLink", int32(ifindex))
}

// Link reads what resolved holds for a link: the Link object's DNS,
// Domains and DefaultRoute properties (DefaultRoute is what was set, else
// what is in effect; a resolved too old to have it reads as false).
func (b *Bus) Link(ctx context.Context, ifindex int) (Link, error) {
	var path dbus.ObjectPath
	if err := b.conn.Object(busName, managerPath).CallWithContext(ctx, managerIface+".GetLink", 0, int32(ifindex)).Store(&path); err != nil {
		return Link{}, fmt.Errorf("systemd-resolved: GetLink: %w", err)
	}
	obj := b.conn.Object(busName, path)
	get := func(prop string, into any) error {
		var v dbus.Variant
		err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, linkIface, prop).Store(&v)
		if err == nil {
			err = v.Store(into)
		}
		if err != nil {
			return fmt.Errorf("systemd-resolved: reading the %s of link %d: %w", prop, ifindex, err)
		}
		return nil
	}
	var servers []dnsAddress
	var domains []linkDomain
	var l Link
	if err := get("DNS", &servers); err != nil {
		return Link{}, err
	}
	if err := get("Domains", &domains); err != nil {
		return Link{}, err
	}
	if err := get("DefaultRoute", &l.DefaultRoute); err != nil && errorName(err) != "org.freedesktop.DBus.Error.UnknownProperty" {
		return Link{}, err
	}
	for _, a := range servers {
		if addr, ok := netip.AddrFromSlice(a.Address); ok {
			l.Servers = append(l.Servers, addr)
		}
	}
	for _, d := range domains {
		l.Domains = append(l.Domains, Domain{Name: d.Domain, RouteOnly: d.RouteOnly})
	}
	return l, nil
}

var _ Resolve1 = (*Bus)(nil)
