package quick

import (
	"math"
	"net/netip"
	"regexp"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// overhead is what WireGuard adds to a packet over IPv6 (the worst case),
// which wg-quick subtracts for both families.
const overhead = 80

// endpointPattern is the reference's test of a `wg show IF endpoints`
// value: an address it can ask `ip route get` about (no scope id).
var endpointPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\[?([a-z0-9:.]+)\]?:[0-9]+$`) })

// autoMTU is set_mtu_up's choice when the file has no MTU: the smallest
// MTU of the routes to the peers' endpoints (a route's mtu metric, else
// its interface's MTU), else that of the first IPv4 default route, else
// 1500; minus the overhead. Failed lookups are skipped, as in the
// reference.
func autoMTU(n Net, dev *conf.Device) int {
	var addrs []netip.Addr
	asked := map[netip.Addr]bool{}
	for i := range dev.Peers {
		ep := dev.Peers[i].Endpoint
		if !ep.IsValid() {
			continue
		}
		m := endpointPattern().FindStringSubmatch(conf.FormatEndpoint(ep))
		if m == nil {
			continue
		}
		addr, err := netip.ParseAddr(m[1])
		if err != nil || asked[addr] {
			continue
		}
		asked[addr] = true
		addrs = append(addrs, addr)
	}
	best := math.MaxInt32
	n = &memoNet{Net: n, links: map[int]netlinkx.Link{}}
	for _, l := range n.RouteGetAll(addrs) {
		if l.Err != nil || !l.OK {
			continue
		}
		if c, ok := routeMTU(n, l.Route); ok && c < best {
			best = c
		}
	}
	if best == math.MaxInt32 {
		if routes, err := n.Routes(unix.AF_INET, unix.RT_TABLE_MAIN); err == nil {
			// Only the first line of `ip route show default`.
			if r, ok := netlinkx.FirstDefault(routes); ok {
				if c, ok := routeMTU(n, r); ok && c < best {
					best = c
				}
			}
		}
	}
	if best <= 0 || best >= math.MaxInt32 {
		best = 1500
	}
	return best - overhead
}

// routeMTU is the MTU a route shows: its mtu metric (not a locked one,
// which prints as "mtu lock N"), else its interface's.
func routeMTU(n Net, r netlinkx.Route) (int, bool) {
	if r.MTU > 0 && !r.MTULock {
		return r.MTU, true
	}
	if r.LinkIndex <= 0 {
		return 0, false
	}
	l, ok, err := n.LinkByIndex(r.LinkIndex)
	if err != nil || !ok {
		return 0, false
	}
	return l.MTU, true
}

// memoNet remembers links by index (many endpoints share an interface).
type memoNet struct {
	Net
	links map[int]netlinkx.Link
}

func (m *memoNet) LinkByIndex(i int) (netlinkx.Link, bool, error) {
	if l, ok := m.links[i]; ok {
		return l, true, nil
	}
	l, ok, err := m.Net.LinkByIndex(i)
	if err == nil && ok {
		m.links[i] = l
	}
	return l, ok, err
}
