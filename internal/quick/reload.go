package quick

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// Reload brings the running interface of l to what l now says, without
// taking it down: the peers by syncconf's semantics (sessions of unchanged
// peers kept), then the addresses, the MTU, DNS, the routes of every
// allowed IP in the file's table, and the full tunnel's rules, route,
// src_valid_mark and guard rules as the default route appears or goes;
// the listen port, fwmark and private key with the peers. Each change
// prints its line; what is already right prints nothing. With hooks, the
// file's PreDown and PostDown run before the change, PreUp before it and
// PostUp after it. A failure or a signal takes back what was changed.
func Reload(ctx context.Context, sys *Sys, l *Loaded, hooks bool) int {
	lock, err := sys.lock(l.Interface, "reload")
	if err != nil {
		return die(sys, err)
	}
	defer lock.Release()
	r := newRunner(sys)
	finishing := false
	if lock != nil && lock.Recovered != "" {
		if strings.HasPrefix(lock.Recovered, "reload ") {
			fmt.Fprintf(sys.Stderr, "[!] Finishing the interrupted reload of `%s' (%s).\n", l.Interface, lock.Recovered)
			finishing = true
		} else {
			recoverInterrupted(ctx, sys, r, l, lock.Recovered)
		}
	}
	if err := canReload(ctx, sys, NewView(sys), l); err != nil {
		return die(sys, err)
	}
	r.changing = func() error { return lock.Changing("reload") }
	return r.runOrUndo(ctx, reloadPhasesOf(sys, l, hooks, finishing)...)
}

// canReload: the interface is up (a WireGuard interface of that name
// exists), the file's Table, if a name, is known where needed, the file is
// not all IPv6 where the host has IPv6 off (reload skips the IPv6 parts
// of one that is not, as up did, without a word), and its DNS servers
// have a DNS manager to go to.
func canReload(ctx context.Context, sys *Sys, v *View, l *Loaded) error {
	ok, err := v.IsWireGuard(l.Interface)
	if err == nil && ok {
		_, ok, err = v.Link(l.Interface)
	}
	if err != nil {
		return fmt.Errorf("cannot read `%s': %v", l.Interface, err)
	}
	if !ok {
		return fmt.Errorf("`%s' is not up: bring it up with `wg-quick up %s'", l.Interface, l.Interface)
	}
	if err := tableNeeded(l); err != nil {
		return err
	}
	if _, err := ipv6Skip(sys, v, l); err != nil {
		return err
	}
	return checkDNS(sys, l)
}

func reloadPhases(sys *Sys, l *Loaded, hooks bool) []Phase {
	return reloadPhasesOf(sys, l, hooks, false)
}

// reloadState is what reload's phases tell each other.
type reloadState struct {
	// addrsChanged: the addresses changed (or may have, after an
	// interrupted reload), so the guard rules, which name them, are
	// installed again.
	addrsChanged bool
}

// reloadPhasesOf is reload's plan. Its undos all set back what the
// reload changed, newest first.
func reloadPhasesOf(sys *Sys, l *Loaded, hooks, finishing bool) []Phase {
	i := &l.File.Config.Interface
	rs := &reloadState{addrsChanged: finishing}
	plan := func(name string, f func(ctx context.Context, v *View) ([]Step, error)) Phase {
		return Phase{Name: name, Changes: true, Plan: func(ctx context.Context, v *View) ([]Step, error) {
			steps, err := f(ctx, v)
			for k := range steps {
				if u := steps[k].Undo; u != nil {
					steps[k].Undo = &Undo{Rank: rankSetBack, Plan: u.Plan}
				}
			}
			return steps, err
		}}
	}
	var phases []Phase
	if hooks {
		phases = append(phases,
			phaseOf("PreDown", stop, hookSteps(sys, l, "PreDown", i.PreDown)...),
			phaseOf("PostDown", stop, hookSteps(sys, l, "PostDown", i.PostDown)...),
			phaseOf("PreUp", stop, hookSteps(sys, l, "PreUp", i.PreUp)...))
	}
	phases = append(phases,
		plan("full_tunnel_off", func(ctx context.Context, v *View) ([]Step, error) { return tunnelOffSteps(ctx, sys, v, l) }),
		plan("device", func(ctx context.Context, v *View) ([]Step, error) { return deviceSteps(sys, v, l) }),
		plan("addresses", func(ctx context.Context, v *View) ([]Step, error) {
			steps, err := addressChanges(sys, v, l)
			if len(steps) > 0 {
				rs.addrsChanged = true
			}
			return steps, err
		}),
		plan("mtu", func(ctx context.Context, v *View) ([]Step, error) { return mtuChange(sys, v, l) }),
		plan("dns", func(ctx context.Context, v *View) ([]Step, error) { return dnsChange(ctx, sys, v, l) }),
		plan("routes", func(ctx context.Context, v *View) ([]Step, error) { return routeChanges(sys, v, l) }),
		plan("add_default", func(ctx context.Context, v *View) ([]Step, error) { return tunnelOnSteps(ctx, sys, v, l, 0, rs) }),
		plan("add_default", func(ctx context.Context, v *View) ([]Step, error) { return tunnelOnSteps(ctx, sys, v, l, 1, rs) }),
	)
	if hooks {
		phases = append(phases, phaseOf("PostUp", stop, hookSteps(sys, l, "PostUp", i.PostUp)...))
	}
	return phases
}

