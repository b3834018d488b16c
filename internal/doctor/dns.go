package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/quick"
)

// checkDNS: the file's DNS must be where up puts it. With
// systemd-resolved as the manager, the link must hold what up sets there
// (see checkResolved); otherwise the file's servers must show up for the
// interface (resolvconf's record, resolved's state file) or in
// /etc/resolv.conf.
func checkDNS(s *State) []Finding {
	want := s.File.Interface.DNS
	if len(want) == 0 || s.Link == nil || len(s.DNS.Sources) == 0 {
		return nil
	}
	if s.DNS.Resolved != nil {
		return checkResolved(s)
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
	f := Finding{
		Check: "dns-not-applied", Severity: Problem, Subject: "DNS",
		Summary: fmt.Sprintf("the file's DNS %s is not in use", strings.Join(missing, ", ")),
		Evidence: []string{
			fmt.Sprintf("looked in %s", strings.Join(s.DNS.Sources, ", ")),
			"nameservers found there: " + formatAddrs(s.DNS.Servers),
		},
	}
	if s.DNS.Missing != "" {
		// Neither a resolvconf nor systemd-resolved: up would refuse the
		// file; what is missing is the fix.
		f.Evidence = append(f.Evidence, "no DNS manager: "+s.DNS.Missing)
		f.Fix = []Fix{{Text: s.DNS.Missing}}
		return []Finding{f}
	}
	input := dns.ResolvconfInput(s.File.Interface.DNS, s.File.Interface.DNSSearch)
	f.Fix = []Fix{{Command: fmt.Sprintf("printf '%s' | resolvconf -a %s -m 0 -x", strings.ReplaceAll(input, "\n", `\n`), s.DNS.Record)}}
	return []Finding{f}
}

// checkResolved compares what systemd-resolved holds for the link with
// what up sets there (quick.ResolvedPlan): the servers, the search and
// routing domains, and whether the link is resolved's default route
// where up says so. The fix is up's own resolvectl lines, after a revert
// when the link has domains that up would not replace.
func checkResolved(s *State) []Finding {
	held := s.DNS.Resolved
	plan := resolvedPlan(s)
	var wrong []string
	var wantDomains []dns.Domain
	setsDomains := false
	for _, op := range plan {
		switch o := op.(type) {
		case dns.SetDNS:
			if missing := notIn(o.Servers, held.Servers); len(missing) > 0 {
				wrong = append(wrong, fmt.Sprintf("the file's DNS %s is not in use", formatAddrs(missing)))
			} else if extra := notIn(held.Servers, o.Servers); len(extra) > 0 {
				wrong = append(wrong, fmt.Sprintf("%s's queries also go to %s, which the file does not name", s.Iface, formatAddrs(extra)))
			}
		case dns.SetDomains:
			wantDomains, setsDomains = o.Domains, true
		case dns.SetDefaultRoute:
			switch {
			case o.On && !held.DefaultRoute:
				wrong = append(wrong, fmt.Sprintf("%s is not systemd-resolved's default route: names under no link's domain do not go through the tunnel", s.Iface))
			case !o.On && held.DefaultRoute:
				wrong = append(wrong, fmt.Sprintf("%s is systemd-resolved's default route: names outside the file's domains go through the tunnel too", s.Iface))
			}
		}
	}
	if !sameDomains(wantDomains, held.Domains) {
		wrong = append(wrong, fmt.Sprintf("the link's domains are %s, the file's DNS makes them %s", formatDomains(held.Domains), formatDomains(wantDomains)))
	}
	if len(wrong) == 0 {
		return nil
	}
	route := "no"
	if held.DefaultRoute {
		route = "yes"
	}
	f := Finding{
		Check: "dns-not-applied", Severity: Problem, Subject: "DNS",
		Summary: strings.Join(wrong, "; "),
		Evidence: []string{
			fmt.Sprintf("systemd-resolved's link %s (read over D-Bus): servers %s; domains %s; default route %s",
				s.Iface, formatAddrs(held.Servers), formatDomains(held.Domains), route),
		},
	}
	if !setsDomains && len(held.Domains) > 0 {
		// up sets no domain: only a revert takes these away.
		f.Fix = append(f.Fix, Fix{Command: dns.Revert{Link: s.Iface}.String()})
	}
	for _, op := range plan {
		f.Fix = append(f.Fix, Fix{Command: op.String()})
	}
	return []Finding{f}
}

// resolvedPlan is what up sets in systemd-resolved for the file's DNS
// (the resolved backend's Set): the operations whose resolvectl commands
// up prints.
func resolvedPlan(s *State) []dns.Op {
	i := &s.File.Interface
	return dns.Plan(s.Iface, dns.Settings{Servers: i.DNS, Search: i.DNSSearch, FullTunnel: quick.IsFullTunnel(s.File)})
}

// notIn lists the addresses of a that b lacks.
func notIn(a, b []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y netip.Addr) bool { return y.Unmap() == x.Unmap() }) {
			out = append(out, x)
		}
	}
	return out
}

// sameDomains compares two domain lists as sets, names without case or a
// final dot (as DNS compares them).
func sameDomains(a, b []dns.Domain) bool {
	norm := func(ds []dns.Domain) []string {
		var out []string
		for _, d := range ds {
			name := strings.ToLower(d.Name)
			if name != "." {
				name = strings.TrimSuffix(name, ".")
			}
			d.Name = name
			if s := d.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

func formatAddrs(as []netip.Addr) string {
	if len(as) == 0 {
		return "none"
	}
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = conf.FormatAddr(a)
	}
	return strings.Join(s, ", ")
}

func formatDomains(ds []dns.Domain) string {
	if len(ds) == 0 {
		return "none"
	}
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, " ")
}
