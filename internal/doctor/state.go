package doctor

import (
	"net/netip"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// State is what the checks look at: the file and a snapshot of the
// system. Read takes it from the system; tests write it by hand.
type State struct {
	// Iface is the interface name; Path the configuration file.
	Iface string
	Path  string
	// File is the parsed configuration (its secrets wiped).
	File *conf.Config
	// Now is the time of the snapshot (handshake ages are against it).
	Now time.Time

	// Link is the interface, nil when there is none.
	Link *Link
	// Links are every link of the namespace.
	Links []Link
	// Dev is the WireGuard device as read first; DevAfter as read again
	// after the watch (nil without a watch).
	Dev      *conf.Device
	DevAfter *conf.Device
	// Addrs are the interface's addresses; Local every address of the
	// host, on any link.
	Addrs []netip.Prefix
	Local []netip.Addr
	// Routes are the main table's, the file's Table's and the fwmark
	// table's routes of both families.
	Routes []Route
	// Rules are the policy rules of both families.
	Rules []netlinkx.Rule
	// Lookups are the kernel's answers to Queries(state).
	Lookups []Lookup
	// Sysctl maps /proc/sys paths (net/ipv4/ip_forward) to their values.
	Sysctl map[string]string
	// Firewall is nil when it could not be read.
	Firewall *Firewall
	// GuardMarks are the fwmarks that wg-quick's full-tunnel guard rules
	// for the interface restore from conntrack (none: the rules are
	// missing).
	GuardMarks []uint32
	// DNS is what the resolver set-up shows for the interface.
	DNS DNS
	// Watch is what watching the interface saw (nil: no watch).
	Watch *Watch
	// Targets are the addresses given with --to: what the user wants to
	// reach through the tunnel.
	Targets []netip.Prefix
	// Drift is what differs between the file and the live interface.
	Drift []Difference
	// NotChecked is what could not be read.
	NotChecked []NotChecked
}

// Link is a network interface.
type Link struct {
	Index int
	Name  string
	MTU   int
	Up    bool
	Kind  string
}

// Route is a route of a table, or the answer to a route lookup.
type Route struct {
	Dst       netip.Prefix
	Dev       string // "" when the route has no output interface
	LinkIndex int
	Gateway   netip.Addr
	Src       netip.Addr // preferred source
	Table     uint32
	// Type is the rtnetlink route type (unix.RTN_UNICAST, RTN_LOCAL...).
	Type   int
	MTU    int
	Metric int
}

// Query is one route lookup: `ip route get DST [from SRC iif IIF] [mark MARK]`.
type Query struct {
	Dst  netip.Addr
	Src  netip.Addr // with Iif: a packet arriving on Iif from Src
	Iif  string
	Mark uint32
}

// Lookup is the kernel's answer to a Query.
type Lookup struct {
	Query
	OK    bool
	Err   string // the kernel's refusal ("network is unreachable")
	Route Route
}

// DNS is what the resolver set-up shows for the interface.
type DNS struct {
	// Manager is the DNS manager up uses on this host (dns.Detect).
	Manager dns.Kind
	// Missing says, with Manager None, what is missing.
	Missing string
	// Record is the resolvconf record name (tun.wg0 or wg0).
	Record string
	// Servers are the nameservers found for the interface (resolvconf's
	// record, systemd-resolved's state file) and in /etc/resolv.conf;
	// with Manager Resolved, those of Resolved.
	Servers []netip.Addr
	// Resolved is what systemd-resolved holds for the link, read over
	// D-Bus, with Manager Resolved (nil when it could not be read).
	Resolved *dns.Link
	// Sources says where they were looked for.
	Sources []string
}

// Watch is what doctor saw on the interface during a bounded time.
type Watch struct {
	Seconds float64
	// Flows are packets the tunnel delivered for addresses that are not
	// this host's, by source and destination, and what became of them.
	Flows []Flow
	// Sent counts the packets this host sent into the tunnel, by
	// destination; Received those the tunnel delivered, by source.
	Sent     map[netip.Addr]int
	Received map[netip.Addr]int
}

// Flow is traffic the tunnel delivered for another host.
type Flow struct {
	Src, Dst netip.Addr
	Proto    uint8
	// In counts packets that came out of the tunnel.
	In int
	// Out counts packets that left on another interface (OutDev) for Dst,
	// with their source as it was or rewritten to one of this host's.
	Out    int
	OutDev string
	// Rewritten counts those of Out that left with one of this host's
	// addresses as their source (masquerade or SNAT).
	Rewritten int
	// Replies counts packets from Dst that came back in on OutDev; Back
	// those that went back into the tunnel to Src.
	Replies int
	Back    int
}

// Difference is one way the live interface differs from the file.
type Difference struct {
	// What is the kind of change reload would make: "device" (peers,
	// listen port, fwmark, key), "address", "link" (MTU), "route",
	// "rule", "firewall", "sysctl", "dns".
	What string
	// Text is reload's line for it ("[#] ip -4 address add 10.0.1.1/24
	// dev wg0").
	Text string
}

// lookup finds the answer to q.
func (s *State) lookup(q Query) (Lookup, bool) {
	for _, l := range s.Lookups {
		if l.Query == q {
			return l, true
		}
	}
	return Lookup{}, false
}

// linkByIndex finds a link.
func (s *State) linkByIndex(i int) (Link, bool) {
	for _, l := range s.Links {
		if l.Index == i {
			return l, true
		}
	}
	return Link{}, false
}

// isLocal reports whether a is one of this host's addresses.
func (s *State) isLocal(a netip.Addr) bool {
	for _, l := range s.Local {
		if l == a {
			return true
		}
	}
	return false
}

// sysctl reads a value ("" when unknown).
func (s *State) sysctl(path string) string { return s.Sysctl[path] }