// fileDefaults are the /0s of the file's allowed IPs in add_route's order
// (::/0 first, unless the host has IPv6 off), when the file is a full
// tunnel.
func fileDefaults(v *View, l *Loaded) []netip.Prefix {
	c := &l.File.Config
	if !IsFullTunnel(c) {
		return nil
	}
	var out []netip.Prefix
	for _, fam := range []int{unix.AF_INET6, unix.AF_INET} {
		for k := range c.Peers {
			if slices.ContainsFunc(c.Peers[k].AllowedIPs, func(a conf.AllowedIP) bool {
				return !a.Remove && a.Prefix.Bits() == 0 && famOf(a.Prefix) == fam && !v.skipped(a.Prefix)
			}) {
				if fam == unix.AF_INET6 {
					out = append(out, netip.PrefixFrom(netip.IPv6Unspecified(), 0))
				} else {
					out = append(out, netip.PrefixFrom(netip.IPv4Unspecified(), 0))
				}
				break
			}
		}
	}
	return out
}

// tunnelFamilies are the families whose "not fwmark M lookup M" rule is
// there.
func tunnelFamilies(v *View, mark uint32) []int {
	var fams []int
	for _, fam := range []int{unix.AF_INET6, unix.AF_INET} {
		rules, _ := v.Rules(fam)
		if slices.ContainsFunc(rules, func(x netlinkx.Rule) bool { return isTunnelRule(x) && x.Table == mark }) {
			fams = append(fams, fam)
		}
	}
	return fams
}

// tunnelRules reports whether the family has the full tunnel's rule for
// mark, and a suppress rule before it (or, without it, any).
func tunnelRules(v *View, fam int, mark uint32) (table, suppress bool) {
	rules, _ := v.Rules(fam)
	at := slices.IndexFunc(rules, func(x netlinkx.Rule) bool { return isTunnelRule(x) && x.Table == mark })
	for k, x := range rules {
		if isSuppress(x) && (at < 0 || k < at) {
			suppress = true
		}
	}
	return at >= 0, suppress
}

