package dns

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
)

// Resolve1 is the part of systemd-resolved's D-Bus API
// (org.freedesktop.resolve1.Manager) that wg-quick uses; *Bus is the real
// one. ifindex is the interface's index in the caller's network namespace,
// which must be resolved's.
type Resolve1 interface {
	SetLinkDNS(ctx context.Context, ifindex int, servers []netip.Addr) error
	SetLinkDomains(ctx context.Context, ifindex int, domains []Domain) error
	SetLinkDefaultRoute(ctx context.Context, ifindex int, on bool) error
	RevertLink(ctx context.Context, ifindex int) error
	// Link reads back what resolved holds for the link (save reads its
	// servers; doctor compares all of it with what Plan would set).
	Link(ctx context.Context, ifindex int) (Link, error)
}

// Link is what systemd-resolved holds for a link.
type Link struct {
	Servers []netip.Addr
	// Domains are its search and routing domains.
	Domains []Domain
	// DefaultRoute: the link is a default route for queries (names
	// under no link's routing domain go to its servers).
	DefaultRoute bool
}

// Domain is one search or routing domain of a link.
type Domain struct {
	Name string
	// RouteOnly: used to route queries to the link, not to complete
	// single-label names (written with a leading "~").
	RouteOnly bool
}

func (d Domain) String() string {
	if d.RouteOnly {
		return "~" + d.Name
	}
	return d.Name
}

// ParseDomain reads a search domain as written in a DNS line ("~corp" is
// routing-only; "~." routes every query).
func ParseDomain(s string) Domain {
	if name, ok := strings.CutPrefix(s, "~"); ok {
		return Domain{Name: name, RouteOnly: true}
	}
	return Domain{Name: s}
}

// Settings is what a tunnel asks of systemd-resolved.
type Settings struct {
	Servers []netip.Addr
	// Search are the file's search domains, as written.
	Search []string
	// FullTunnel routes every query through the link: the "~." routing
	// domain and the link as resolved's default route, which is what
	// systemd's resolvconf makes of the reference's -x.
	FullTunnel bool
}

// Op is one change to systemd-resolved. String is the resolvectl command
// that makes the same change.
type Op interface {
	String() string
	// Apply makes the change for the link with index ifindex.
	Apply(ctx context.Context, r Resolve1, ifindex int) error
}

// SetDNS is SetLinkDNS: `resolvectl dns LINK SERVER...`.
type SetDNS struct {
	Link    string
	Servers []netip.Addr
}

// SetDomains is SetLinkDomains: `resolvectl domain LINK DOMAIN...`.
type SetDomains struct {
	Link    string
	Domains []Domain
}

// SetDefaultRoute is SetLinkDefaultRoute: `resolvectl default-route LINK yes|no`.
type SetDefaultRoute struct {
	Link string
	On   bool
}

// Revert is RevertLink: `resolvectl revert LINK`, which drops everything
// set on the link.
type Revert struct{ Link string }

func (o SetDNS) String() string {
	words := []string{"resolvectl", "dns", o.Link}
	for _, a := range o.Servers {
		words = append(words, conf.FormatAddr(a))
	}
	return strings.Join(words, " ")
}

func (o SetDomains) String() string {
	words := []string{"resolvectl", "domain", o.Link}
	for _, d := range o.Domains {
		words = append(words, shellWord(d.String()))
	}
	return strings.Join(words, " ")
}

func (o SetDefaultRoute) String() string {
	v := "no"
	if o.On {
		v = "yes"
	}
	return "resolvectl default-route " + o.Link + " " + v
}

func (o Revert) String() string { return "resolvectl revert " + o.Link }

func (o SetDNS) Apply(ctx context.Context, r Resolve1, ifindex int) error {
	return r.SetLinkDNS(ctx, ifindex, o.Servers)
}

func (o SetDomains) Apply(ctx context.Context, r Resolve1, ifindex int) error {
	return r.SetLinkDomains(ctx, ifindex, o.Domains)
}

func (o SetDefaultRoute) Apply(ctx context.Context, r Resolve1, ifindex int) error {
	return r.SetLinkDefaultRoute(ctx, ifindex, o.On)
}

func (o Revert) Apply(ctx context.Context, r Resolve1, ifindex int) error {
	return r.RevertLink(ctx, ifindex)
}

// shellWord quotes a word for a shell when it holds anything but letters,
// digits and . _ - (a "~" leading a word is the shell's home directory).
func shellWord(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// everything is the routing domain "~.", which matches every name.
var everything = Domain{Name: ".", RouteOnly: true}

// Plan is what setting s on link takes: the servers; the search domains
// (and, for a full tunnel, "~."); the link as resolved's default route for
// a full tunnel, and not for a split tunnel with domains (only names under
// them go to its servers, as NetworkManager does for a VPN without the
// default route; with no domain, resolved's own choice, so that the
// servers are used at all). Nothing when there is no server: search
// domains alone do nothing, as in the reference. The caller undoes it all
// with Revert.
func Plan(link string, s Settings) []Op {
	if len(s.Servers) == 0 {
		return nil
	}
	ops := []Op{SetDNS{Link: link, Servers: s.Servers}}
	var domains []Domain
	for _, d := range s.Search {
		domains = append(domains, ParseDomain(d))
	}
	if s.FullTunnel && !slices.Contains(domains, everything) {
		domains = append(domains, everything)
	}
	if len(domains) > 0 {
		ops = append(ops, SetDomains{Link: link, Domains: domains})
	}
	switch {
	case s.FullTunnel:
		ops = append(ops, SetDefaultRoute{Link: link, On: true})
	case len(domains) > 0:
		ops = append(ops, SetDefaultRoute{Link: link, On: false})
	}
	return ops
}
