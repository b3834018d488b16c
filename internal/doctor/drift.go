package doctor

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/quick"
)

// Drift is the built-in comparison of the file with the live interface:
// peers (present, allowed IPs, keepalive, an endpoint the interface lacks),
// listen port, fwmark, addresses, MTU, and the routes wg-quick adds for
// the allowed IPs. It stands in for the reload plan (the steps from the
// current state to the file's) until that is available: Options.Differ
// takes the plan's answer instead.
func Drift(s *State) []Difference {
	if s.Dev == nil || s.File == nil {
		return nil
	}
	var out []Difference
	add := func(what, format string, a ...any) {
		out = append(out, Difference{What: what, Text: fmt.Sprintf(format, a...)})
	}
	i := &s.File.Interface
	if i.ListenPort != nil && *i.ListenPort != 0 && *i.ListenPort != s.Dev.ListenPort {
		add("listen-port", "ListenPort is %d in the file, %d on the interface", *i.ListenPort, s.Dev.ListenPort)
	}
	if i.FwMark != nil && *i.FwMark != s.Dev.FwMark {
		add("fwmark", "FwMark is %d in the file, %d on the interface", *i.FwMark, s.Dev.FwMark)
	}
	if i.MTU != nil && s.Link != nil && *i.MTU != s.Link.MTU {
		add("mtu", "MTU is %d in the file, %d on the interface", *i.MTU, s.Link.MTU)
	}
	for _, p := range s.File.Peers {
		if p.Remove {
			continue
		}
		d := devPeer(s.Dev, p.PublicKey)
		if d == nil {
			add("peer", "peer %s is in the file but not on the interface", p.PublicKey)
			continue
		}
		want := allowed(&p)
		slices.SortFunc(want, comparePrefix)
		want = slices.Compact(want)
		have := slices.Clone(d.AllowedIPs)
		for j := range have {
			have[j] = have[j].Masked()
		}
		slices.SortFunc(have, comparePrefix)
		if !slices.Equal(want, have) {
			add("peer", "peer %s: AllowedIPs are %s in the file, %s on the interface", p.PublicKey, orNone(want), orNone(have))
		}
		ka := uint16(0)
		if p.PersistentKeepalive != nil {
			ka = *p.PersistentKeepalive
		}
		if ka != d.PersistentKeepalive {
			add("peer", "peer %s: PersistentKeepalive is %d in the file, %d on the interface", p.PublicKey, ka, d.PersistentKeepalive)
		}
		if p.Endpoint != nil && !d.Endpoint.IsValid() {
			add("peer", "peer %s: Endpoint is %s in the file, none on the interface", p.PublicKey, conf.FormatEndpoint(*p.Endpoint))
		}
		if (p.PresharedKey != nil && !p.PresharedKey.IsZero()) != !d.PresharedKey.IsZero() {
			add("peer", "peer %s: a preshared key in one of the file and the interface only", p.PublicKey)
		}
	}
	for _, d := range s.Dev.Peers {
		if !slices.ContainsFunc(s.File.Peers, func(p conf.Peer) bool { return p.PublicKey == d.PublicKey && !p.Remove }) {
			add("peer", "peer %s is on the interface but not in the file", d.PublicKey)
		}
	}
	var want []netip.Prefix
	for _, a := range i.Addresses {
		want = append(want, a.Prefix)
	}
	for _, a := range want {
		if !slices.Contains(s.Addrs, a) {
			add("address", "address %s is in the file but not on the interface", conf.FormatPrefix(a))
		}
	}
	for _, a := range s.Addrs {
		if a.Addr().IsLinkLocalUnicast() {
			continue
		}
		if !slices.Contains(want, a) {
			add("address", "address %s is on the interface but not in the file", conf.FormatPrefix(a))
		}
	}
	out = append(out, missingRoutes(s)...)
	return out
}

// missingRoutes: with Table unset, auto or a table, wg-quick routes every
// allowed IP (but a full tunnel's /0) to the interface.
func missingRoutes(s *State) []Difference {
	if s.File.Interface.Table == conf.TableOff || s.Link == nil {
		return nil
	}
	table := uint32(rtTableMain)
	if s.File.Interface.TableID != 0 {
		table = s.File.Interface.TableID
	}
	full := quick.IsFullTunnel(s.File)
	var out []Difference
	for _, p := range s.File.Peers {
		for _, a := range allowed(&p) {
			if a.Bits() == 0 && full {
				continue
			}
			if !slices.ContainsFunc(s.Routes, func(r Route) bool {
				return r.Table == table && r.LinkIndex == s.Link.Index && r.Dst.Addr().Is4() == a.Addr().Is4() &&
					r.Dst.Bits() <= a.Bits() && r.Dst.Masked().Contains(a.Addr())
			}) {
				out = append(out, Difference{What: "route", Text: fmt.Sprintf("no route for %s (peer %s) through %s in table %d", conf.FormatPrefix(a), p.PublicKey, s.Iface, table)})
			}
		}
	}
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func orNone(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "(none)"
	}
	return formatPrefixes(ps)
}
