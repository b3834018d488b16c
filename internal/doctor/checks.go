package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// Check is one of doctor's checks: its name (the Check of its findings)
// and what it looks for.
type Check struct {
	Name string
	// Doc says what the check looks for, in one line (for docs and
	// --help).
	Doc string
	Run func(s *State) []Finding
}

// Checks are every check, in the order their findings are reported: the
// interface first (without it, little else can be looked at), then the
// peers, the routes, the full tunnel's set-up, the path, and what the
// watch saw.
var Checks = []Check{
	{"interface", "the interface exists and is up", checkInterface},
	{"interface-differs", "the interface has what the file says (`wg-quick reload` has nothing to do)", checkDrift},
	{"peer", "each peer: a recent handshake, someone to start it, a route to its endpoint outside the tunnel", checkPeers},
	{"allowedips", "AllowedIPs do not overlap between peers and are routed to the interface", checkAllowedIPs},
	{"fulltunnel", "a full tunnel's policy rules, src_valid_mark and rp_filter", checkFullTunnel},
	{"mtu", "the interface's MTU fits the path to each endpoint", checkMTU},
	{"dns", "the file's DNS servers are applied", checkDNS},
	{"forwarding", "packets the tunnel delivers for other hosts are forwarded, let through and answered", checkForwarding},
	{"reach", "addresses to reach (--to) are routed into the tunnel and answered", checkReach},
}

// Diagnose runs every check on s.
func Diagnose(s *State) *Report {
	r := &Report{Interface: s.Iface, File: s.Path, NotChecked: slices.Clone(s.NotChecked)}
	for _, c := range Checks {
		r.Findings = append(r.Findings, c.Run(s)...)
	}
	return r
}

// quickArg is the argument to give wg-quick for this file: the interface
// name when the file is where wg-quick looks for it, else the path.
func (s *State) quickArg() string {
	if s.Path == "" || s.Path == "/etc/wireguard/"+s.Iface+".conf" {
		return s.Iface
	}
	return s.Path
}

// ready reports whether the interface is there, up and readable, which
// most checks need.
func (s *State) ready() bool { return s.Link != nil && s.Link.Up && s.Dev != nil }

func checkInterface(s *State) []Finding {
	subject := "interface " + s.Iface
	if s.Link == nil {
		return []Finding{{
			Check: "interface-missing", Severity: Problem, Subject: subject,
			Summary:  "the interface does not exist",
			Evidence: []string{fmt.Sprintf("no link named %s in this network namespace", s.Iface)},
			Fix:      []Fix{{Command: "wg-quick up " + s.quickArg()}},
		}}
	}
	if !s.Link.Up {
		return []Finding{{
			Check: "interface-down", Severity: Problem, Subject: subject,
			Summary:  "the interface is down",
			Evidence: []string{fmt.Sprintf("%s (%s) does not have the UP flag", s.Iface, s.Link.Kind)},
			Fix:      []Fix{{Command: "ip link set up dev " + s.Iface}},
		}}
	}
	return nil
}

func checkDrift(s *State) []Finding {
	if len(s.Drift) == 0 {
		return nil
	}
	f := Finding{
		Check: "interface-differs", Severity: Problem, Subject: "interface " + s.Iface,
		Summary: "the interface differs from the file (the file was changed after `wg-quick up`, or the interface was)",
		Fix: []Fix{
			{Command: "wg-quick reload " + s.quickArg()},
			{Text: fmt.Sprintf("or `wg-quick down %[1]s && wg-quick up %[1]s`, which stops the tunnel for a moment", s.quickArg())},
		},
	}
	f.Evidence = append(f.Evidence, "what `wg-quick reload "+s.quickArg()+"` would do:")
	for _, d := range s.Drift {
		f.Evidence = append(f.Evidence, d.Text)
	}
	return []Finding{f}
}

// peerPair is a peer of the file with the device's view of it.
type peerPair struct {
	file  *conf.Peer
	dev   *conf.DevicePeer // nil when the device does not have it
	after *conf.DevicePeer // after the watch
}

