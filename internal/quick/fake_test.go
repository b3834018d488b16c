package quick

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/netlinkx"
	"github.com/gowg/wgtools/internal/osys"
)

// fakeHost is an in-memory machine for plan and trace tests: enough of
// links, addresses, routes (with the kernel's connected routes), rules,
// WireGuard devices and programs for up, down and save to run against.
// Everything it is asked to do is logged.
type fakeHost struct {
	links     []*fakeLink
	nextIndex int
	routes    []netlinkx.Route // not the connected ones
	rules     map[int][]netlinkx.Rule
	devices   map[string]*conf.Device
	kmod      bool
	programs  map[string]bool   // programs in PATH
	files     map[string]string // file contents
	resolv    map[string]string // resolvconf records
	failOps   map[string]error  // op line -> error
	listen    uint16            // port a device without ListenPort gets
	sockets   map[string]int    // UAPI sockets of other namespaces' devices: pid
	batches   []int             // the sizes of ApplyBatch's batches
	log       []string
	stdout    bytes.Buffer
	stderr    bytes.Buffer
	cancelOn  string // a line of the log; ctx is cancelled when it is logged
	cancel    context.CancelCauseFunc
	// symlinks maps a path to its target (EvalSymlinks).
	symlinks map[string]string
	// resolved is systemd-resolved on the bus; nil: no bus.
	resolved *fakeResolved
	// noRules are families whose policy rules cannot be listed (a
	// kernel without policy routing).
	noRules map[int]error
	// Firewall: guard rules by key ("nft ip wg-quick-wg0", "iptables ip
	// wg0") in the order made, with their marks; the backend up uses
	// ("nftables" or "iptables"); src_valid_mark and its record.
	fwKeys    []string
	fwMarks   map[string]uint32
	fwBackend string
	svm       string
	svmPrev   string
}

type fakeLink struct {
	netlinkx.Link
	up    bool
	addrs []netip.Prefix
}

// newFakeHost is the reference captures' namespace A: lo, eth0 with
// 192.0.2.1/24 and 2001:db8:1::1/64, default routes through eth0.
func newFakeHost() *fakeHost {
	f := &fakeHost{
		nextIndex: 1,
		rules:     map[int][]netlinkx.Rule{},
		devices:   map[string]*conf.Device{},
		programs:  map[string]bool{"bash": true, "resolvconf": true},
		files:     map[string]string{},
		resolv:    map[string]string{},
		symlinks:  map[string]string{},
		failOps:   map[string]error{},
		listen:    36815,
		noRules:   map[int]error{},
		fwMarks:   map[string]uint32{},
		fwBackend: "nftables",
		svm:       "0",
	}
	f.files["/proc/sys/net/ipv6"] = ""
	lo := f.addLink("lo", "", 65536)
	lo.up = true
	lo.addrs = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}
	eth := f.addLink("eth0", "veth", 1500)
	eth.up = true
	eth.addrs = []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8:1::1/64")}
	f.routes = append(f.routes,
		netlinkx.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), LinkIndex: eth.Index, Table: unix.RT_TABLE_MAIN},
		netlinkx.Route{Dst: netip.MustParsePrefix("::/0"), LinkIndex: eth.Index, Table: unix.RT_TABLE_MAIN})
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		f.rules[fam] = []netlinkx.Rule{
			{Family: fam, Table: unix.RT_TABLE_LOCAL, SuppressPrefixlen: -1, Priority: 0},
			{Family: fam, Table: unix.RT_TABLE_MAIN, SuppressPrefixlen: -1, Priority: 32766},
		}
	}
	return f
}

