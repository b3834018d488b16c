package quick

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/ipv6"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// A View is the machine as a phase sees it: links, addresses, routes,
// rules and WireGuard devices, read on demand and kept (a phase plans from
// one consistent reading; the runner gives each phase a fresh View).
//
// A simulating View (dry runs, PlanReload) serves a whole plan: every step
// planned changes it as the step would change the machine (see
// simulated), so that the next phase plans from the state the real run
// would find there. What it cannot follow (a hook's effects) it notes in
// Unsure; reads it was refused (permissions) in Denied.
type View struct {
	sys *Sys
	sim bool

	links     map[string]*viewLink // nil: known not to exist
	byIndex   map[int]string
	gone      map[int]bool // indexes of links deleted in the simulation
	nextIndex int
	addrs     map[string][]netip.Prefix
	routes    map[routeKey][]netlinkx.Route
	routeErr  map[routeKey]error
	rules     map[int][]netlinkx.Rule
	ruleErr   map[int]error
	devs      map[string]*conf.Device
	devErr    map[string]error
	ifaces    []string
	ifacesErr error
	ifacesOK  bool
	dns       map[string]*dnsRecord // set in the simulation
	svm       string                // src_valid_mark as the simulation set it, "" if untouched
	ipv6      *ipv6.Status          // the host's IPv6, once read (see IPv6)
	// fw is, per interface, the families of its guard rules as the
	// simulation left them (planners note it as they plan, since the
	// firewall's Ops do not say what they do).
	fw map[string][]firewall.Family

	// Unsure lists what a simulation could not follow (a hook ran).
	Unsure []string
	// Denied lists the reads refused for want of privilege.
	Denied []string
}

type viewLink struct {
	netlinkx.Link
	up bool // for links made in the simulation
}

type routeKey struct {
	family int
	table  uint32
}

// dnsRecord is the nameservers and search domains set for an interface.
type dnsRecord struct {
	servers []string
	search  []string
}

// NewView is a View of sys's machine as it is now.
func NewView(sys *Sys) *View {
	return &View{
		sys:       sys,
		links:     map[string]*viewLink{},
		byIndex:   map[int]string{},
		gone:      map[int]bool{},
		nextIndex: 1 << 30,
		addrs:     map[string][]netip.Prefix{},
		routes:    map[routeKey][]netlinkx.Route{},
		routeErr:  map[routeKey]error{},
		rules:     map[int][]netlinkx.Rule{},
		ruleErr:   map[int]error{},
		devs:      map[string]*conf.Device{},
		devErr:    map[string]error{},
		dns:       map[string]*dnsRecord{},
		fw:        map[string][]firewall.Family{},
	}
}

// FirewallFamilies lists the families of iface's guard rules.
func (v *View) FirewallFamilies(ctx context.Context, iface string) ([]firewall.Family, error) {
	if f, ok := v.fw[iface]; ok {
		return slices.Clone(f), nil
	}
	return v.sys.Firewall.Families(ctx, iface)
}

// planFirewall notes, in a simulation, the families iface's guard rules
// will have once the steps being planned have run.
func (v *View) planFirewall(ctx context.Context, iface string, add *firewall.Family) {
	if !v.sim {
		return
	}
	if add == nil {
		v.fw[iface] = nil
		return
	}
	fams, _ := v.FirewallFamilies(ctx, iface)
	if !slices.Contains(fams, *add) {
		fams = append(fams, *add)
	}
	v.fw[iface] = fams
}

// newSimView is a View that the planned steps change (see View).
func newSimView(sys *Sys) *View {
	v := NewView(sys)
	v.sim = true
	return v
}

// Simulating reports whether v follows planned steps rather than the
// machine.
func (v *View) Simulating() bool { return v.sim }

func (v *View) denied(what string, err error) {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		if !slices.Contains(v.Denied, what) {
			v.Denied = append(v.Denied, what)
		}
	}
}

