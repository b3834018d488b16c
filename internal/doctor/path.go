package doctor

import (
	"fmt"

	"github.com/gowg/wgtools/internal/conf"
)

// WireGuard's overhead on the path: outer IP header, UDP header and
// WireGuard's own 32 bytes (16 header, 16 tag).
const (
	overhead4 = 60
	overhead6 = 80
)

// checkMTU: the interface's MTU plus WireGuard's overhead must fit the
// MTU of the route to each endpoint (the route's mtu metric, else its
// interface's), or large packets are lost or fragmented.
func checkMTU(s *State) []Finding {
	if !s.ready() {
		return nil
	}
	best, from := 0, ""
	for _, pp := range s.peers() {
		ep := pp.endpoint()
		if !ep.IsValid() {
			continue
		}
		a := ep.Addr().Unmap()
		l, ok := s.lookup(Query{Dst: a, Mark: s.Dev.FwMark})
		if !ok || !l.OK || l.Route.Dev == s.Iface {
			continue
		}
		path := l.Route.MTU
		what := "route mtu"
		if path <= 0 {
			link, ok := s.linkByIndex(l.Route.LinkIndex)
			if !ok {
				continue
			}
			path, what = link.MTU, "the MTU of "+link.Name
		}
		over := overhead4
		if a.Is6() {
			over = overhead6
		}
		if fit := path - over; best == 0 || fit < best {
			best = fit
			from = fmt.Sprintf("the route to %s (%s) has %s %d; WireGuard over IPv%d adds %d bytes, so at most %d fits",
				conf.FormatAddr(a), l.Route.Dev, what, path, famNum(a), over, fit)
		}
	}
	if best <= 0 || s.Link.MTU <= best {
		return nil
	}
	return []Finding{{
		Check: "mtu-too-large", Severity: Problem, Subject: "interface " + s.Iface,
		Summary:  fmt.Sprintf("the MTU %d is larger than the path to the peers allows (%d): large packets are lost", s.Link.MTU, best),
		Evidence: []string{fmt.Sprintf("%s has MTU %d", s.Iface, s.Link.MTU), from},
		Fix: []Fix{
			{Command: fmt.Sprintf("ip link set mtu %d up dev %s", best, s.Iface)},
			{File: s.Path, Section: "Interface", Line: fmt.Sprintf("MTU = %d", best)},
		},
	}}
}