func (s *State) peers() []peerPair {
	var out []peerPair
	for i := range s.File.Peers {
		p := &s.File.Peers[i]
		if p.Remove {
			continue
		}
		pp := peerPair{file: p, dev: devPeer(s.Dev, p.PublicKey), after: devPeer(s.DevAfter, p.PublicKey)}
		out = append(out, pp)
	}
	return out
}

func devPeer(d *conf.Device, k conf.Key) *conf.DevicePeer {
	if d == nil {
		return nil
	}
	for i := range d.Peers {
		if d.Peers[i].PublicKey == k {
			return &d.Peers[i]
		}
	}
	return nil
}

// endpoint is the peer's endpoint: the device's (it roams), else the
// file's.
func (pp peerPair) endpoint() netip.AddrPort {
	if pp.dev != nil && pp.dev.Endpoint.IsValid() {
		return pp.dev.Endpoint
	}
	if pp.file.Endpoint != nil {
		return *pp.file.Endpoint
	}
	return netip.AddrPort{}
}

func peerSubject(k conf.Key) string { return "peer " + k.String() }

// allowed lists the file's allowed IPs of a peer, masked.
func allowed(p *conf.Peer) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range p.AllowedIPs {
		if !a.Remove {
			out = append(out, a.Prefix.Masked())
		}
	}
	return out
}

func formatPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = conf.FormatPrefix(p)
	}
	return strings.Join(s, ", ")
}

// famFlag is ip's family option for an address.
func famFlag(a netip.Addr) string {
	if a.Is4() {
		return "-4"
	}
	return "-6"
}

func famNum(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// probe is an address inside p to look its route up with: the first host
// address (the network address itself for /31, /32, /127, /128).
func probe(p netip.Prefix) netip.Addr {
	p = p.Masked()
	if p.Bits() >= p.Addr().BitLen()-1 {
		return p.Addr()
	}
	return p.Addr().Next()
}

func ago(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

// describeRoute prints a lookup's answer as `ip route get` does, briefly.
func describeRoute(r Route) string {
	var b strings.Builder
	switch r.Type {
	case rtnUnreachable:
		b.WriteString("unreachable ")
	case rtnBlackhole:
		b.WriteString("blackhole ")
	case rtnProhibit:
		b.WriteString("prohibit ")
	case rtnLocal:
		b.WriteString("local ")
	}
	b.WriteString(conf.FormatPrefix(r.Dst))
	if r.Gateway.IsValid() {
		b.WriteString(" via " + conf.FormatAddr(r.Gateway))
	}
	if r.Dev != "" {
		b.WriteString(" dev " + r.Dev)
	}
	if r.Table != 0 && r.Table != rtTableMain {
		fmt.Fprintf(&b, " table %d", r.Table)
	}
	if r.MTU > 0 {
		fmt.Fprintf(&b, " mtu %d", r.MTU)
	}
	return b.String()
}

// Route types and tables (linux/rtnetlink.h), named here so that the pure
// core builds anywhere.
const (
	rtnUnicast     = 1
	rtnLocal       = 2
	rtnBroadcast   = 3
	rtnBlackhole   = 6
	rtnUnreachable = 7
	rtnProhibit    = 8
	rtTableMain    = 254
)

// query describes a Query as the ip command that asks it.
func (q Query) String() string {
	s := "ip route get " + conf.FormatAddr(q.Dst)
	if q.Iif != "" {
		s += " from " + conf.FormatAddr(q.Src) + " iif " + q.Iif
	}
	if q.Mark != 0 {
		s += fmt.Sprintf(" mark %d", q.Mark)
	}
	return s
}

// answer describes a lookup's result.
func (l Lookup) answer() string {
	if !l.OK {
		if l.Err != "" {
			return l.Err
		}
		return "no answer"
	}
	return describeRoute(l.Route)
}