// Link is the named link; ok is false when there is none.
func (v *View) Link(name string) (netlinkx.Link, bool, error) {
	if l, ok := v.links[name]; ok {
		if l == nil {
			return netlinkx.Link{}, false, nil
		}
		return l.Link, true, nil
	}
	l, ok, err := v.sys.Net.LinkByName(name)
	if err != nil {
		v.denied("links", err)
		return l, ok, err
	}
	if ok {
		v.links[name] = &viewLink{Link: l, up: true}
		v.byIndex[l.Index] = name
	} else {
		v.links[name] = nil
	}
	return l, ok, nil
}

// LinkByIndex is the link with that index; ok is false when there is none.
func (v *View) LinkByIndex(i int) (netlinkx.Link, bool, error) {
	if name, ok := v.byIndex[i]; ok {
		if l := v.links[name]; l != nil {
			return l.Link, true, nil
		}
	}
	if v.gone[i] {
		return netlinkx.Link{}, false, nil
	}
	l, ok, err := v.sys.Net.LinkByIndex(i)
	if err != nil || !ok {
		return l, ok, err
	}
	if _, known := v.links[l.Name]; !known {
		v.links[l.Name] = &viewLink{Link: l, up: true}
		v.byIndex[i] = l.Name
	}
	return l, true, nil
}

// Addresses lists an interface's addresses, IPv4 then IPv6 (as `ip
// -brief address` does).
func (v *View) Addresses(name string) ([]netip.Prefix, error) {
	if a, ok := v.addrs[name]; ok {
		return order46(a), nil
	}
	if l, ok := v.links[name]; ok && l == nil {
		return nil, netlinkx.MissingLink(name)
	}
	a, err := v.sys.Net.Addresses(name)
	if err != nil {
		v.denied("addresses", err)
		return nil, err
	}
	v.addrs[name] = a
	return slices.Clone(a), nil
}

