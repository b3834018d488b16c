package netlinkx

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestKernelRouteGetAll: RouteGetAll answers each destination as the
// netlink package's RouteGet does one at a time (route, interface, table,
// type, mtu metric and its lock, or the kernel's error), across several
// batches, for both families; the same when the receive buffer is so
// small that the answers overrun it. On this machine and on the VM's
// kernels (make vmtest).
func TestKernelRouteGetAll(t *testing.T) {
	if !inNamespace(t, "nlxg",
		[]string{"link", "add", "d0", "type", "veth", "peer", "name", "d1"},
		[]string{"link", "set", "d0", "up"}, []string{"link", "set", "d1", "up"},
		[]string{"link", "add", "e0", "mtu", "1400", "type", "veth", "peer", "name", "e1"},
		[]string{"link", "set", "e0", "up"}, []string{"link", "set", "e1", "up"},
		[]string{"addr", "add", "192.0.2.1/24", "dev", "d0"},
		[]string{"addr", "add", "2001:db8::1/64", "dev", "d0", "nodad"},
		[]string{"route", "add", "10.9.0.0/16", "dev", "d0", "mtu", "1300"},
		[]string{"route", "add", "10.8.0.0/16", "dev", "d0", "mtu", "lock", "1280"},
		[]string{"route", "add", "10.7.0.0/16", "dev", "e0", "table", "1234"},
		[]string{"rule", "add", "to", "10.7.0.0/16", "table", "1234"},
		[]string{"route", "add", "blackhole", "10.6.0.0/16"},
		[]string{"-6", "route", "add", "2001:db8:9::/48", "dev", "e0", "mtu", "1350"},
	) {
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
	// Asked with the default socket, then with a receive buffer so small
	// that the answers overrun it (the lost ones are asked again).
	overruns := 0
	tiny := New()
	tiny.batch = batchTuning{rcvbuf: 1, window: maxWindow, onOverrun: func() { overruns++ }}
	for _, c := range []struct {
		name string
		h    *Handle
	}{{"default", h}, {"tiny buffer", tiny}} {
		// No subtests: in the VM's form they would run on another thread,
		// in another namespace.
		checkRouteGetAll(t, c.name, h, dsts, c.h.RouteGetAll(dsts))
	}
	if overruns == 0 {
		t.Errorf("a tiny receive buffer was never overrun: the recovery went untested")
	}
	t.Logf("%d overruns with the tiny buffer", overruns)
}

// checkRouteGetAll compares RouteGetAll's answers with RouteGet's.
func checkRouteGetAll(t *testing.T, name string, h *Handle, dsts []netip.Addr, got []RouteLookup) {
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
			t.Errorf("%s: %s: got %+v, want %+v", name, d, g, want)
		}
		if g.OK {
			routes++
		} else {
			errs++
		}
	}
	// Both kinds of answer, and every kind of route, were seen.
	if routes != 450 || errs != 150 {
		t.Errorf("%s: %d routes and %d errors, want 450 and 150", name, routes, errs)
	}
	for _, c := range []struct {
		i     int
		mtu   int
		lock  bool
		table uint32
	}{{i: 1, mtu: 1300}, {i: 2, mtu: 1280, lock: true}, {i: 3, table: 1234}, {i: 7, mtu: 1350}} {
		r := got[c.i].Route
		if r.MTU != c.mtu || r.MTULock != c.lock || (c.table != 0 && r.Table != c.table) {
			t.Errorf("%s: %s: %+v", name, dsts[c.i], r)
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
