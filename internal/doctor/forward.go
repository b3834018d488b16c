package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
)

// The gateway's side of the seed's case: a peer reaches a LAN behind this
// host. The file does not say so; the watch does, as tcpdump did for the
// seed's author: packets the tunnel delivers for addresses that are not
// this host's. For those, doctor says where they die: IP forwarding off,
// a forward chain that drops them (or their replies), no way back (their
// source is a tunnel address the LAN does not route back here, and
// nothing rewrites it), no route. Without such packets, a LAN next to a
// tunnel with forwarding off is not a problem.

// flowPath is one flow with what the system would do with it.
type flowPath struct {
	f      Flow
	fam    int
	outDev string
	peer   string // the peer whose AllowedIPs hold the source
	route  Lookup // plain lookup of the destination
	back   Lookup // plain lookup of the source (the way back)
}

func (s *State) flowPaths() []flowPath {
	var out []flowPath
	for _, f := range s.Watch.Flows {
		fp := flowPath{f: f, fam: famNum(f.Dst), outDev: f.OutDev}
		fp.route, _ = s.lookup(Query{Dst: f.Dst})
		fp.back, _ = s.lookup(Query{Dst: f.Src})
		if fp.outDev == "" && fp.route.OK && fp.route.Route.Type == rtnUnicast {
			fp.outDev = fp.route.Route.Dev
		}
		if k, ok := s.peerFor(f.Src); ok {
			fp.peer = k.String()
		}
		out = append(out, fp)
	}
	return out
}

// peerFor is the peer whose allowed IPs (on the device) hold a, by the
// longest prefix.
func (s *State) peerFor(a netip.Addr) (conf.Key, bool) {
	best := -1
	var key conf.Key
	if s.Dev == nil {
		return key, false
	}
	for _, p := range s.Dev.Peers {
		for _, pfx := range p.AllowedIPs {
			if pfx.Contains(a) && pfx.Bits() > best {
				best, key = pfx.Bits(), p.PublicKey
			}
		}
	}
	return key, best >= 0
}

func (fp flowPath) line(s *State) string {
	who := conf.FormatAddr(fp.f.Src)
	if fp.peer != "" {
		who += " (peer " + fp.peer + ")"
	}
	l := fmt.Sprintf("%d packets from %s to %s came out of %s in %s", fp.f.In, who, conf.FormatAddr(fp.f.Dst), s.Iface, secs(s.Watch.Seconds))
	if fp.outDev != "" && fp.outDev != s.Iface {
		l += fmt.Sprintf("; %d left on %s, %d replies came back", fp.f.Out, fp.outDev, fp.f.Replies)
	}
	return l
}

func checkForwarding(s *State) []Finding {
	if s.Watch == nil || len(s.Watch.Flows) == 0 || !s.ready() {
		return nil
	}
	paths := s.flowPaths()
	var out []Finding
	// From the last step of the path to the first: run in this order, the
	// fixes never let a packet through before its way back is in place
	// (a connection forwarded before the masquerade rule exists keeps
	// its source untranslated for as long as it lives).
	out = append(out, wayBack(s, paths)...)
	out = append(out, filterDrops(s, paths)...)
	out = append(out, noRoute(s, paths)...)
	out = append(out, forwardingOff(s, paths)...)
	if len(out) == 0 {
		out = append(out, unexplained(s, paths)...)
	}
	return out
}

// unexplained: packets that should have left and did not, with nothing
// doctor knows of in their way. The seed's second post found such a drop
// with iptables TRACE; the nftables way to the same is printed.
func unexplained(s *State, paths []flowPath) []Finding {
	var out []Finding
	for _, fp := range paths {
		if fp.f.Out > 0 || fp.outDev == "" || fp.outDev == s.Iface {
			continue
		}
		dst := conf.FormatAddr(fp.f.Dst)
		fam := "ip"
		if fp.fam == 6 {
			fam = "ip6"
		}
		out = append(out, Finding{
			Check: "forward-unexplained", Severity: Note, Subject: "forwarding to " + fp.outDev,
			Summary:  fmt.Sprintf("packets for %s did not leave on %s, and doctor sees nothing that stops them", dst, fp.outDev),
			Evidence: []string{fp.line(s)},
			Fix: []Fix{
				{Text: "trace them through the firewall (nftables' counterpart of iptables TRACE):"},
				{Command: fmt.Sprintf(`nft 'add table inet doctor-trace; add chain inet doctor-trace pre { type filter hook prerouting priority raw - 1; }; add rule inet doctor-trace pre iifname "%s" %s daddr %s meta nftrace set 1'`, s.Iface, fam, dst)},
				{Command: "timeout 10 nft monitor trace"},
				{Command: "nft delete table inet doctor-trace"},
			},
		})
	}
	return out
}