func (f *fakeHost) sys() *Sys {
	s := &Sys{
		Net: f, Dev: fakeDevices{f}, Userspace: fakeUserspace{f}, Exec: fakeExec{f}, Files: fakeFiles{f},
		Firewall: fakeFirewall{f},
		WriteFile: func(path string, data []byte) error {
			if err := f.failOps["write "+path]; err != nil {
				return err
			}
			f.files[path] = string(data)
			f.logf("write %s (%d bytes)", path, len(data))
			return nil
		},
		Prog: "wg-quick", Env: []string{"PATH=/usr/bin", "LC_ALL=C"},
		LookupEnv: func(string) (string, bool) { return "", false },
		Stdin:     strings.NewReader(""), Stdout: &f.stdout, Stderr: &f.stderr,
	}
	// The host's DNS manager, found as on the real machine.
	s.DNS = NewHostDNS(s, func() (ResolvedBus, error) {
		if f.resolved == nil {
			return nil, errors.New("dial unix /run/dbus/system_bus_socket: connect: no such file or directory")
		}
		return f.resolved, nil
	})
	return s
}

func (f *fakeHost) logf(format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	f.log = append(f.log, line)
	if f.cancel != nil && line == f.cancelOn {
		f.cancel(osys.SignalError{Name: "SIGTERM", Num: 15})
	}
}

func (f *fakeHost) addLink(name, kind string, mtu int) *fakeLink {
	l := &fakeLink{Link: netlinkx.Link{Index: f.nextIndex, Name: name, MTU: mtu, Kind: kind}}
	f.nextIndex++
	f.links = append(f.links, l)
	return l
}

func (f *fakeHost) link(name string) *fakeLink {
	for _, l := range f.links {
		if l.Name == name {
			return l
		}
	}
	return nil
}

func (f *fakeHost) LinkByName(name string) (netlinkx.Link, bool, error) {
	if l := f.link(name); l != nil {
		return l.Link, true, nil
	}
	return netlinkx.Link{}, false, nil
}

func (f *fakeHost) LinkByIndex(i int) (netlinkx.Link, bool, error) {
	for _, l := range f.links {
		if l.Index == i {
			return l.Link, true, nil
		}
	}
	return netlinkx.Link{}, false, nil
}

