package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/quick"
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

// checkDNS: the file's DNS servers must show up for the interface
// (resolvconf's record, systemd-resolved's link) or in /etc/resolv.conf.
func checkDNS(s *State) []Finding {
	want := s.File.Interface.DNS
	if len(want) == 0 || s.Link == nil || len(s.DNS.Sources) == 0 {
		return nil
	}
	var missing []string
	for _, d := range want {
		if !slices.Contains(s.DNS.Servers, d) {
			missing = append(missing, conf.FormatAddr(d))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	have := "none"
	if len(s.DNS.Servers) > 0 {
		var h []string
		for _, a := range s.DNS.Servers {
			h = append(h, conf.FormatAddr(a))
		}
		have = strings.Join(h, ", ")
	}
	input := quick.DNSInput(&s.File.Interface)
	return []Finding{{
		Check: "dns-not-applied", Severity: Problem, Subject: "DNS",
		Summary: fmt.Sprintf("the file's DNS %s is not in use", strings.Join(missing, ", ")),
		Evidence: []string{
			fmt.Sprintf("looked in %s", strings.Join(s.DNS.Sources, ", ")),
			"nameservers found there: " + have,
		},
		Fix: []Fix{{Command: fmt.Sprintf("printf '%s' | resolvconf -a %s -m 0 -x", strings.ReplaceAll(input, "\n", `\n`), s.DNS.Record)}},
	}}
}