func order46(a []netip.Prefix) []netip.Prefix {
	var v4, v6 []netip.Prefix
	for _, p := range a {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return append(v4, v6...)
}

// Routes lists one family's routes in a table.
func (v *View) Routes(family int, table uint32) ([]netlinkx.Route, error) {
	k := routeKey{family, table}
	if err := v.loadRoutes(k); err != nil {
		return nil, err
	}
	return slices.Clone(v.routes[k]), nil
}

func (v *View) loadRoutes(k routeKey) error {
	if _, ok := v.routes[k]; ok {
		return nil
	}
	if err, ok := v.routeErr[k]; ok {
		return err
	}
	list, err := v.sys.Net.Routes(k.family, k.table)
	if err != nil {
		v.denied("routes", err)
		v.routeErr[k] = err
		return err
	}
	list = slices.DeleteFunc(list, func(r netlinkx.Route) bool { return v.gone[r.LinkIndex] })
	v.routes[k] = list
	return nil
}

// TablesWith lists the tables (but local) holding a route of family
// through the link index: from one dump of every table, and in a
// simulation the tables it has changed.
func (v *View) TablesWith(family, index int) []uint32 {
	var out []uint32
	all, err := v.sys.Net.Routes(family, 0)
	if err != nil {
		v.denied("routes", err)
	}
	for _, r := range all {
		if r.LinkIndex == index && r.Table != unix.RT_TABLE_LOCAL && !slices.Contains(out, r.Table) {
			out = append(out, r.Table)
		}
	}
	for k, list := range v.routes {
		if k.family == family && k.table != 0 && !slices.Contains(out, k.table) &&
			slices.ContainsFunc(list, func(r netlinkx.Route) bool { return r.LinkIndex == index }) {
			out = append(out, k.table)
		}
	}
	return out
}

// RouteGetAll looks up the route to each destination on the machine as it
// is (a simulation does not follow route lookups).
func (v *View) RouteGetAll(dsts []netip.Addr) []netlinkx.RouteLookup {
	return v.sys.Net.RouteGetAll(dsts)
}

// Rules lists one family's policy rules.
func (v *View) Rules(family int) ([]netlinkx.Rule, error) {
	if err := v.loadRules(family); err != nil {
		return nil, err
	}
	return slices.Clone(v.rules[family]), nil
}

func (v *View) loadRules(family int) error {
	if _, ok := v.rules[family]; ok {
		return nil
	}
	if err, ok := v.ruleErr[family]; ok {
		return err
	}
	list, err := v.sys.Net.Rules(family)
	if err != nil {
		v.denied("rules", err)
		v.ruleErr[family] = err
		return err
	}
	v.rules[family] = list
	return nil
}

// TableInUse reports whether a table holds a route of either family.
func (v *View) TableInUse(table uint32) (bool, error) {
	if !v.sim {
		return v.sys.Net.TableInUse(table)
	}
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		routes, err := v.Routes(fam, table)
		if err != nil {
			return false, err
		}
		if len(routes) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// Device is the WireGuard device name as `wg show` reads it. The caller
// must not change it.
func (v *View) Device(name string) (*conf.Device, error) {
	if d, ok := v.devs[name]; ok {
		if d == nil {
			return nil, v.devErr[name]
		}
		return d, nil
	}
	d, err := v.sys.Dev.Device(name)
	if err != nil {
		v.denied("the device "+name, err)
		v.devs[name], v.devErr[name] = nil, err
		return nil, err
	}
	v.devs[name] = d
	return d, nil
}

// Interfaces lists the WireGuard interfaces (`wg show interfaces`).
func (v *View) Interfaces() ([]string, error) {
	if !v.ifacesOK {
		v.ifaces, v.ifacesErr = v.sys.Dev.Interfaces()
		v.ifacesOK = true
		if v.ifacesErr != nil {
			v.denied("the WireGuard interfaces", v.ifacesErr)
		}
	}
	return slices.Clone(v.ifaces), v.ifacesErr
}

// IsWireGuard is the reference's test: the name is among `wg show
// interfaces`.
func (v *View) IsWireGuard(name string) (bool, error) {
	list, err := v.Interfaces()
	if err != nil {
		return false, err
	}
	return slices.Contains(list, name), nil
}

// --- simulation: what the planned steps do to the View -----------------

// unsure notes what the simulation cannot follow.
func (v *View) unsure(what string) {
	if v.sim && !slices.Contains(v.Unsure, what) {
		v.Unsure = append(v.Unsure, what)
	}
}

// addLink makes a link (and its empty device) in the simulation.
func (v *View) addLink(name, kind string) {
	v.nextIndex++
	l := &viewLink{Link: netlinkx.Link{Index: v.nextIndex, Name: name, MTU: 1420, Kind: kind}}
	v.links[name] = l
	v.byIndex[l.Index] = name
	v.addrs[name] = nil
	v.devs[name] = &conf.Device{Name: name}
	delete(v.devErr, name)
	v.Interfaces()
	if !slices.Contains(v.ifaces, name) {
		v.ifaces = append(v.ifaces, name)
	}
}

func (v *View) deleteLink(name string) {
	l, _, _ := v.Link(name)
	v.links[name] = nil
	delete(v.addrs, name)
	v.devs[name], v.devErr[name] = nil, syscall.ENODEV
	v.Interfaces()
	v.ifaces = slices.DeleteFunc(v.ifaces, func(s string) bool { return s == name })
	if l.Index == 0 {
		return
	}
	v.gone[l.Index] = true
	delete(v.byIndex, l.Index)
	for k, list := range v.routes {
		v.routes[k] = slices.DeleteFunc(list, func(r netlinkx.Route) bool { return r.LinkIndex == l.Index })
	}
}

// connected adds (or removes) the kernel's route for an address: IPv4
// prefixes shorter than /32 at once, IPv6 ones once the link is up.
func (v *View) connected(name string, p netip.Prefix, add bool) {
	l := v.links[name]
	if l == nil || (p.Addr().Is4() && p.Bits() == 32) || (p.Addr().Is6() && !l.up) {
		return
	}
	fam := unix.AF_INET
	if p.Addr().Is6() {
		fam = unix.AF_INET6
	}
	k := routeKey{fam, unix.RT_TABLE_MAIN}
	if v.loadRoutes(k) != nil {
		return
	}
	dst := p.Masked()
	list := slices.DeleteFunc(v.routes[k], func(r netlinkx.Route) bool { return r.Dst == dst && r.LinkIndex == l.Index })
	if add {
		list = append(list, netlinkx.Route{Dst: dst, LinkIndex: l.Index, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST})
	}
	v.routes[k] = list
}

// applyNet changes the simulation as op changes the namespace.
func (v *View) applyNet(op netlinkx.Op) {
	switch o := op.(type) {
	case netlinkx.LinkAdd:
		v.addLink(o.Name, "wireguard")
	case netlinkx.LinkDelete:
		v.deleteLink(o.Name)
	case netlinkx.LinkSetMTUUp:
		if l, ok, _ := v.Link(o.Name); ok {
			vl := v.links[o.Name]
			vl.MTU = o.MTU
			wasUp := vl.up
			vl.up = true
			if !wasUp {
				addrs, _ := v.Addresses(o.Name)
				for _, a := range addrs {
					if a.Addr().Is6() {
						v.connected(o.Name, a, true)
					}
				}
			}
			_ = l
		}
	case netlinkx.LinkSetMTU:
		if vl := v.links[o.Name]; vl != nil {
			vl.MTU = o.MTU
		}
	case netlinkx.AddrAdd:
		if _, err := v.Addresses(o.Link); err == nil {
			v.addrs[o.Link] = append(v.addrs[o.Link], o.Prefix)
			v.connected(o.Link, o.Prefix, true)
		}
	case netlinkx.AddrDelete:
		if _, err := v.Addresses(o.Link); err == nil {
			v.addrs[o.Link] = slices.DeleteFunc(v.addrs[o.Link], func(p netip.Prefix) bool { return p == o.Prefix })
			v.connected(o.Link, o.Prefix, false)
		}
	case netlinkx.RouteAdd:
		v.routeChange(o.Link, o.Prefix, o.TableID, true)
	case netlinkx.RouteDelete:
		v.routeChange(o.Link, o.Prefix, o.TableID, false)
	case netlinkx.RuleAdd:
		v.ruleAdd(o.Rule)
	case netlinkx.RuleDelete:
		v.ruleDelete(o.Rule)
	}
}

func (v *View) routeChange(link string, p netip.Prefix, table uint32, add bool) {
	l, ok, _ := v.Link(link)
	if !ok {
		return
	}
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	fam := unix.AF_INET
	if p.Addr().Is6() {
		fam = unix.AF_INET6
	}
	k := routeKey{fam, table}
	if v.loadRoutes(k) != nil {
		return
	}
	dst := p.Masked()
	list := slices.DeleteFunc(v.routes[k], func(r netlinkx.Route) bool { return r.Dst == dst && r.LinkIndex == l.Index })
	if add {
		list = append(list, netlinkx.Route{Dst: dst, LinkIndex: l.Index, Table: table, Type: unix.RTN_UNICAST})
	}
	v.routes[k] = list
}

// ruleAdd inserts a rule where the kernel puts it: without a priority, at
// the second rule's priority less one (the kernel's default).
func (v *View) ruleAdd(r netlinkx.Rule) {
	if v.loadRules(r.Family) != nil {
		return
	}
	v.rules[r.Family] = insertRule(v.rules[r.Family], r)
}

// insertRule inserts r into list (ordered by priority) where the kernel
// puts it: without a priority, at the second rule's priority less one.
func insertRule(list []netlinkx.Rule, r netlinkx.Rule) []netlinkx.Rule {
	if r.Priority < 0 {
		r.Priority = 0
		if len(list) >= 2 && list[1].Priority > 0 {
			r.Priority = list[1].Priority - 1
		}
	}
	i := 0
	for i < len(list) && list[i].Priority <= r.Priority {
		i++
	}
	return slices.Insert(list, i, r)
}

// ruleDelete removes the first rule that matches every field set in q.
func (v *View) ruleDelete(q netlinkx.Rule) {
	if v.loadRules(q.Family) != nil {
		return
	}
	list := v.rules[q.Family]
	if i := slices.IndexFunc(list, func(r netlinkx.Rule) bool { return ruleMatches(q, r) }); i >= 0 {
		v.rules[q.Family] = slices.Delete(list, i, i+1)
	}
}

// ruleMatches reports whether `ip rule delete` with the fields of q would
// take r.
func ruleMatches(q, r netlinkx.Rule) bool {
	return (q.Table == 0 || r.Table == q.Table) && (q.SuppressPrefixlen < 0 || r.SuppressPrefixlen == q.SuppressPrefixlen) &&
		(q.Priority < 0 || r.Priority == q.Priority) && (q.FwMark == 0 || r.FwMark == q.FwMark) && (!q.Not || r.Not)
}

// configure applies cfg to the simulated device as the kernel applies it.
func (v *View) configure(name string, cfg *conf.Config) {
	d, err := v.Device(name)
	if err != nil {
		return
	}
	c := cloneDevice(d)
	applyConfig(c, cfg)
	v.devs[name] = c
}

func cloneDevice(d *conf.Device) *conf.Device {
	c := *d
	c.Peers = make([]conf.DevicePeer, len(d.Peers))
	for i, p := range d.Peers {
		p.AllowedIPs = slices.Clone(p.AllowedIPs)
		c.Peers[i] = p
	}
	return &c
}

// applyConfig is what a device does with a configuration (addconf's
// semantics; setconf's and syncconf's where cfg says so): the interface's
// keys where set, peers removed, added or updated in place, allowed IPs
// replaced or added to.
func applyConfig(dev *conf.Device, cfg *conf.Config) {
	i := &cfg.Interface
	if i.PrivateKey != nil {
		dev.PrivateKey = *i.PrivateKey
		dev.PublicKey = conf.Key{}
		if !i.PrivateKey.IsZero() {
			dev.PublicKey = i.PrivateKey.PublicKey()
		}
	}
	if i.ListenPort != nil {
		dev.ListenPort = *i.ListenPort
	}
	if i.FwMark != nil {
		dev.FwMark = *i.FwMark
	}
	if cfg.ReplacePeers {
		dev.Peers = nil
	}
	for _, p := range cfg.Peers {
		idx := slices.IndexFunc(dev.Peers, func(x conf.DevicePeer) bool { return x.PublicKey == p.PublicKey })
		if p.Remove {
			if idx >= 0 {
				dev.Peers = slices.Delete(dev.Peers, idx, idx+1)
			}
			continue
		}
		if idx < 0 {
			dev.Peers = append(dev.Peers, conf.DevicePeer{PublicKey: p.PublicKey, ProtocolVersion: 1})
			idx = len(dev.Peers) - 1
		}
		dp := &dev.Peers[idx]
		if p.PresharedKey != nil {
			dp.PresharedKey = *p.PresharedKey
		}
		if p.Endpoint != nil {
			dp.Endpoint = *p.Endpoint
		}
		if p.PersistentKeepalive != nil {
			dp.PersistentKeepalive = *p.PersistentKeepalive
		}
		if p.ReplaceAllowedIPs {
			dp.AllowedIPs = nil
		}
		for _, a := range p.AllowedIPs {
			m := a.Prefix.Masked()
			dp.AllowedIPs = slices.DeleteFunc(dp.AllowedIPs, func(x netip.Prefix) bool { return x == m })
			if !a.Remove {
				dp.AllowedIPs = append(dp.AllowedIPs, m)
			}
		}
		// A device removes an allowed IP from any other peer that had it.
		for j := range dev.Peers {
			if j == idx {
				continue
			}
			dev.Peers[j].AllowedIPs = slices.DeleteFunc(dev.Peers[j].AllowedIPs, func(x netip.Prefix) bool {
				return slices.Contains(dp.AllowedIPs, x)
			})
		}
	}
}