// tunnelOffSteps take the full tunnel away when the file no longer asks
// for it as it is (no /0, another FwMark, other families): its guard
// rules, its rules, the routes of its table, src_valid_mark. Each is
// undone by making it again.
func tunnelOffSteps(ctx context.Context, sys *Sys, v *View, l *Loaded) ([]Step, error) {
	iface := l.Interface
	dev, err := v.Device(iface)
	if err != nil {
		return nil, deviceFailure(err)
	}
	mark := dev.FwMark
	want := fileDefaults(v, l)
	var wantFams []int
	for _, p := range want {
		wantFams = append(wantFams, famOf(p))
	}
	on := mark != 0 && hasRulesOf(v, mark)
	if len(want) > 0 && (!on || tunnelMark(sys, v, l, mark) == mark && slices.Equal(wantFams, tunnelFamilies(v, mark))) {
		// The tunnel stays (tunnelOnSteps adds what it lacks), or is
		// not there yet.
		return nil, nil
	}
	// What is left of it goes, also after a reload killed half-way.
	var steps []Step
	addrs, _ := v.Addresses(iface)
	fams, _ := v.FirewallFamilies(ctx, iface)
	var fw []Step
	if len(fams) > 0 {
		if fw, err = removeFirewallSteps(ctx, sys, iface); err != nil {
			return nil, err
		}
		v.planFirewall(ctx, iface, nil)
	}
	for k := range fw {
		if k == 0 {
			fw[k].Undo = &Undo{Plan: func(ctx context.Context, v *View) ([]Step, error) {
				var back []Step
				for _, f := range fams {
					op, err := sys.Firewall.PlanInstall(ctx, guardSpec(iface, f, mark, addrs))
					if err != nil {
						return back, fail(1, "%s: %v", sys.Prog, err)
					}
					back = append(back, Step{Op: op})
				}
				return back, nil
			}}
		}
	}
	steps = append(steps, fw...)
	// The rules: the tunnel's, or after a reload killed half-way, what is
	// left of them while the fwmark a tunnel set is there (not one the
	// file sets for itself).
	if on || mark != 0 && l.File.Config.Interface.FwMark == nil {
		for _, s := range tunnelRuleSteps(sys, v, mark) {
			exact := s.Op.(ruleDeleteOp).exact
			s.Undo = undoWith(rankSetBack, newRuleAdd(sys.Net, exact))
			steps = append(steps, s)
		}
	}
	link, _, _ := v.Link(iface)
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		// The full tunnel's default routes (a table the file routes
		// into is the route phase's).
		if mark == 0 || !autoTable(l.File.Config.Interface.Table) && l.File.Config.Interface.TableID == mark {
			break
		}
		routes, _ := v.Routes(fam, mark)
		for _, rt := range routes {
			if rt.LinkIndex == link.Index && rt.Dst.Bits() == 0 {
				steps = append(steps, routeDeleteStep(sys, iface, rt.Dst, strconv.FormatUint(uint64(mark), 10), mark))
			}
		}
	}
	svm, err := restoreSrcValidMarkSteps(ctx, sys, iface)
	if err != nil {
		return nil, err
	}
	for _, s := range svm {
		s.Undo = &Undo{Plan: func(ctx context.Context, v *View) ([]Step, error) {
			op, err := sys.Firewall.EnableSrcValidMark(iface)
			if err != nil || op == nil {
				return nil, err
			}
			return []Step{{Op: op}}, nil
		}}
		steps = append(steps, s)
	}
	return steps, nil
}

// tunnelMark is the fwmark (and table) a fresh up of l would give its full
// tunnel on this machine: the file's FwMark, else the first table from
// 51820 up with no route, counting the current tunnel's (mark) as free.
func tunnelMark(sys *Sys, v *View, l *Loaded, mark uint32) uint32 {
	if m := l.File.Config.Interface.FwMark; m != nil && *m != 0 {
		return *m
	}
	for t := uint32(firstTable); t < firstTable+maxTableSearch; t++ {
		if t == mark {
			return t
		}
		if used, err := v.TableInUse(t); err != nil || !used {
			return t
		}
	}
	return 0
}

// guardSpec is the guard rules' spec of one family for addrs.
func guardSpec(iface string, f firewall.Family, mark uint32, addrs []netip.Prefix) firewall.Spec {
	s := firewall.Spec{Iface: iface, Family: f, Mark: mark}
	for _, a := range addrs {
		if a.Addr().Is4() == (f == firewall.IPv4) {
			s.Addrs = append(s.Addrs, a.Addr())
		}
	}
	return s
}

func routeDeleteStep(sys *Sys, iface string, p netip.Prefix, table string, id uint32) Step {
	return Step{
		Op:   netOp{sys.Net, netlinkx.RouteDelete{Link: iface, Prefix: p, Table: table, TableID: id}},
		Undo: undoWith(rankSetBack, netOp{sys.Net, netlinkx.RouteAdd{Link: iface, Prefix: p, Table: table, TableID: id}}),
	}
}