// forwardingKeys are the sysctls that must be 1 for a family: the global
// switch and the tunnel interface's own (the kernel checks the input
// interface's).
func forwardingKeys(fam int, iface string) []string {
	if fam == 6 {
		return []string{"net/ipv6/conf/all/forwarding", "net/ipv6/conf/" + iface + "/forwarding"}
	}
	return []string{"net/ipv4/ip_forward", "net/ipv4/conf/" + iface + "/forwarding"}
}

func dotted(key string) string { return strings.ReplaceAll(key, "/", ".") }

func (s *State) forwardingOn(fam int) (bool, []string) {
	on := true
	var ev []string
	for _, k := range forwardingKeys(fam, s.Iface) {
		if v := s.sysctl(k); v != "" && v != "1" {
			on = false
			ev = append(ev, dotted(k)+" = "+v)
		}
	}
	return on, ev
}

func forwardingOff(s *State, paths []flowPath) []Finding {
	var out []Finding
	for _, fam := range []int{4, 6} {
		var ev []string
		for _, fp := range paths {
			if fp.fam == fam {
				ev = append(ev, fp.line(s))
			}
		}
		if len(ev) == 0 {
			continue
		}
		on, why := s.forwardingOn(fam)
		if on {
			continue
		}
		key := forwardingKeys(fam, s.Iface)[0]
		f := Finding{
			Check: "forwarding-off", Severity: Problem, Subject: fmt.Sprintf("IPv%d forwarding", fam),
			Summary:  fmt.Sprintf("the tunnel delivers packets for other hosts, but IPv%d forwarding is off: they die here", fam),
			Evidence: append(limit(ev, 5), why...),
			Fix: []Fix{
				{Command: "sysctl -w " + dotted(key) + "=1"},
				{File: "/etc/sysctl.d/99-wireguard.conf", Line: dotted(key) + " = 1", Text: "to keep it after a reboot"},
			},
		}
		if s.sysctl(key) == "1" {
			// Only the interface's own switch is off.
			k := forwardingKeys(fam, s.Iface)[1]
			f.Fix = []Fix{{Command: "sysctl -w " + dotted(k) + "=1"}}
		}
		out = append(out, f)
	}
	return out
}

func limit(ev []string, n int) []string {
	if len(ev) <= n {
		return ev
	}
	return append(ev[:n:n], fmt.Sprintf("(and %d more flows)", len(ev)-n))
}

func noRoute(s *State, paths []flowPath) []Finding {
	var out []Finding
	for _, fp := range paths {
		if fp.outDev != "" {
			continue
		}
		q := Query{Dst: fp.f.Dst}
		out = append(out, Finding{
			Check: "forward-no-route", Severity: Problem, Subject: "route to " + conf.FormatAddr(fp.f.Dst),
			Summary:  fmt.Sprintf("the tunnel delivers packets for %s, but this host has no route to it", conf.FormatAddr(fp.f.Dst)),
			Evidence: []string{fp.line(s), fmt.Sprintf("`%s`: %s", q, fp.route.answer())},
			Fix: []Fix{{Command: fmt.Sprintf("ip %s route add %s via GATEWAY dev DEVICE", famFlag(fp.f.Dst), conf.FormatAddr(fp.f.Dst)),
				Text: "with GATEWAY and DEVICE the next hop towards it, or take it out of the peer's AllowedIPs on the other side"}},
		})
	}
	return out
}