func (f *fakeHost) Apply(op netlinkx.Op) error {
	line := op.String()
	f.logf("%s", line)
	if err := f.failOps[line]; err != nil {
		return netlinkx.NewError(line, err)
	}
	fail := func(err error) error { return netlinkx.NewError(line, err) }
	missing := func(name string) error {
		return netlinkx.NewError(line, netlinkx.MissingLink(name))
	}
	switch o := op.(type) {
	case netlinkx.LinkAdd:
		if !f.kmod {
			return fail(fmt.Errorf("%w: Unknown device type", syscall.EOPNOTSUPP))
		}
		if f.link(o.Name) != nil {
			return fail(syscall.EEXIST)
		}
		f.addLink(o.Name, "wireguard", 1420)
		f.devices[o.Name] = &conf.Device{Name: o.Name}
	case netlinkx.LinkDelete:
		l := f.link(o.Name)
		if l == nil {
			return missing(o.Name)
		}
		f.links = slices.DeleteFunc(f.links, func(x *fakeLink) bool { return x == l })
		f.routes = slices.DeleteFunc(f.routes, func(r netlinkx.Route) bool { return r.LinkIndex == l.Index })
		delete(f.devices, o.Name)
	case netlinkx.LinkSetMTUUp:
		l := f.link(o.Name)
		if l == nil {
			return missing(o.Name)
		}
		if o.MTU < 68 {
			return fail(fmt.Errorf("%w: mtu less than device minimum", syscall.EINVAL))
		}
		l.MTU, l.up = o.MTU, true
	case netlinkx.AddrAdd:
		l := f.link(o.Link)
		if l == nil {
			return missing(o.Link)
		}
		if slices.Contains(l.addrs, o.Prefix) {
			return fail(syscall.EEXIST)
		}
		l.addrs = append(l.addrs, o.Prefix)
	case netlinkx.RouteAdd:
		l := f.link(o.Link)
		if l == nil {
			return missing(o.Link)
		}
		table := uint32(unix.RT_TABLE_MAIN)
		if o.TableID != 0 {
			table = o.TableID
		}
		fam := unix.AF_INET
		if o.Prefix.Addr().Is6() {
			fam = unix.AF_INET6
		}
		existing, _ := f.Routes(fam, table)
		for _, r := range existing {
			if r.Dst == o.Prefix.Masked() {
				return fail(syscall.EEXIST)
			}
		}
		f.routes = append(f.routes, netlinkx.Route{Dst: o.Prefix.Masked(), LinkIndex: l.Index, Table: table})
	case netlinkx.LinkSetMTU:
		l := f.link(o.Name)
		if l == nil {
			return missing(o.Name)
		}
		l.MTU = o.MTU
	case netlinkx.AddrDelete:
		l := f.link(o.Link)
		if l == nil {
			return missing(o.Link)
		}
		if !slices.Contains(l.addrs, o.Prefix) {
			return fail(syscall.EADDRNOTAVAIL)
		}
		l.addrs = slices.DeleteFunc(l.addrs, func(p netip.Prefix) bool { return p == o.Prefix })
	case netlinkx.RouteDelete:
		l := f.link(o.Link)
		if l == nil {
			return missing(o.Link)
		}
		table := uint32(unix.RT_TABLE_MAIN)
		if o.TableID != 0 {
			table = o.TableID
		}
		n := len(f.routes)
		f.routes = slices.DeleteFunc(f.routes, func(r netlinkx.Route) bool {
			return r.Dst == o.Prefix.Masked() && r.Table == table && r.LinkIndex == l.Index
		})
		if len(f.routes) == n {
			return fail(syscall.ESRCH)
		}
	case netlinkx.RuleAdd:
		if err := f.noRules[o.Rule.Family]; err != nil {
			return fail(err)
		}
		f.rules[o.Rule.Family] = insertRule(f.rules[o.Rule.Family], o.Rule)
	case netlinkx.RuleDelete:
		list := f.rules[o.Rule.Family]
		q := o.Rule
		for i, r := range list {
			if (q.Table == 0 || r.Table == q.Table) && (q.SuppressPrefixlen < 0 || r.SuppressPrefixlen == q.SuppressPrefixlen) &&
				(q.Priority < 0 || r.Priority == q.Priority) && (q.FwMark == 0 || r.FwMark == q.FwMark) {
				f.rules[o.Rule.Family] = slices.Delete(list, i, i+1)
				return nil
			}
		}
		return fail(syscall.ENOENT)
	default:
		return fmt.Errorf("fake: unexpected op %T", op)
	}
	return nil
}

// ApplyBatch applies each op as Apply does, going on after a failure, as
// the kernel does with a batch, and notes the batch's size.
func (f *fakeHost) ApplyBatch(ops []netlinkx.Op) []error {
	f.batches = append(f.batches, len(ops))
	errs := make([]error, len(ops))
	for i, op := range ops {
		errs[i] = f.Apply(op)
	}
	return errs
}