// tunnelOnSteps is add_default for the n-th /0 of the file, as far as the
// full tunnel lacks it: the fwmark, the family's rules, the default route
// in the table, src_valid_mark, the guard rules (again when the addresses
// changed).
func tunnelOnSteps(ctx context.Context, sys *Sys, v *View, l *Loaded, n int, rs *reloadState) ([]Step, error) {
	want := fileDefaults(v, l)
	if n >= len(want) {
		return nil, nil
	}
	iface, p := l.Interface, want[n]
	dev, err := v.Device(iface)
	if err != nil {
		return nil, deviceFailure(err)
	}
	if !slices.Contains(devicePrefixes(v, dev), p) {
		return nil, nil
	}
	if dev.FwMark == 0 {
		if err := canRouteDefault(sys, v, iface, p); err != nil {
			return nil, err
		}
		return defaultSteps(ctx, sys, v, iface, p, true)
	}
	mark, fam := dev.FwMark, famOf(p)
	var steps []Step
	hasTable, hasSuppress := tunnelRules(v, fam, mark)
	if !hasTable || !hasSuppress {
		if err := canRouteDefault(sys, v, iface, p); err != nil {
			return nil, err
		}
		for _, rule := range []netlinkx.Rule{tableRule(fam, mark), suppressRule(fam)} {
			if rule.SuppressPrefixlen == 0 && hasSuppress || rule.SuppressPrefixlen != 0 && hasTable {
				continue
			}
			op := newRuleAdd(sys.Net, rule)
			suppress := rule.SuppressPrefixlen == 0
			steps = append(steps, Step{Op: op, Undo: &Undo{Plan: func(ctx context.Context, v *View) ([]Step, error) {
				return []Step{ruleDeleteStep(sys, v, *op.made, suppress)}, nil
			}}})
		}
	}
	link, _, _ := v.Link(iface)
	routes, _ := v.Routes(fam, mark)
	if !slices.ContainsFunc(routes, func(r netlinkx.Route) bool { return r.Dst == p && r.LinkIndex == link.Index }) {
		table := strconv.FormatUint(uint64(mark), 10)
		steps = append(steps, Step{
			Op:   netOp{sys.Net, netlinkx.RouteAdd{Link: iface, Prefix: p, Table: table, TableID: mark}},
			Undo: undoWith(rankSetBack, netOp{sys.Net, netlinkx.RouteDelete{Link: iface, Prefix: p, Table: table, TableID: mark}}),
		})
	}
	if fam == unix.AF_INET {
		op, err := enableSrcValidMark(sys, v, iface)
		if err != nil {
			return nil, err
		}
		if op != nil {
			steps = append(steps, Step{Op: op, Undo: &Undo{Plan: func(ctx context.Context, v *View) ([]Step, error) {
				return restoreSrcValidMarkSteps(ctx, sys, iface)
			}}})
		}
	}
	ffam := firewall.IPv4
	if fam == unix.AF_INET6 {
		ffam = firewall.IPv6
	}
	fams, err := v.FirewallFamilies(ctx, iface)
	if err != nil {
		return nil, fail(1, "%s: %v", sys.Prog, err)
	}
	if rs.addrsChanged || !slices.Contains(fams, ffam) {
		fw, err := firewallStep(ctx, sys, v, iface, ffam, mark)
		if err != nil {
			return nil, err
		}
		steps = append(steps, fw)
	}
	return steps, nil
}