// filterDrops: for each (family, output interface), whether the forward
// hook drops the first packet of a flow from the tunnel, or the replies.
func filterDrops(s *State, paths []flowPath) []Finding {
	if s.Firewall == nil {
		return nil
	}
	type key struct {
		fam int
		dev string
	}
	var out []Finding
	done := map[key]bool{}
	for _, fp := range paths {
		k := key{fp.fam, fp.outDev}
		if fp.outDev == "" || done[k] {
			continue
		}
		done[k] = true
		var ev []string
		for _, o := range paths {
			if o.fam == fp.fam && o.outDev == fp.outDev {
				ev = append(ev, o.line(s))
			}
		}
		ev = limit(ev, 5)
		there := Packet{Family: fp.fam, IIf: s.Iface, OIf: fp.outDev, Src: fp.f.Src, Dst: fp.f.Dst, Proto: fp.f.Proto, CtState: "new"}
		back := Packet{Family: fp.fam, IIf: fp.outDev, OIf: s.Iface, Src: fp.f.Dst, Dst: fp.f.Src, Proto: fp.f.Proto, CtState: "established"}
		o1, o2 := s.Firewall.Forward(there), s.Firewall.Forward(back)
		var fixes []Fix
		var what []string
		for _, c := range []struct {
			o    Outcome
			dir  string
			iptm string
			nftm string
			in   string
			out  string
		}{
			{o1, "packets from the tunnel to " + fp.outDev, "", "", s.Iface, fp.outDev},
			{o2, "their replies", " -m conntrack --ctstate RELATED,ESTABLISHED", " ct state established,related", fp.outDev, s.Iface},
		} {
			if c.o.Result != VerdictDrop {
				continue
			}
			what = append(what, c.dir)
			ev = append(ev, dropEvidence(c.o, c.in, c.out))
			fixes = append(fixes, acceptFix(s, c.o.Chain, c.in, c.out, c.iptm, c.nftm)...)
		}
		if len(what) == 0 {
			continue
		}
		sure := o1.Result != VerdictDrop || o1.Sure
		sure = sure && (o2.Result != VerdictDrop || o2.Sure)
		f := Finding{
			Check: "forward-chain-drops", Severity: Problem, Subject: "forwarding to " + fp.outDev,
			Summary:  "the forward chain drops " + strings.Join(what, " and "),
			Evidence: ev,
			Fix:      fixes,
		}
		if !sure {
			f.Evidence = append(f.Evidence, "some rules have matches doctor cannot evaluate; they might let the packets through")
		}
		out = append(out, f)
	}
	return out
}

func dropEvidence(o Outcome, in, out string) string {
	if o.Rule == "" {
		return fmt.Sprintf("%s: policy drop, and no rule accepts packets in on %s and out on %s", o.Chain.ID(), in, out)
	}
	return fmt.Sprintf("%s: the rule `%s` drops them", o.Chain.ID(), o.Rule)
}

// acceptFix is the rule that lets packets from in to out through chain c,
// inserted first in the base chain that dropped them, as a command now
// and as the lines that keep it.
func acceptFix(s *State, c *Chain, in, out, iptMatch, nftMatch string) []Fix {
	base := c
	if base.Hook == "" {
		base = s.Firewall.baseOf(c)
	}
	if base.Tool == "iptables" {
		prog := base.prog()
		spec := fmt.Sprintf("%s -i %s -o %s%s -j ACCEPT", base.Name, in, out, iptMatch)
		conf := strings.ReplaceAll(" "+spec+" ", " "+s.Iface+" ", " %i ")
		conf = strings.TrimSpace(conf)
		return []Fix{
			{Command: prog + " -I " + spec},
			{File: s.Path, Section: "Interface", Line: "PostUp = " + prog + " -I " + conf},
			{File: s.Path, Section: "Interface", Line: "PreDown = " + prog + " -D " + conf},
		}
	}
	rule := fmt.Sprintf(`iifname "%s" oifname "%s"%s accept`, in, out, nftMatch)
	return []Fix{
		{Command: fmt.Sprintf("nft insert rule %s %s %s %s", base.Family, base.Table, base.Name, quoteNFT(rule))},
		{File: "/etc/nftables.conf", Section: fmt.Sprintf("table %s %s, chain %s", base.Family, base.Table, base.Name), Line: rule,
			Text: "to keep it (first in the chain)"},
	}
}

// quoteNFT quotes an nft rule for sh.
func quoteNFT(r string) string { return "'" + r + "'" }

// baseOf finds a base chain on the forward hook of c's table (the chain
// to insert an accept into when a regular chain dropped).
func (fw *Firewall) baseOf(c *Chain) *Chain {
	for i := range fw.Chains {
		b := &fw.Chains[i]
		if b.Hook == "forward" && b.Table == c.Table && b.Family == c.Family && b.Tool == c.Tool {
			return b
		}
	}
	return c
}

