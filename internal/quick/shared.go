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
