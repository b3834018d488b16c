package netlinkx

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// TestRouteGetAllSystem: RouteGetAll answers each destination as the
// netlink package's RouteGet does one at a time (route, interface, table,
// type, mtu metric and its lock, or the kernel's error), across several
// batches, for both families.
func TestRouteGetAllSystem(t *testing.T) {
	if !testnet.InHost() {
		testnet.Require(t)
		h := testnet.NewHost(t, "nlxg")
		for _, c := range [][]string{
			{"link", "add", "d0", "type", "veth", "peer", "name", "d1"},
			{"link", "set", "d0", "up"}, {"link", "set", "d1", "up"},
			{"link", "add", "e0", "mtu", "1400", "type", "veth", "peer", "name", "e1"},
			{"link", "set", "e0", "up"}, {"link", "set", "e1", "up"},
			{"addr", "add", "192.0.2.1/24", "dev", "d0"},
			{"addr", "add", "2001:db8::1/64", "dev", "d0", "nodad"},
			{"route", "add", "10.9.0.0/16", "dev", "d0", "mtu", "1300"},
			{"route", "add", "10.8.0.0/16", "dev", "d0", "mtu", "lock", "1280"},
			{"route", "add", "10.7.0.0/16", "dev", "e0", "table", "1234"},
			{"rule", "add", "to", "10.7.0.0/16", "table", "1234"},
			{"route", "add", "blackhole", "10.6.0.0/16"},
			{"-6", "route", "add", "2001:db8:9::/48", "dev", "e0", "mtu", "1350"},
		} {
			h.MustRun("ip", c...)
		}
		h.RunTest(t, "TestRouteGetAllSystem")
		return
	}
	h := New()
	var dsts []netip.Addr
	for i := range 600 {
		var a string
		switch i % 8 {
		case 0:
			a = fmt.Sprintf("192.0.2.%d", i%250+2)
		case 1:
			a = fmt.Sprintf("10.9.%d.%d", i/250, i%250+1)
		case 2:
			a = fmt.Sprintf("10.8.%d.%d", i/250, i%250+1)
		case 3:
			a = fmt.Sprintf("10.7.%d.%d", i/250, i%250+1)
		case 4:
			a = fmt.Sprintf("10.6.%d.%d", i/250, i%250+1) // blackhole: an error
		case 5:
			a = fmt.Sprintf("198.51.100.%d", i%250+1) // no route: an error
		case 6:
			a = fmt.Sprintf("2001:db8::%x", i+2)
		case 7:
			a = fmt.Sprintf("2001:db8:9::%x", i+2)
		}
		dsts = append(dsts, netip.MustParseAddr(a))
	}
	got := h.RouteGetAll(dsts)
	var routes, errs int
	for i, d := range dsts {
		list, err := h.h.RouteGet(d.AsSlice())
		var want RouteLookup
		switch {
		case err != nil:
			want.Err = err
		case len(list) > 0:
			want.Route, want.OK = routeOf(family(d), list[0]), true
		}
		g := got[i]
		if g.OK != want.OK || g.Route != want.Route || !sameError(g.Err, want.Err) {
			t.Errorf("%s: got %+v, want %+v", d, g, want)
		}
		if g.OK {
			routes++
		} else {
			errs++
		}
	}
	// Both kinds of answer, and every kind of route, were seen.
	if routes != 450 || errs != 150 {
		t.Errorf("%d routes and %d errors, want 450 and 150", routes, errs)
	}
	for _, c := range []struct {
		i     int
		mtu   int
		lock  bool
		table uint32
	}{{i: 1, mtu: 1300}, {i: 2, mtu: 1280, lock: true}, {i: 3, table: 1234}, {i: 7, mtu: 1350}} {
		r := got[c.i].Route
		if r.MTU != c.mtu || r.MTULock != c.lock || (c.table != 0 && r.Table != c.table) {
			t.Errorf("%s: %+v", dsts[c.i], r)
		}
	}
}

// sameError: both nil, or the same message.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}
