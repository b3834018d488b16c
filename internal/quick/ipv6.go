package quick

import (
	"fmt"
	"net/netip"

	"github.com/gowg/wgtools/internal/ipv6"
)

// A host with IPv6 off (internal/ipv6): the file's IPv6 addresses and
// routes (and ::/0's policy rules and guard rules) are skipped, by
// addressSteps, routeSteps and defaultPhase (and reload's counterparts),
// which read it from their View; up warns once, before any change, naming
// what it skips, and refuses a file that is all IPv6.

// IPv6 is the host's IPv6 state, read once per View.
func (v *View) IPv6() ipv6.Status {
	if v.ipv6 == nil {
		st := ipv6.Probe(v.sys.Files)
		v.ipv6 = &st
	}
	return *v.ipv6
}

// skipped reports whether p (an address or an allowed IP) is left out:
// IPv6 where the host has it off.
func (v *View) skipped(p netip.Prefix) bool {
	return p.Addr().Is6() && !p.Addr().Is4In6() && v.IPv6().Disabled
}

// ipv6Skip is what up checks before any change: where the host has IPv6
// off, the warning that names what the file loses ("" when nothing), or
// the refusal of a file whose every address and allowed IP is IPv6.
func ipv6Skip(sys *Sys, v *View, l *Loaded) (warning string, err error) {
	st := v.IPv6()
	if !st.Disabled {
		return "", nil
	}
	c := &l.File.Config
	var addrs, allowed []netip.Prefix
	for _, a := range c.Interface.Addresses {
		addrs = append(addrs, a.Prefix)
	}
	for i := range c.Peers {
		for _, a := range c.Peers[i].AllowedIPs {
			if !a.Remove {
				allowed = append(allowed, a.Prefix)
			}
		}
	}
	skip := ipv6.Split(addrs, allowed)
	if skip.Empty() {
		return "", nil
	}
	if !skip.IPv4 {
		return "", fmt.Errorf("IPv6 is disabled on this host (%s), and every address and allowed IP of `%s' is IPv6: nothing would work", st.Why, l.Interface)
	}
	return skip.Warning(st.Why), nil
}
