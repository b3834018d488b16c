// Package ipv6 tells whether the host's network namespace can use IPv6,
// and what of a tunnel's configuration is left out when it cannot. It is
// internal to wgtools and knows nothing of how wg-quick applies a
// configuration.
package ipv6

import (
	"errors"
	"io/fs"
	"net/netip"
	"strings"
)

// The sysctls that turn IPv6 off, and the directory that is missing when
// the kernel was booted with ipv6.disable=1.
const (
	procIPv6       = "/proc/sys/net/ipv6"
	allDisabled    = "/proc/sys/net/ipv6/conf/all/disable_ipv6"
	defaultDisable = "/proc/sys/net/ipv6/conf/default/disable_ipv6"
)

// Status is what Probe found.
type Status struct {
	// Disabled: a new interface gets no IPv6 (no address, no route).
	Disabled bool
	// Why names the setting, for messages.
	Why string
}

// Files reads /proc/sys.
type Files interface {
	ReadFile(name string) ([]byte, error)
	Stat(name string) (fs.FileInfo, error)
}

// Probe reads the namespace's IPv6 state: off when the kernel has no IPv6
// (ipv6.disable=1, so no /proc/sys/net/ipv6), or when
// net.ipv6.conf.all.disable_ipv6 or net.ipv6.conf.default.disable_ipv6 is
// 1 (a new interface takes default's value; writing all sets default too).
// A sysctl that cannot be read counts as on: the kernel then has the say.
func Probe(files Files) Status {
	if _, err := files.Stat(procIPv6); errors.Is(err, fs.ErrNotExist) {
		return Status{Disabled: true, Why: "ipv6.disable=1: there is no /proc/sys/net/ipv6"}
	}
	for _, f := range []string{allDisabled, defaultDisable} {
		if v, err := files.ReadFile(f); err == nil && strings.TrimSpace(string(v)) == "1" {
			return Status{Disabled: true, Why: sysctlName(f) + " = 1"}
		}
	}
	return Status{}
}

// sysctlName is a /proc/sys path's dotted name.
func sysctlName(path string) string {
	return strings.ReplaceAll(strings.TrimPrefix(path, "/proc/sys/"), "/", ".")
}

// Skip is what of a configuration is left out without IPv6.
type Skip struct {
	// Addresses and Routes are the IPv6 addresses and allowed IPs (whose
	// routes, and for ::/0 policy rules and firewall, are not made), in
	// the order given.
	Addresses, Routes []netip.Prefix
	// IPv4 is true when an IPv4 address or allowed IP remains.
	IPv4 bool
}

// Split sorts a configuration's addresses and allowed IPs.
func Split(addresses, allowedIPs []netip.Prefix) Skip {
	var s Skip
	for _, a := range addresses {
		if a.Addr().Is6() && !a.Addr().Is4In6() {
			s.Addresses = append(s.Addresses, a)
		} else {
			s.IPv4 = true
		}
	}
	for _, a := range allowedIPs {
		if a.Addr().Is6() && !a.Addr().Is4In6() {
			s.Routes = append(s.Routes, a)
		} else {
			s.IPv4 = true
		}
	}
	return s
}

// Empty reports whether nothing is skipped.
func (s Skip) Empty() bool { return len(s.Addresses) == 0 && len(s.Routes) == 0 }

// Warning is the one line that names what is skipped.
func (s Skip) Warning(why string) string {
	var parts []string
	if len(s.Addresses) > 0 {
		parts = append(parts, plural(len(s.Addresses), "address ", "addresses ")+join(s.Addresses))
	}
	if len(s.Routes) > 0 {
		what := plural(len(s.Routes), "the route to ", "the routes to ") + join(s.Routes)
		for _, r := range s.Routes {
			if r.Bits() == 0 {
				what += " (and the policy rules and firewall rules of ::/0)"
				break
			}
		}
		parts = append(parts, what)
	}
	return "[!] IPv6 is disabled on this host (" + why + "): skipping " + strings.Join(parts, " and ") + "; IPv4 only."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func join(list []netip.Prefix) string {
	words := make([]string, len(list))
	for i, p := range list {
		words[i] = p.String()
	}
	return strings.Join(words, ", ")
}