// deviceSteps bring the device to the file: private key, listen port (when
// the file has one), fwmark, then the peers by syncconf's semantics (those
// not in the file removed, the others added or changed in place, so that
// the sessions of unchanged peers stay). Each is a `wg set` line; each is
// undone by setting back what the device had.
func deviceSteps(sys *Sys, v *View, l *Loaded) ([]Step, error) {
	iface := l.Interface
	dev, err := v.Device(iface)
	if err != nil {
		return nil, deviceFailure(err)
	}
	fc := &l.File.Config
	var steps []Step
	set := func(line string, cfg, back *conf.Config, fields map[string]any) {
		steps = append(steps, Step{
			Op: deviceOp{dev: sys.Dev, iface: iface, line: line, cfg: cfg, fields: joinFields(map[string]any{"command": "set"}, fields)},
			Undo: undoWith(rankSetBack, deviceOp{dev: sys.Dev, iface: iface, line: setBackLine(iface, back), cfg: back,
				fields: map[string]any{"command": "set"}}),
		})
	}
	var key conf.Key
	if fc.Interface.PrivateKey != nil {
		key = *fc.Interface.PrivateKey
	}
	if key != dev.PrivateKey {
		old := dev.PrivateKey
		arg := "/dev/fd/63"
		if key.IsZero() {
			arg = "/dev/null"
		}
		set(lineWords("wg set", iface, "private-key", arg), &conf.Config{Interface: conf.Interface{PrivateKey: &key}},
			&conf.Config{Interface: conf.Interface{PrivateKey: &old}}, map[string]any{"private_key": hidden})
	}
	if p := fc.Interface.ListenPort; p != nil && *p != 0 && *p != dev.ListenPort {
		old := dev.ListenPort
		set(lineWords("wg set", iface, "listen-port", strconv.Itoa(int(*p))), &conf.Config{Interface: conf.Interface{ListenPort: p}},
			&conf.Config{Interface: conf.Interface{ListenPort: &old}}, map[string]any{"listen_port": *p})
	}
	wantMark := uint32(0)
	if m := fc.Interface.FwMark; m != nil {
		wantMark = *m
	} else if len(fileDefaults(v, l)) > 0 && dev.FwMark != 0 && hasRulesOf(v, dev.FwMark) && tunnelMark(sys, v, l, dev.FwMark) == dev.FwMark {
		wantMark = dev.FwMark
	}
	if wantMark != dev.FwMark {
		old := dev.FwMark
		set(lineWords("wg set", iface, "fwmark", markWord(wantMark)), &conf.Config{Interface: conf.Interface{FwMark: &wantMark}},
			&conf.Config{Interface: conf.Interface{FwMark: &old}}, map[string]any{"fwmark": wantMark})
	}
	// Peers: removals first (in syncconf's order), then the file's
	// peers, added or changed.
	inFile := map[conf.Key]bool{}
	for _, p := range fc.Peers {
		inFile[p.PublicKey] = true
	}
	var gone []conf.DevicePeer
	for _, dp := range dev.Peers {
		if !inFile[dp.PublicKey] {
			gone = append(gone, dp)
		}
	}
	slices.SortFunc(gone, func(a, b conf.DevicePeer) int { return bytes.Compare(b.PublicKey[:], a.PublicKey[:]) })
	for _, dp := range gone {
		set(lineWords("wg set", iface, "peer", dp.PublicKey.String(), "remove"),
			&conf.Config{Peers: []conf.Peer{{PublicKey: dp.PublicKey, Remove: true}}},
			&conf.Config{Peers: []conf.Peer{peerOf(dp)}}, map[string]any{"peer": dp.PublicKey.String(), "remove": true})
	}
	for _, fp := range fc.Peers {
		k := slices.IndexFunc(dev.Peers, func(dp conf.DevicePeer) bool { return dp.PublicKey == fp.PublicKey })
		if k < 0 {
			p := fp
			p.ReplaceAllowedIPs = true
			set(peerLine(iface, &p, true), &conf.Config{Peers: []conf.Peer{p}},
				&conf.Config{Peers: []conf.Peer{{PublicKey: fp.PublicKey, Remove: true}}}, map[string]any{"peer": fp.PublicKey.String(), "remove": false})
			continue
		}
		change, back, ok := peerChange(&fp, &dev.Peers[k])
		if ok {
			set(peerLine(iface, change, false), &conf.Config{Peers: []conf.Peer{*change}},
				&conf.Config{Peers: []conf.Peer{*back}}, map[string]any{"peer": fp.PublicKey.String(), "remove": false})
		}
	}
	return steps, nil
}

func markWord(m uint32) string {
	if m == 0 {
		return "off"
	}
	return strconv.FormatUint(uint64(m), 10)
}

// peerOf is a device peer as a configuration that makes it again.
func peerOf(dp conf.DevicePeer) conf.Peer {
	p := conf.Peer{PublicKey: dp.PublicKey, ReplaceAllowedIPs: true}
	psk, ka := dp.PresharedKey, dp.PersistentKeepalive
	p.PresharedKey, p.PersistentKeepalive = &psk, &ka
	if dp.Endpoint.IsValid() {
		ep := dp.Endpoint
		p.Endpoint = &ep
	}
	for _, a := range dp.AllowedIPs {
		p.AllowedIPs = append(p.AllowedIPs, conf.AllowedIP{Prefix: a})
	}
	return p
}