// wayBack: packets that leave with a tunnel source need the LAN to route
// it back here, or a masquerade rule to give them this host's source.
func wayBack(s *State, paths []flowPath) []Finding {
	var out []Finding
	type key struct {
		fam int
		dev string
	}
	done := map[key]bool{}
	for _, fp := range paths {
		if fp.outDev == "" || fp.outDev == s.Iface {
			continue
		}
		k := key{fp.fam, fp.outDev}
		if done[k] {
			continue
		}
		if fp.f.Replies > 0 {
			if fp.f.Back == 0 && fp.back.OK && fp.back.Route.Dev != s.Iface {
				done[k] = true
				out = append(out, Finding{
					Check: "no-way-back", Severity: Problem, Subject: "route to " + conf.FormatAddr(fp.f.Src),
					Summary:  fmt.Sprintf("replies from %s reach this host, but the route to %s does not lead into %s", conf.FormatAddr(fp.f.Dst), conf.FormatAddr(fp.f.Src), s.Iface),
					Evidence: []string{fp.line(s), fmt.Sprintf("`ip route get %s`: %s", conf.FormatAddr(fp.f.Src), fp.back.answer())},
					Fix:      []Fix{{Command: fmt.Sprintf("ip %s route add %s dev %s", famFlag(fp.f.Src), conf.FormatAddr(fp.f.Src), s.Iface)}},
				})
			}
			continue
		}
		var nat Outcome
		if s.Firewall != nil {
			nat = s.Firewall.SourceNAT(Packet{Family: fp.fam, OIf: fp.outDev, Src: fp.f.Src, Dst: fp.f.Dst, Proto: fp.f.Proto, CtState: "new"})
			if nat.Result == VerdictMasquerade || nat.Result == VerdictSNAT {
				if raw := fp.f.Out - fp.f.Rewritten; raw > 0 && fp.f.Replies == 0 {
					done[k] = true
					out = append(out, staleConntrack(s, fp, nat, raw))
					continue
				}
				if fp.f.Out > 0 {
					done[k] = true
					out = append(out, Finding{
						Check: "no-answer", Severity: Note, Subject: conf.FormatAddr(fp.f.Dst),
						Summary:  fmt.Sprintf("%s does not answer: the packets leave on %s with this host's address (%s), and nothing comes back", conf.FormatAddr(fp.f.Dst), fp.outDev, nat.Result),
						Evidence: []string{fp.line(s)},
						Fix:      []Fix{{Text: fmt.Sprintf("%s is down, or its own firewall drops them", conf.FormatAddr(fp.f.Dst))}},
					})
				}
				continue
			}
		}
		done[k] = true
		src := s.tunnelNet(fp.f.Src)
		ev := []string{fp.line(s)}
		if s.Firewall != nil {
			ev = append(ev, fmt.Sprintf("no masquerade or SNAT rule applies to packets from %s leaving on %s", conf.FormatAddr(fp.f.Src), fp.outDev))
			if !nat.Sure {
				ev = append(ev, "some nat rules have matches doctor cannot evaluate")
			}
		}
		summary := fmt.Sprintf("no way back: packets reach %s with the tunnel source %s, and %s's network has no route back to it through this host", fp.outDev, conf.FormatAddr(fp.f.Src), conf.FormatAddr(fp.f.Dst))
		if fp.f.Out > 0 {
			ev = append(ev, fmt.Sprintf("%d packets left on %s in %s and no reply came back", fp.f.Out, fp.outDev, secs(s.Watch.Seconds)))
		} else {
			summary = fmt.Sprintf("no way back: once forwarded, packets would leave %s with the tunnel source %s, which %s's network does not route back through this host", fp.outDev, conf.FormatAddr(fp.f.Src), conf.FormatAddr(fp.f.Dst))
		}
		f := Finding{
			Check: "no-way-back", Severity: Problem, Subject: "masquerade on " + fp.outDev,
			Summary:  summary,
			Evidence: ev,
			Fix:      masqueradeFix(s, fp.fam, src, fp.outDev),
		}
		if fp.route.OK && fp.route.Route.Src.IsValid() {
			f.Fix = append(f.Fix, Fix{Text: fmt.Sprintf("or, instead of masquerading, route %s back through this host on the LAN's router (or on %s): `ip route add %s via %s`",
				conf.FormatPrefix(src), conf.FormatAddr(fp.f.Dst), conf.FormatPrefix(src), conf.FormatAddr(fp.route.Route.Src))})
		}
		out = append(out, f)
	}
	return out
}