func (f *fakeHost) Addresses(name string) ([]netip.Prefix, error) {
	l := f.link(name)
	if l == nil {
		return nil, fmt.Errorf("no link %s", name)
	}
	var v4, v6 []netip.Prefix
	for _, a := range l.addrs {
		if a.Addr().Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return append(v4, v6...), nil
}

// Routes adds the kernel's connected routes of up links to the table.
func (f *fakeHost) Routes(family int, table uint32) ([]netlinkx.Route, error) {
	var out []netlinkx.Route
	if table == unix.RT_TABLE_MAIN || table == 0 {
		for _, l := range f.links {
			if !l.up {
				continue
			}
			for _, a := range l.addrs {
				if a.Addr().Is4() != (family == unix.AF_INET) || a.Addr().IsLoopback() {
					continue
				}
				if a.Addr().Is4() && a.Bits() == 32 {
					continue
				}
				out = append(out, netlinkx.Route{Dst: a.Masked(), LinkIndex: l.Index, Table: unix.RT_TABLE_MAIN})
			}
		}
	}
	for _, r := range f.routes {
		if (r.Table == table || table == 0) && r.Dst.Addr().Is4() == (family == unix.AF_INET) {
			out = append(out, r)
		}
	}
	return out, nil
}

// RouteGetAll answers each with the longest match in the main table.
func (f *fakeHost) RouteGetAll(dsts []netip.Addr) []netlinkx.RouteLookup {
	out := make([]netlinkx.RouteLookup, len(dsts))
	for i, d := range dsts {
		r, ok, err := f.routeGet(d)
		out[i] = netlinkx.RouteLookup{Route: r, OK: ok, Err: err}
	}
	return out
}

func (f *fakeHost) routeGet(dst netip.Addr) (netlinkx.Route, bool, error) {
	fam := unix.AF_INET
	if dst.Is6() {
		fam = unix.AF_INET6
	}
	routes, _ := f.Routes(fam, unix.RT_TABLE_MAIN)
	best := -1
	var r netlinkx.Route
	for _, x := range routes {
		if x.Dst.Contains(dst) && x.Dst.Bits() > best {
			best, r = x.Dst.Bits(), x
		}
	}
	if best < 0 {
		return netlinkx.Route{}, false, syscall.ENETUNREACH
	}
	return r, true, nil
}

func (f *fakeHost) Rules(family int) ([]netlinkx.Rule, error) {
	if err := f.noRules[family]; err != nil {
		return nil, err
	}
	return slices.Clone(f.rules[family]), nil
}

func (f *fakeHost) TableInUse(t uint32) (bool, error) {
	for _, r := range f.routes {
		if r.Table == t {
			return true, nil
		}
	}
	return false, nil
}

type fakeDevices struct{ f *fakeHost }

func (d fakeDevices) Interfaces() ([]string, error) {
	var list []string
	for _, l := range d.f.links {
		if d.f.devices[l.Name] != nil {
			list = append(list, l.Name)
		}
	}
	return list, nil
}

func (d fakeDevices) Device(name string) (*conf.Device, error) {
	dev := d.f.devices[name]
	if dev == nil {
		return nil, syscall.ENODEV
	}
	c := *dev
	c.Peers = slices.Clone(dev.Peers)
	return &c, nil
}

// Configure applies addconf semantics (and setconf's where asked), as
// the engine's simulation does (applyConfig), and gives a device without
// a port the fake's.
func (d fakeDevices) Configure(name string, cfg *conf.Config) error {
	d.f.logf("configure %s: %d peers", name, len(cfg.Peers))
	if err := d.f.failOps["configure "+name]; err != nil {
		return err
	}
	dev := d.f.devices[name]
	if dev == nil {
		return syscall.ENODEV
	}
	applyConfig(dev, cfg)
	if dev.ListenPort == 0 && cfg.Interface.ListenPort == nil {
		dev.ListenPort = d.f.listen
	}
	return nil
}

type fakeUserspace struct{ f *fakeHost }

func (u fakeUserspace) KernelModule() bool    { return u.f.kmod }
func (u fakeUserspace) ModuleAvailable() bool { return u.f.kmod }

func (u fakeUserspace) StartEmbedded(name string) error {
	u.f.logf("start embedded %s", name)
	if err := u.f.failOps["start embedded "+name]; err != nil {
		return err
	}
	u.f.addLink(name, "tun", 1420)
	u.f.devices[name] = &conf.Device{Name: name}
	return nil
}

func (u fakeUserspace) SocketOwner(name string) (int, bool) {
	pid, ok := u.f.sockets[name]
	return pid, ok
}

func (u fakeUserspace) Watch(name string) func(time.Duration) bool {
	if u.f.devices[name] == nil || u.f.link(name).Kind != "tun" {
		return nil
	}
	return func(time.Duration) bool { u.f.logf("daemon of %s gone", name); return true }
}

type fakeExec struct{ f *fakeHost }

func (e fakeExec) LookPath(name string, env []string) (string, error) {
	if e.f.programs[name] {
		return "/usr/bin/" + name, nil
	}
	return "", os.ErrNotExist
}

var exitPattern = regexp.MustCompile(`(?:^|; *)exit (\d+)$`)

// Run: bash runs the hook in WG_QUICK_HOOK (echo prints, "false" and
// "exit N" fail); resolvconf keeps records; other programs succeed.
func (e fakeExec) Run(ctx context.Context, c osys.Command) (int, error) {
	f := e.f
	stdin, _ := io.ReadAll(c.Stdin)
	switch c.Args[0] {
	case "bash":
		hook := ""
		for _, kv := range c.Env {
			if v, ok := strings.CutPrefix(kv, "WG_QUICK_HOOK="); ok {
				hook = v
			}
		}
		f.logf("bash: %s", hook)
		for _, cmd := range strings.Split(hook, ";") {
			cmd = strings.TrimSpace(cmd)
			if s, ok := strings.CutPrefix(cmd, "wg set "); ok {
				// wg set IF ARGS... on the fake's device.
				w := strings.Fields(s)
				cfg, err := conf.ParseSetArgs(w[1:], nil)
				if err == nil {
					err = fakeDevices{f}.Configure(w[0], cfg)
				}
				if err != nil {
					fmt.Fprintln(c.Stderr, err)
					return 1, nil
				}
			}
			if s, ok := strings.CutPrefix(cmd, "echo "); ok {
				fmt.Fprintln(c.Stdout, s)
			}
			if cmd == "false" {
				return 1, nil
			}
			if m := exitPattern.FindStringSubmatch(cmd); m != nil {
				n, _ := strconv.Atoi(m[1])
				return n, nil
			}
		}
		return 0, nil
	case "resolvconf":
		f.logf("resolvconf %s%s", strings.Join(c.Args[1:], " "), indentStdin(string(stdin)))
		switch c.Args[1] {
		case "-a":
			f.resolv[c.Args[2]] = string(stdin)
		case "-d":
			delete(f.resolv, c.Args[2])
		case "-l":
			fmt.Fprint(c.Stdout, f.resolv[c.Args[2]])
		}
		return 0, nil
	}
	f.logf("run %s", strings.Join(c.Args, " "))
	return 0, nil
}

func indentStdin(s string) string {
	if s == "" {
		return ""
	}
	return "\n  | " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  | ")
}

type fakeFiles struct{ f *fakeHost }

func (x fakeFiles) ReadFile(name string) ([]byte, error) {
	if s, ok := x.f.files[name]; ok {
		return []byte(s), nil
	}
	return nil, os.ErrNotExist
}

type fakeInfo struct{ name string }

func (i fakeInfo) Name() string       { return i.name }
func (i fakeInfo) Size() int64        { return 0 }
func (i fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (i fakeInfo) ModTime() time.Time { return time.Time{} }
func (i fakeInfo) IsDir() bool        { return false }
func (i fakeInfo) Sys() any           { return nil }

func (x fakeFiles) Stat(name string) (fs.FileInfo, error) {
	if _, ok := x.f.files[name]; ok {
		return fakeInfo{name}, nil
	}
	return nil, os.ErrNotExist
}

func (x fakeFiles) Lstat(name string) (fs.FileInfo, error) { return x.Stat(name) }

func (x fakeFiles) EvalSymlinks(name string) (string, error) {
	if t, ok := x.f.symlinks[name]; ok {
		return t, nil
	}
	return name, nil
}

// fakeResolved is systemd-resolved on the bus: the links' settings, by
// interface index, and a log of the calls. It does not forget a link
// that is deleted (the real one does), so that a test sees a revert
// that did not happen.
type fakeResolved struct {
	f       *fakeHost
	running bool
	links   map[int]*resolvedLink
}

type resolvedLink struct {
	dns          []netip.Addr
	domains      []dns.Domain
	defaultRoute string
}

func newFakeResolved(f *fakeHost) *fakeResolved {
	return &fakeResolved{f: f, running: true, links: map[int]*resolvedLink{}}
}

func (r *fakeResolved) Running(context.Context) (bool, error) { return r.running, nil }

// call logs a call and finds (or makes) the link's settings.
func (r *fakeResolved) call(ifindex int, method, args string) (*resolvedLink, error) {
	r.f.logf("resolved %s %d %s", method, ifindex, args)
	if err := r.f.failOps["resolved "+method]; err != nil {
		return nil, err
	}
	if _, found, _ := r.f.LinkByIndex(ifindex); !found {
		return nil, fmt.Errorf("systemd-resolved: %s: Link %d not known", method, ifindex)
	}
	l := r.links[ifindex]
	if l == nil {
		l = &resolvedLink{}
		r.links[ifindex] = l
	}
	return l, nil
}

func (r *fakeResolved) SetLinkDNS(_ context.Context, i int, s []netip.Addr) error {
	l, err := r.call(i, "SetLinkDNS", fmt.Sprint(s))
	if err == nil {
		l.dns = slices.Clone(s)
	}
	return err
}

func (r *fakeResolved) SetLinkDomains(_ context.Context, i int, d []dns.Domain) error {
	l, err := r.call(i, "SetLinkDomains", fmt.Sprint(d))
	if err == nil {
		l.domains = slices.Clone(d)
	}
	return err
}

func (r *fakeResolved) SetLinkDefaultRoute(_ context.Context, i int, on bool) error {
	l, err := r.call(i, "SetLinkDefaultRoute", fmt.Sprint(on))
	if err == nil {
		l.defaultRoute = fmt.Sprint(on)
	}
	return err
}

func (r *fakeResolved) RevertLink(_ context.Context, i int) error {
	_, err := r.call(i, "RevertLink", "")
	if err == nil {
		delete(r.links, i)
	}
	return err
}

func (r *fakeResolved) Link(_ context.Context, i int) (dns.Link, error) {
	var held dns.Link
	if l := r.links[i]; l != nil {
		held = dns.Link{Servers: slices.Clone(l.dns), Domains: slices.Clone(l.domains), DefaultRoute: l.defaultRoute == "true"}
	}
	return held, nil
}

// state lists the links' settings, by index.
func (r *fakeResolved) state() string {
	var b strings.Builder
	for _, i := range slices.Sorted(maps.Keys(r.links)) {
		l := r.links[i]
		fmt.Fprintf(&b, "resolved link %d: dns %v domains %v default-route %q\n", i, l.dns, l.domains, l.defaultRoute)
	}
	return b.String()
}

// fakeFirewall keeps guard rules as keys with the reference's payloads, and
// src_valid_mark with its record, as internal/firewall does.
type fakeFirewall struct{ f *fakeHost }

// fakeFwOp is a firewall or sysctl change of the fake.
type fakeFwOp struct {
	line, payload, kind string
	do                  func(context.Context) error
}

func (o fakeFwOp) String() string               { return o.line }
func (o fakeFwOp) Payload() string              { return o.payload }
func (o fakeFwOp) Do(ctx context.Context) error { return o.do(ctx) }
func (o fakeFwOp) Kind() string                 { return o.kind }
func (o fakeFwOp) Fields() map[string]any {
	if o.kind == "sysctl" {
		return map[string]any{"key": "net.ipv4.conf.all.src_valid_mark", "value": strings.TrimPrefix(o.line, svmLine)}
	}
	return map[string]any{"payload": o.payload}
}

func (x fakeFirewall) PlanInstall(ctx context.Context, s firewall.Spec) (Op, error) {
	f := x.f
	if err := f.failOps["plan firewall"]; err != nil {
		return nil, err
	}
	line, payload, key := "nft -f /dev/fd/63", firewall.NFTPayload(s), "nft "+s.Family.String()+" "+firewall.TableName(s.Iface)
	if f.fwBackend == "iptables" {
		line, payload, key = "iptables-restore -n", firewall.IPTablesPayload(s), "iptables "+s.Family.String()+" "+s.Iface
		if s.Family == firewall.IPv6 {
			line = "ip6tables-restore -n"
		}
	}
	return fakeFwOp{line: line, payload: payload, kind: "firewall", do: func(context.Context) error {
		f.logf("firewall %s%s", line, indentStdin(payload))
		if err := f.failOps["firewall "+key]; err != nil {
			return err
		}
		if !slices.Contains(f.fwKeys, key) {
			f.fwKeys = append(f.fwKeys, key)
		}
		f.fwMarks[key] = s.Mark
		return nil
	}}, nil
}

func (x fakeFirewall) PlanRemove(ctx context.Context, iface string) ([]Op, error) {
	f := x.f
	var ops []Op
	var nft []string
	var nftText strings.Builder
	for _, k := range f.fwKeys {
		if kind, name, _ := strings.Cut(k, " "); kind == "nft" && strings.HasSuffix(name, " "+firewall.TableName(iface)) {
			nft = append(nft, k)
			nftText.WriteString("delete table " + name + "\n")
		}
	}
	remove := func(line, payload string, keys []string) Op {
		return fakeFwOp{line: line, payload: payload, kind: "firewall", do: func(context.Context) error {
			f.logf("firewall %s%s", line, indentStdin(payload))
			f.fwKeys = slices.DeleteFunc(f.fwKeys, func(k string) bool { return slices.Contains(keys, k) })
			return nil
		}}
	}
	if len(nft) > 0 {
		ops = append(ops, remove("nft -f /dev/fd/63", nftText.String(), nft))
	}
	for _, fam := range []string{"ip", "ip6"} {
		k := "iptables " + fam + " " + iface
		if slices.Contains(f.fwKeys, k) {
			line := "iptables-restore -n"
			if fam == "ip6" {
				line = "ip6tables-restore -n"
			}
			ops = append(ops, remove(line, "(the marked rules of "+iface+")\n", []string{k}))
		}
	}
	return ops, f.failOps["plan firewall removal"]
}

func (x fakeFirewall) Families(ctx context.Context, iface string) ([]firewall.Family, error) {
	var out []firewall.Family
	for _, f := range []firewall.Family{firewall.IPv4, firewall.IPv6} {
		for _, k := range x.f.fwKeys {
			if strings.Fields(k)[1] == f.String() && (strings.HasSuffix(k, " "+iface) || strings.HasSuffix(k, " "+firewall.TableName(iface))) {
				out = append(out, f)
				break
			}
		}
	}
	return out, nil
}

func (x fakeFirewall) Marks(ctx context.Context, iface string) ([]uint32, error) {
	var marks []uint32
	for _, k := range x.f.fwKeys {
		if strings.HasSuffix(k, " "+iface) || strings.HasSuffix(k, " "+firewall.TableName(iface)) {
			marks = append(marks, x.f.fwMarks[k])
		}
	}
	return marks, nil
}

const svmLine = "sysctl -q net.ipv4.conf.all.src_valid_mark="

func (x fakeFirewall) EnableSrcValidMark(iface string) (Op, error) {
	f := x.f
	if f.svm == "1" {
		return nil, nil
	}
	prev := f.svm
	return fakeFwOp{line: svmLine + "1", kind: "sysctl", do: func(context.Context) error {
		f.logf("%s1", svmLine)
		if err := f.failOps["sysctl"]; err != nil {
			return err
		}
		f.svm, f.svmPrev = "1", prev
		return nil
	}}, nil
}

func (x fakeFirewall) RestoreSrcValidMark(ctx context.Context, iface string) (Op, error) {
	f := x.f
	if f.svmPrev == "" {
		return nil, nil
	}
	for _, k := range f.fwKeys {
		if f := strings.Fields(k); f[1] == "ip" && f[2] != iface && f[2] != firewall.TableName(iface) {
			return nil, nil // another full tunnel
		}
	}
	prev := f.svmPrev
	return fakeFwOp{line: svmLine + prev, kind: "sysctl", do: func(context.Context) error {
		f.logf("%s%s", svmLine, prev)
		if f.svm == "1" {
			f.svm = prev
		}
		f.svmPrev = ""
		return nil
	}}, nil
}