// peerChange is what makes the device's peer dp the file's fp (syncconf:
// a preshared key or keepalive the file leaves out is cleared, an endpoint
// it leaves out is kept), and what sets it back; ok false when nothing
// differs.
func peerChange(fp *conf.Peer, dp *conf.DevicePeer) (change, back *conf.Peer, ok bool) {
	change = &conf.Peer{PublicKey: fp.PublicKey}
	back = &conf.Peer{PublicKey: fp.PublicKey}
	var psk conf.Key
	if fp.PresharedKey != nil {
		psk = *fp.PresharedKey
	}
	if psk != dp.PresharedKey {
		old := dp.PresharedKey
		change.PresharedKey, back.PresharedKey, ok = &psk, &old, true
	}
	if fp.Endpoint != nil && *fp.Endpoint != dp.Endpoint {
		ep := *fp.Endpoint
		change.Endpoint, ok = &ep, true
		if dp.Endpoint.IsValid() {
			old := dp.Endpoint
			back.Endpoint = &old
		}
	}
	var ka uint16
	if fp.PersistentKeepalive != nil {
		ka = *fp.PersistentKeepalive
	}
	if ka != dp.PersistentKeepalive {
		old := dp.PersistentKeepalive
		change.PersistentKeepalive, back.PersistentKeepalive, ok = &ka, &old, true
	}
	var want []netip.Prefix
	for _, a := range fp.AllowedIPs {
		m := a.Prefix.Masked()
		if a.Remove {
			want = slices.DeleteFunc(want, func(x netip.Prefix) bool { return x == m })
		} else if !slices.Contains(want, m) {
			want = append(want, m)
		}
	}
	if !slices.Equal(want, dp.AllowedIPs) {
		change.ReplaceAllowedIPs, back.ReplaceAllowedIPs, ok = true, true, true
		for _, a := range want {
			change.AllowedIPs = append(change.AllowedIPs, conf.AllowedIP{Prefix: a})
		}
		for _, a := range dp.AllowedIPs {
			back.AllowedIPs = append(back.AllowedIPs, conf.AllowedIP{Prefix: a})
		}
	}
	return change, back, ok
}

// peerLine is `wg set IF peer KEY ...` for what p sets (a preshared key
// read from a descriptor, never written out).
func peerLine(iface string, p *conf.Peer, added bool) string {
	w := []string{"wg set", iface, "peer", p.PublicKey.String()}
	if p.PresharedKey != nil && (added && !p.PresharedKey.IsZero() || !added) {
		if p.PresharedKey.IsZero() {
			w = append(w, "preshared-key", "/dev/null")
		} else {
			w = append(w, "preshared-key", "/dev/fd/63")
		}
	}
	if p.Endpoint != nil {
		w = append(w, "endpoint", conf.FormatEndpoint(*p.Endpoint))
	}
	if p.PersistentKeepalive != nil && (!added || *p.PersistentKeepalive != 0) {
		w = append(w, "persistent-keepalive", keepaliveWord(*p.PersistentKeepalive))
	}
	if p.ReplaceAllowedIPs {
		var ips []string
		for _, a := range p.AllowedIPs {
			if !a.Remove {
				ips = append(ips, conf.FormatPrefix(a.Prefix.Masked()))
			}
		}
		if len(ips) == 0 {
			w = append(w, "allowed-ips", `""`)
		} else {
			w = append(w, "allowed-ips", strings.Join(ips, ","))
		}
	}
	return lineWords(w...)
}

func keepaliveWord(n uint16) string {
	if n == 0 {
		return "off"
	}
	return strconv.Itoa(int(n))
}

// setBackLine is the line of an undo that sets back an interface's or a
// peer's settings.
func setBackLine(iface string, c *conf.Config) string {
	i := &c.Interface
	switch {
	case i.PrivateKey != nil:
		if i.PrivateKey.IsZero() {
			return lineWords("wg set", iface, "private-key /dev/null")
		}
		return lineWords("wg set", iface, "private-key /dev/fd/63")
	case i.ListenPort != nil:
		return lineWords("wg set", iface, "listen-port", strconv.Itoa(int(*i.ListenPort)))
	case i.FwMark != nil:
		return lineWords("wg set", iface, "fwmark", markWord(*i.FwMark))
	case len(c.Peers) == 1 && c.Peers[0].Remove:
		return lineWords("wg set", iface, "peer", c.Peers[0].PublicKey.String(), "remove")
	case len(c.Peers) == 1:
		return peerLine(iface, &c.Peers[0], false)
	}
	return "wg set " + iface
}

// addressChanges bring the addresses to the file's: those not in it
// deleted, the missing ones added in file order (an IPv6 link-local
// address is left alone).
func addressChanges(sys *Sys, v *View, l *Loaded) ([]Step, error) {
	iface := l.Interface
	cur, err := v.Addresses(iface)
	if err != nil {
		return nil, fail(1, "%s: reading the addresses of `%s': %v", sys.Prog, iface, err)
	}
	var want []conf.Address
	for _, a := range l.File.Config.Interface.Addresses {
		if !v.skipped(a.Prefix) {
			want = append(want, a)
		}
	}
	var steps []Step
	for _, p := range cur {
		if p.Addr().IsLinkLocalUnicast() || slices.ContainsFunc(want, func(a conf.Address) bool { return a.Prefix == p }) {
			continue
		}
		raw := conf.FormatPrefix(p)
		steps = append(steps, Step{
			Op:   netOp{sys.Net, netlinkx.AddrDelete{Link: iface, Raw: raw, Prefix: p}},
			Undo: undoWith(rankSetBack, netOp{sys.Net, netlinkx.AddrAdd{Link: iface, Raw: raw, Prefix: p}}),
		})
	}
	for _, a := range want {
		if slices.Contains(cur, a.Prefix) {
			continue
		}
		cur = append(cur, a.Prefix)
		steps = append(steps, Step{
			Op:   netOp{sys.Net, netlinkx.AddrAddOf(iface, a)},
			Undo: undoWith(rankSetBack, netOp{sys.Net, netlinkx.AddrDelete{Link: iface, Raw: a.Raw, Prefix: a.Prefix}}),
		})
	}
	return steps, nil
}