// staleConntrack: a masquerade rule applies, yet packets leave with their
// tunnel source: conntrack decided their connection's NAT before the rule
// existed (a rule added while the traffic flowed), and keeps that decision
// for as long as the connection lives.
func staleConntrack(s *State, fp flowPath, nat Outcome, raw int) Finding {
	src, dst := conf.FormatAddr(fp.f.Src), conf.FormatAddr(fp.f.Dst)
	return Finding{
		Check: "stale-conntrack", Severity: Problem, Subject: "connections from " + src,
		Summary:  fmt.Sprintf("%d packets left %s with the tunnel source %s although a %s rule applies to them: their connection was tracked before the rule existed, and keeps its old (no) translation", raw, fp.outDev, src, nat.Result),
		Evidence: []string{fp.line(s), fmt.Sprintf("%s: `%s`", nat.Chain.ID(), nat.Rule)},
		Fix: []Fix{
			{Command: fmt.Sprintf("conntrack -D --orig-src %s --orig-dst %s", src, dst), Text: "(conntrack-tools)"},
			{Text: "or start the connection again (a new ping, a new TCP connection): new connections are translated"},
		},
	}
}

// tunnelNet is the interface's subnet that holds a (10.0.0.0/24 for a
// peer 10.0.0.1 on an interface 10.0.0.2/24), else a alone.
func (s *State) tunnelNet(a netip.Addr) netip.Prefix {
	for _, p := range s.Addrs {
		if p.Masked().Contains(a) && p.Bits() < a.BitLen() {
			return p.Masked()
		}
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// masqueradeFix is the masquerade rule in the tool this host's rules use.
func masqueradeFix(s *State, fam int, src netip.Prefix, dev string) []Fix {
	tool := "iptables"
	if s.Firewall != nil && s.Firewall.Tool != "" {
		tool = s.Firewall.Tool
	}
	if tool == "iptables" {
		prog := s.Firewall.iptablesProg(fam)
		spec := fmt.Sprintf("POSTROUTING -s %s -o %s -j MASQUERADE", conf.FormatPrefix(src), dev)
		return []Fix{
			{Command: prog + " -t nat -A " + spec},
			{File: s.Path, Section: "Interface", Line: "PostUp = " + prog + " -t nat -A " + spec},
			{File: s.Path, Section: "Interface", Line: "PreDown = " + prog + " -t nat -D " + spec},
		}
	}
	family := "ip"
	if fam == 6 {
		family = "ip6"
	}
	rule := fmt.Sprintf(`%s saddr %s oifname "%s" masquerade`, family, conf.FormatPrefix(src), dev)
	if c := natChain(s.Firewall, fam); c != nil {
		return []Fix{
			{Command: fmt.Sprintf("nft add rule %s %s %s %s", c.Family, c.Table, c.Name, quoteNFT(rule))},
			{File: "/etc/nftables.conf", Section: fmt.Sprintf("table %s %s, chain %s", c.Family, c.Table, c.Name), Line: rule, Text: "to keep it"},
		}
	}
	return []Fix{
		{Command: fmt.Sprintf("nft add table %s nat", family)},
		{Command: fmt.Sprintf("nft 'add chain %s nat postrouting { type nat hook postrouting priority srcnat; }'", family)},
		{Command: fmt.Sprintf("nft add rule %s nat postrouting %s", family, quoteNFT(rule))},
		{File: "/etc/nftables.conf", Section: fmt.Sprintf("table %s nat, chain postrouting (type nat hook postrouting priority srcnat)", family), Line: rule, Text: "to keep it"},
	}
}

// natChain is nftables' own nat postrouting chain for a family, if any.
func natChain(fw *Firewall, fam int) *Chain {
	if fw == nil {
		return nil
	}
	for i := range fw.Chains {
		c := &fw.Chains[i]
		if c.Tool == "nft" && c.Hook == "postrouting" && c.Type == "nat" && familySees(c.Family, fam) {
			return c
		}
	}
	return nil
}

// checkReach: the addresses given with --to must be routed into the
// tunnel, and the client side of the seed's case (the LAN behind a peer
// not in its AllowedIPs) is found here. Packets sent into the tunnel that
// get no answer are noted: nothing on this side stops them.
func checkReach(s *State) []Finding {
	if !s.ready() {
		return nil
	}
	var out []Finding
	for _, t := range s.Targets {
		out = append(out, reach(s, t)...)
	}
	if s.Watch == nil {
		return out
	}
	var dsts []netip.Addr
	for d, n := range s.Watch.Sent {
		if n > 0 && s.Watch.Received[d] == 0 && !slices.ContainsFunc(s.Targets, func(t netip.Prefix) bool { return t.Contains(d) }) {
			dsts = append(dsts, d)
		}
	}
	slices.SortFunc(dsts, netip.Addr.Compare)
	for _, d := range dsts {
		out = append(out, unanswered(s, d, netip.PrefixFrom(d, d.BitLen()))...)
	}
	return out
}

func reach(s *State, t netip.Prefix) []Finding {
	q := Query{Dst: probe(t)}
	l, _ := s.lookup(q)
	_, ok := s.peerFor(q.Dst)
	if ok && l.OK && l.Route.Dev == s.Iface {
		if s.Watch == nil {
			return nil
		}
		return unanswered(s, q.Dst, t)
	}
	if ok {
		return nil // in a peer's AllowedIPs, routed elsewhere: allowedips-not-routed says why
	}
	f := Finding{
		Check: "lan-not-allowed", Severity: Problem, Subject: conf.FormatPrefix(t),
		Summary:  fmt.Sprintf("%s is in no peer's AllowedIPs: traffic for it does not enter the tunnel", conf.FormatPrefix(t)),
		Evidence: []string{fmt.Sprintf("`%s`: %s", q, l.answer())},
	}
	pps := s.peers()
	if len(pps) != 1 {
		f.Fix = []Fix{{Text: fmt.Sprintf("add %s to the AllowedIPs of the peer it is behind, in the file and with `wg set %s peer KEY allowed-ips ...`", conf.FormatPrefix(t), s.Iface)}}
		return []Finding{f}
	}
	p := pps[0]
	list := append(allowed(p.file), t.Masked())
	words := strings.ReplaceAll(formatPrefixes(list), " ", "")
	f.Fix = []Fix{
		{File: s.Path, Section: "Peer " + p.file.PublicKey.String(), Line: "AllowedIPs = " + formatPrefixes(list)},
		{Command: fmt.Sprintf("wg set %s peer %s allowed-ips %s", s.Iface, p.file.PublicKey, words)},
	}
	if s.File.Interface.Table != conf.TableOff {
		add := fmt.Sprintf("ip %s route add %s dev %s", famFlag(t.Addr()), conf.FormatPrefix(t.Masked()), s.Iface)
		if s.File.Interface.TableID != 0 {
			add += fmt.Sprintf(" table %d", s.File.Interface.TableID)
		}
		f.Fix = append(f.Fix, Fix{Command: add})
	}
	f.Fix = append(f.Fix, Fix{Text: "and on the peer's side, its LAN must be forwarded: run `wg-quick doctor` there while this side sends to " + conf.FormatAddr(q.Dst)})
	return []Finding{f}
}

// unanswered notes packets sent into the tunnel for t that got no answer
// during the watch.
func unanswered(s *State, a netip.Addr, t netip.Prefix) []Finding {
	sent, got := 0, 0
	for d, n := range s.Watch.Sent {
		if t.Contains(d) {
			sent += n
		}
	}
	for d, n := range s.Watch.Received {
		if t.Contains(d) {
			got += n
		}
	}
	if got > 0 {
		return nil
	}
	key, ok := s.peerFor(a)
	if !ok {
		return nil
	}
	if sent == 0 {
		return []Finding{{
			Check: "reach-no-traffic", Severity: Note, Subject: conf.FormatPrefix(t),
			Summary: fmt.Sprintf("nothing was sent to %s during the %s watch: there was nothing to see", conf.FormatPrefix(t), secs(s.Watch.Seconds)),
			Fix:     []Fix{{Text: fmt.Sprintf("send something (`ping %s`) while doctor watches", conf.FormatAddr(a))}},
		}}
	}
	return []Finding{{
		Check: "reach-no-answer", Severity: Note, Subject: conf.FormatPrefix(t),
		Summary: fmt.Sprintf("%d packets went into the tunnel for %s (peer %s) and no answer came back: nothing on this side stops them", sent, conf.FormatPrefix(t), key),
		Evidence: []string{fmt.Sprintf("`ip route get %s`: into %s; during the %s watch: %d packets sent to it, 0 received from it",
			conf.FormatAddr(a), s.Iface, secs(s.Watch.Seconds), sent)},
		Fix: []Fix{{Text: fmt.Sprintf("look at the peer's side: run `wg-quick doctor` there while this side sends to %s", conf.FormatAddr(a))}},
	}}
}
