package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/netlinkx"
	"github.com/gowg/wgtools/internal/quick"
)

// checkFullTunnel looks at what a full tunnel needs beyond routes: for
// each family with a /0, the policy rules "not fwmark M table M" and
// "table main suppress_prefixlength 0" and the default route in table M;
// for IPv4, that the peers' replies, which arrive on the endpoint's
// interface, survive a strict rp_filter (src_valid_mark and the
// restore-mark rule let the reverse-path check see the tunnel's fwmark).
func checkFullTunnel(s *State) []Finding {
	if !s.ready() || !quick.IsFullTunnel(s.File) {
		return nil
	}
	mark := s.Dev.FwMark
	subject := "full tunnel on " + s.Iface
	redo := fmt.Sprintf("wg-quick down %[1]s && wg-quick up %[1]s", s.quickArg())
	if mark == 0 {
		return []Finding{{
			Check: "fulltunnel-rules", Severity: Problem, Subject: subject,
			Summary:  "the interface has no fwmark: its own packets cannot be told from the ones it carries",
			Evidence: []string{"`wg show " + s.Iface + " fwmark`: off"},
			Fix:      []Fix{{Command: redo}},
		}}
	}
	var out []Finding
	for _, fam := range families(s.File) {
		flag, def := "-4", "0.0.0.0/0"
		if fam == 6 {
			flag, def = "-6", "::/0"
		}
		var missing []string
		var fixes []Fix
		if !slices.ContainsFunc(s.Rules, func(r ruleT) bool { return famOfRule(r) == fam && isTunnelRule(r, mark) }) {
			missing = append(missing, fmt.Sprintf("the rule `not fwmark %d lookup %d`", mark, mark))
			fixes = append(fixes, Fix{Command: fmt.Sprintf("ip %s rule add not fwmark %d table %d", flag, mark, mark)})
		}
		if !slices.ContainsFunc(s.Rules, func(r ruleT) bool { return famOfRule(r) == fam && isSuppress(r) }) {
			missing = append(missing, "the rule `lookup main suppress_prefixlength 0`")
			fixes = append(fixes, Fix{Command: fmt.Sprintf("ip %s rule add table main suppress_prefixlength 0", flag)})
		}
		if !slices.ContainsFunc(s.Routes, func(r Route) bool {
			return r.Table == mark && r.Dst.Bits() == 0 && famNum(r.Dst.Addr()) == fam && r.Dev == s.Iface
		}) {
			missing = append(missing, fmt.Sprintf("the route %s dev %s in table %d", def, s.Iface, mark))
			fixes = append(fixes, Fix{Command: fmt.Sprintf("ip %s route add %s dev %s table %d", flag, def, s.Iface, mark)})
		}
		if len(missing) > 0 {
			out = append(out, Finding{
				Check: "fulltunnel-rules", Severity: Problem, Subject: subject,
				Summary:  fmt.Sprintf("the IPv%d full tunnel misses %s", fam, strings.Join(missing, ", ")),
				Evidence: []string{fmt.Sprintf("`ip %s rule` and `ip %s route show table %d` do not have them", flag, flag, mark)},
				Fix:      append(fixes, Fix{Text: "or set it all up again: `" + redo + "`"}),
			})
		}
	}
	if slices.Contains(families(s.File), 4) {
		out = append(out, reversePath(s, mark, redo)...)
	}
	return out
}

type ruleT = netlinkx.Rule

// afInet6 is AF_INET6 (linux/socket.h).
const afInet6 = 10

func famOfRule(r ruleT) int {
	if r.Family == afInet6 {
		return 6
	}
	return 4
}

func isTunnelRule(r ruleT, mark uint32) bool {
	return r.Not && r.FwMark == mark && r.Table == mark && !r.Other
}

func isSuppress(r ruleT) bool {
	return r.Table == rtTableMain && r.SuppressPrefixlen == 0 && !r.Not && r.FwMark == 0 && !r.Other
}

// families lists the families (4, 6) that have a /0 in the file.
func families(c *conf.Config) []int {
	var out []int
	for _, p := range c.Peers {
		for _, a := range p.AllowedIPs {
			if a.Remove || a.Prefix.Bits() != 0 {
				continue
			}
			f := famNum(a.Prefix.Addr())
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	return out
}

// reversePath: the peers' replies arrive on the endpoint's interface from
// the endpoint, whose route without the fwmark is the tunnel; a strict
// rp_filter drops them unless the mark is restored from conntrack (the
// guard rules) and counted (src_valid_mark).
func reversePath(s *State, mark uint32, redo string) []Finding {
	all := s.sysctl("net/ipv4/conf/all/rp_filter")
	var strict []string
	for _, dev := range s.endpointDevs(mark) {
		v := s.sysctl("net/ipv4/conf/" + dev + "/rp_filter")
		if max(all, v) == "1" {
			strict = append(strict, fmt.Sprintf("net.ipv4.conf.all.rp_filter = %s, net.ipv4.conf.%s.rp_filter = %s: strict on %s", all, dev, v, dev))
		}
	}
	svm := s.sysctl("net/ipv4/conf/all/src_valid_mark")
	guard := slices.Contains(s.GuardMarks, mark)
	subject := "full tunnel on " + s.Iface
	why := "the peers' replies arrive on the endpoint's interface, and without the tunnel's fwmark the reverse-path lookup for their source leads into the tunnel, so a strict rp_filter drops them"
	if svm != "" && svm != "1" {
		f := Finding{
			Check: "fulltunnel-src-valid-mark", Subject: subject,
			Evidence: []string{"net.ipv4.conf.all.src_valid_mark = " + svm},
			Fix:      []Fix{{Command: "sysctl -w net.ipv4.conf.all.src_valid_mark=1"}},
		}
		if len(strict) > 0 {
			f.Severity = Problem
			f.Summary = "src_valid_mark is off while rp_filter is strict: " + why
			f.Evidence = append(f.Evidence, strict...)
		} else {
			f.Severity = Note
			f.Summary = "src_valid_mark is off (wg-quick sets it on): harmless while rp_filter is not strict on the endpoint's interface"
		}
		return []Finding{f}
	}
	if len(strict) > 0 && !guard {
		return []Finding{{
			Check: "fulltunnel-rp-filter", Severity: Problem, Subject: subject,
			Summary: "rp_filter is strict and the rule that restores the tunnel's fwmark on its replies is missing: " + why,
			Evidence: append(strict, fmt.Sprintf("no rule restores mark %d from conntrack (nft table %s, or iptables rules marked %q)",
				mark, firewall.TableName(s.Iface), firewall.Marker(s.Iface))),
			Fix: []Fix{
				{Text: "put wg-quick's rules back: `" + redo + "`"},
				{Text: "or make rp_filter loose:"},
				{Command: "sysctl -w net.ipv4.conf.all.rp_filter=2"},
			},
		}}
	}
	return nil
}

// endpointDevs are the interfaces the routes to the peers' endpoints
// (with the fwmark) leave by.
func (s *State) endpointDevs(mark uint32) []string {
	var out []string
	for _, pp := range s.peers() {
		ep := pp.endpoint()
		if !ep.IsValid() || !ep.Addr().Unmap().Is4() {
			continue
		}
		if l, ok := s.lookup(Query{Dst: ep.Addr().Unmap(), Mark: mark}); ok && l.OK && l.Route.Dev != "" && !slices.Contains(out, l.Route.Dev) {
			out = append(out, l.Route.Dev)
		}
	}
	return out
}