// mtuChange sets the file's MTU, or the automatic one (worked out as up
// does, with the routes the tunnel's own packets take), when the link has
// another.
func mtuChange(sys *Sys, v *View, l *Loaded) ([]Step, error) {
	iface := l.Interface
	link, ok, err := v.Link(iface)
	if err != nil || !ok {
		return nil, fail(1, "Cannot find device \"%s\"", iface)
	}
	s := Step{}
	mtu := 0
	if m := l.File.Config.Interface.MTU; m != nil {
		mtu = *m
	} else {
		dev, err := v.Device(iface)
		if err != nil {
			return nil, deviceFailure(err)
		}
		mtu = autoMTUBypass(v, dev, link.Index)
		s.Note = "MTU computed from the main table's routes to the endpoints (not through the interface), as they are now"
	}
	if mtu == link.MTU {
		return nil, nil
	}
	s.Op = netOp{sys.Net, netlinkx.LinkSetMTU{Name: iface, MTU: mtu}}
	s.Undo = undoWith(rankSetBack, netOp{sys.Net, netlinkx.LinkSetMTU{Name: iface, MTU: link.MTU}})
	return []Step{s}, nil
}

// dnsChange sets the file's nameservers and search domains where the
// interface has others, or takes them away where the file has none. A
// backend whose settings are the link's own (systemd-resolved: Set
// changes only what it names) has them unset first, so that what is left
// is what a fresh up makes.
func dnsChange(ctx context.Context, sys *Sys, v *View, l *Loaded) ([]Step, error) {
	iface := l.Interface
	d := sys.dns()
	want := dnsOf(l)
	curServers, curSearch, has := v.DNS(ctx, iface)
	wantServers, wantSearch := d.Want(want)
	var ops []Op
	switch {
	case len(want.Servers) == 0 && has:
		ops = d.Unset(iface)
	case len(want.Servers) == 0:
		return nil, nil
	case has && slices.Equal(curServers, wantServers) && slices.Equal(curSearch, wantSearch):
		return nil, nil
	default:
		if has && d.OnLink() {
			ops = d.Unset(iface)
		}
		ops = append(ops, d.Set(iface, want)...)
	}
	// The undo sets back what the interface had (or nothing).
	back := d.Unset(iface)
	if has {
		cur := DNSSettings{Search: curSearch, FullTunnel: slices.Contains(curSearch, "~.")}
		for _, s := range curServers {
			if a, err := netip.ParseAddr(s); err == nil {
				cur.Servers = append(cur.Servers, a)
			}
		}
		if !d.OnLink() {
			back = nil
		}
		back = append(back, d.Set(iface, cur)...)
	}
	steps := make([]Step, len(ops))
	for k, op := range ops {
		steps[k] = Step{Op: op}
	}
	if len(steps) > 0 {
		steps[0].Undo = undoWith(rankSetBack, back...)
	}
	return steps, nil
}

