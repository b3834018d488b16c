package quick

import (
	"context"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
)

// What `wg-quick doctor` (internal/doctor) needs to judge the system by
// the rules up follows, so that the two cannot drift apart.

// IsFullTunnel reports whether the file asks for the default-route
// handling: an allowed IP of /0 with Table unset or auto.
func IsFullTunnel(c *conf.Config) bool { return isFullTunnel(c) }

// ResolvconfName is the name of the resolvconf record up makes for iface
// (tun.IFACE with Debian's resolvconf, else IFACE).
func ResolvconfName(sys *Sys, iface string) string { return resolvconfName(sys, iface) }

// DNSInput is what up pipes into `resolvconf -a` for the file's DNS.
func DNSInput(i *conf.Interface) string { return dns.ResolvconfInput(i.DNS, i.DNSSearch) }

// SavedDNS lists the nameservers of iface's resolvconf record as save
// reads them (`resolvconf -l NAME`, else resolvconf's state file).
func SavedDNS(ctx context.Context, sys *Sys, iface string) []string { return savedDNS(ctx, sys, iface) }

// DNSManager is the DNS manager up would use on this host (dns.Detect).
func DNSManager(ctx context.Context, sys *Sys) dns.Manager { return dnsManager(ctx, sys) }

// ResolvedPlan is what up sets in systemd-resolved for the file's DNS:
// the operations whose resolvectl commands up prints.
func ResolvedPlan(iface string, c *conf.Config) []dns.Op { return resolvedPlan(iface, c) }

// ResolvedLink reads what systemd-resolved holds for the link with index
// ifindex, over the system bus up uses.
func ResolvedLink(ctx context.Context, sys *Sys, ifindex int) (dns.Link, error) {
	bus, err := resolvedBus(sys)
	if err != nil {
		return dns.Link{}, err
	}
	return bus.Link(ctx, ifindex)
}
