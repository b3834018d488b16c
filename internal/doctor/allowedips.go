package doctor

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
)

func checkAllowedIPs(s *State) []Finding {
	out := overlaps(s)
	if s.ready() {
		out = append(out, unrouted(s)...)
	}
	return out
}

// overlaps: the same prefix on two peers is a problem (the interface
// keeps it only on the last); a prefix inside another peer's is a note
// (the longer one wins, which may be meant).
func overlaps(s *State) []Finding {
	var out []Finding
	pps := s.peers()
	for i := range pps {
		for j := i + 1; j < len(pps); j++ {
			a, b := pps[i].file, pps[j].file
			for _, pa := range allowed(a) {
				for _, pb := range allowed(b) {
					if !pa.Overlaps(pb) {
						continue
					}
					ev := []string{
						fmt.Sprintf("peer %s: AllowedIPs = %s", a.PublicKey, formatPrefixes(allowed(a))),
						fmt.Sprintf("peer %s: AllowedIPs = %s", b.PublicKey, formatPrefixes(allowed(b))),
					}
					if pa == pb {
						out = append(out, Finding{
							Check: "allowedips-overlap", Severity: Problem, Subject: "AllowedIPs " + conf.FormatPrefix(pa),
							Summary:  fmt.Sprintf("%s is in the AllowedIPs of two peers: the interface gives it to the last one only (%s)", conf.FormatPrefix(pa), b.PublicKey),
							Evidence: ev,
							Fix: []Fix{
								dropFix(s, a, pa, "if the network is behind the second peer"),
								dropFix(s, b, pb, "or, if it is behind the first"),
							},
						})
						continue
					}
					small, big, smallKey := pa, pb, a.PublicKey
					if pb.Bits() > pa.Bits() {
						small, big, smallKey = pb, pa, b.PublicKey
					}
					out = append(out, Finding{
						Check: "allowedips-overlap", Severity: Note, Subject: "AllowedIPs " + conf.FormatPrefix(small),
						Summary:  fmt.Sprintf("%s lies inside %s of another peer: traffic for it goes to peer %s (the longer prefix wins)", conf.FormatPrefix(small), conf.FormatPrefix(big), smallKey),
						Evidence: ev,
					})
				}
			}
		}
	}
	return out
}

// dropFix takes x out of a peer's AllowedIPs in the file.
func dropFix(s *State, p *conf.Peer, x netip.Prefix, when string) Fix {
	rest := without(allowed(p), x)
	if len(rest) == 0 {
		return Fix{Text: fmt.Sprintf("%s: remove the AllowedIPs of peer %s in %s (it has no other)", when, p.PublicKey, s.Path)}
	}
	return Fix{File: s.Path, Section: "Peer " + p.PublicKey.String(), Line: "AllowedIPs = " + formatPrefixes(rest), Text: when}
}

func without(ps []netip.Prefix, x netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if p != x {
			out = append(out, p)
		}
	}
	return out
}

// unrouted: each allowed IP (but /0, which the full-tunnel check covers)
// must lead into the interface.
func unrouted(s *State) []Finding {
	var out []Finding
	table := s.File.Interface.Table
	for _, pp := range s.peers() {
		for _, p := range allowed(pp.file) {
			if p.Bits() == 0 {
				continue
			}
			q := Query{Dst: probe(p)}
			l, ok := s.lookup(q)
			if !ok || l.OK && (l.Route.Dev == s.Iface || l.Route.Type == rtnLocal || l.Route.Type == rtnBroadcast) {
				continue
			}
			ev := []string{fmt.Sprintf("`%s`: %s", q, l.answer())}
			f := Finding{
				Check: "allowedips-not-routed", Severity: Problem, Subject: "AllowedIPs " + conf.FormatPrefix(p),
				Evidence: ev,
			}
			add := fmt.Sprintf("ip %s route add %s dev %s", famFlag(p.Addr()), conf.FormatPrefix(p), s.Iface)
			if s.File.Interface.TableID != 0 {
				add += " table " + strconv.FormatUint(uint64(s.File.Interface.TableID), 10)
			}
			if table == conf.TableOff {
				f.Summary = fmt.Sprintf("%s (peer %s) is not routed to %s: the file says Table = off, so wg-quick adds no routes", conf.FormatPrefix(p), pp.file.PublicKey, s.Iface)
				f.Fix = []Fix{{Command: add}, {File: s.Path, Section: "Interface", Line: "PostUp = " + strings.Replace(add, " dev "+s.Iface, " dev %i", 1)}}
				out = append(out, f)
				continue
			}
			others := s.moreSpecific(p)
			if len(others) == 0 {
				continue // the route is missing: interface-differs names it
			}
			f.Summary = fmt.Sprintf("traffic for %s (peer %s) does not go to %s: a route at least as specific sends it elsewhere", conf.FormatPrefix(p), pp.file.PublicKey, s.Iface)
			for _, r := range others {
				f.Evidence = append(f.Evidence, "route: "+describeRoute(r))
			}
			r := others[0]
			f.Fix = []Fix{
				{Text: fmt.Sprintf("if %s is really behind the peer, remove the other route: `ip %s route del %s dev %s`", conf.FormatPrefix(r.Dst), famFlag(p.Addr()), conf.FormatPrefix(r.Dst), r.Dev)},
				{Text: fmt.Sprintf("if it is a local network here (the same addresses on both sides), it cannot be reached through the tunnel: renumber one side, or take %s out of the peer's AllowedIPs", conf.FormatPrefix(p))},
			}
			out = append(out, f)
		}
	}
	return out
}

// moreSpecific lists the routes of the table wg-quick routes into (main,
// or the file's Table) that lie inside p, or equal it, and do not go to
// the interface.
func (s *State) moreSpecific(p netip.Prefix) []Route {
	table := uint32(rtTableMain)
	if s.File.Interface.TableID != 0 {
		table = s.File.Interface.TableID
	}
	var out []Route
	for _, r := range s.Routes {
		if r.Table != table || r.Dev == s.Iface || r.Dst.Addr().Is4() != p.Addr().Is4() {
			continue
		}
		if r.Dst.Bits() >= p.Bits() && p.Contains(r.Dst.Addr()) {
			out = append(out, r)
		}
	}
	return out
}