// routeChanges bring the routes through the interface to what a fresh up
// of the file makes (but a full tunnel's default routes, see
// tunnelOnSteps): in the file's table, every allowed IP; with Table auto,
// every one but /0 not covered by a route of the interface's own
// addresses, in main. Routes through the interface in other tables (but
// local, and the full tunnel's) that the file does not want are deleted.
func routeChanges(sys *Sys, v *View, l *Loaded) ([]Step, error) {
	iface := l.Interface
	i := &l.File.Config.Interface
	link, ok, err := v.Link(iface)
	if err != nil || !ok {
		return nil, fail(1, "Cannot find device \"%s\"", iface)
	}
	dev, err := v.Device(iface)
	if err != nil {
		return nil, deviceFailure(err)
	}
	addrs, _ := v.Addresses(iface)
	tunnel := uint32(0)
	if dev.FwMark != 0 && hasRulesOf(v, dev.FwMark) {
		tunnel = dev.FwMark
	}
	type want struct {
		p     netip.Prefix
		table uint32
		name  string
	}
	var wanted []want
	auto := autoTable(i.Table)
	switch {
	case i.Table == conf.TableOff:
	case !auto:
		id, err := tableID(l)
		if err != nil {
			return nil, err
		}
		for _, p := range devicePrefixes(v, dev) {
			wanted = append(wanted, want{p, id, i.Table})
		}
	default:
		for _, p := range devicePrefixes(v, dev) {
			if p.Bits() == 0 {
				continue
			}
			connected := slices.ContainsFunc(addrs, func(a netip.Prefix) bool {
				return !(a.Addr().Is4() && a.Bits() == 32) && a.Addr().Is4() == p.Addr().Is4() && a.Bits() <= p.Bits() && a.Masked().Contains(p.Addr())
			})
			if !connected {
				wanted = append(wanted, want{p, unix.RT_TABLE_MAIN, ""})
			}
		}
	}
	var steps []Step
	have := map[want]bool{}
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		tables := []uint32{unix.RT_TABLE_MAIN}
		for _, w := range wanted {
			tables = append(tables, w.table)
		}
		tables = append(tables, v.TablesWith(fam, link.Index)...)
		slices.Sort(tables)
		for _, table := range slices.Compact(tables) {
			if table == unix.RT_TABLE_LOCAL || table == tunnel && tunnel != 0 {
				continue
			}
			routes, _ := v.Routes(fam, table)
			for _, rt := range routes {
				if rt.LinkIndex != link.Index || rt.Type != unix.RTN_UNICAST && rt.Type != 0 {
					continue
				}
				if table == unix.RT_TABLE_MAIN && slices.ContainsFunc(addrs, func(a netip.Prefix) bool { return a.Masked() == rt.Dst }) {
					continue // the kernel's route of an address
				}
				k := slices.IndexFunc(wanted, func(w want) bool { return w.p.Masked() == rt.Dst && w.table == table })
				if k >= 0 {
					have[wanted[k]] = true
					continue
				}
				name := ""
				if table != unix.RT_TABLE_MAIN {
					name = strconv.FormatUint(uint64(table), 10)
				}
				steps = append(steps, routeDeleteStep(sys, iface, rt.Dst, name, table))
			}
		}
	}
	for _, w := range wanted {
		if have[w] {
			continue
		}
		id := w.table
		if w.name == "" {
			id = 0
		}
		op := netlinkx.RouteAdd{Link: iface, Prefix: w.p, Table: w.name, TableID: id}
		steps = append(steps, Step{Op: netOp{sys.Net, op},
			Undo: undoWith(rankSetBack, netOp{sys.Net, netlinkx.RouteDelete{Link: iface, Prefix: w.p, Table: w.name, TableID: id}})})
	}
	return steps, nil
}

// autoMTUBypass is autoMTU for an interface that is up: the route to an
// endpoint is the one a fresh up would find before it routes anything
// through the interface (and the full tunnel's own, marked, packets
// take): the longest match in the main table through another interface.
// (Up asks the kernel, `ip route get`, which also weighs policy rules
// other than wg-quick's.)
func autoMTUBypass(v *View, dev *conf.Device, self int) int {
	best := 0
	for k := range dev.Peers {
		ep := dev.Peers[k].Endpoint
		if !ep.IsValid() {
			continue
		}
		a := ep.Addr().Unmap()
		fam := unix.AF_INET
		if a.Is6() {
			fam = unix.AF_INET6
		}
		routes, _ := v.Routes(fam, unix.RT_TABLE_MAIN)
		bits := -1
		var pick netlinkx.Route
		for _, r := range routes {
			if r.LinkIndex != self && r.Dst.Contains(a) && r.Dst.Bits() > bits {
				bits, pick = r.Dst.Bits(), r
			}
		}
		if bits < 0 {
			continue
		}
		if c, ok := routeMTU(v, pick); ok && (best == 0 || c < best) {
			best = c
		}
	}
	if best == 0 {
		routes, _ := v.Routes(unix.AF_INET, unix.RT_TABLE_MAIN)
		for _, r := range routes {
			if r.Dst.Bits() == 0 && r.LinkIndex != self {
				if c, ok := routeMTU(v, r); ok {
					best = c
				}
				break
			}
		}
	}
	if best <= 0 {
		best = 1500
	}
	return best - overhead
}
