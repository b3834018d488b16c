package quick

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gowg/wgtools/internal/conf"
)

// Full tunnel: an allowed IP of /0 with Table unset or auto. The reference
// then routes everything through the interface with an fwmark, a table of
// its own, two policy rules per family and anti-spoofing firewall rules
// (add_default). That arrives with issue 5; until then such files are
// refused before anything changes.

// isFullTunnel reports whether the file asks for the default-route handling.
func isFullTunnel(c *conf.Config) bool {
	if t := c.Interface.Table; t != "" && t != conf.TableAuto {
		return false
	}
	for i := range c.Peers {
		for _, a := range c.Peers[i].AllowedIPs {
			if !a.Remove && a.Prefix.Bits() == 0 {
				return true
			}
		}
	}
	return false
}

// refuseFullTunnel fails for full-tunnel files, before anything changes.
func refuseFullTunnel(l *Loaded) error {
	if !isFullTunnel(&l.File.Config) {
		return nil
	}
	return fmt.Errorf("`%s' routes all traffic through `%s' (AllowedIPs 0.0.0.0/0 or ::/0 with Table unset or auto), which this version of wg-quick cannot set up yet; nothing was changed", l.Path, l.Interface)
}

// fullTunnelSteps is add_default for one /0 prefix: the place where the
// fwmark (`wg set IF fwmark N`), the policy rules (`ip -4 rule add not
// fwmark N table N`, `ip -4 rule add table main suppress_prefixlength 0`),
// the route into table N, the firewall (internal/firewall) and
// src_valid_mark steps go, each with its Undo (rankRules, rankFirewall).
// Reached only when a PreUp hook added a /0 the file did not have.
func fullTunnelSteps(sys *Sys, l *Loaded, p netip.Prefix) []Step {
	return []Step{{
		Do: func(context.Context) error {
			return fail(1, "%s: `%s' got the allowed IP %s (from a PreUp hook): full-tunnel mode is not supported yet", sys.Prog, l.Interface, conf.FormatPrefix(p))
		},
	}}
}

// removeFirewallSteps is remove_firewall (issue 5): nothing until wg-quick
// adds firewall rules.
func removeFirewallSteps(sys *Sys, l *Loaded) []Step { return nil }
