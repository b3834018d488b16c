package quick

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// Environment variable naming an external userspace implementation.
const envUserspace = "WG_QUICK_USERSPACE_IMPLEMENTATION"

const fallbackNotice = "[!] Missing WireGuard kernel module. Falling back to slow userspace implementation."

// Up brings up the interface of l as the reference's cmd_up does, and
// returns the exit status. Every step prints its "[#] ..." line on
// sys.Stderr; a failure, or a signal (ctx done), undoes what was done, in
// the order of the reference's del_if, and leaves the host as it was.
func Up(ctx context.Context, sys *Sys, l *Loaded) int {
	lock, err := sys.lock(l.Interface, "up")
	if err != nil {
		return die(sys, err)
	}
	defer lock.Release()
	r := newRunner(sys)
	if lock != nil && lock.Recovered != "" {
		recoverInterrupted(ctx, sys, r, l, lock.Recovered)
	}
	warning, err := canUp(ctx, sys, NewView(sys), l)
	if err != nil {
		return die(sys, err)
	}
	if warning != "" {
		fmt.Fprintln(sys.Stderr, warning)
	}
	r.changing = func() error { return lock.Changing("up") }
	return r.runOrUndo(ctx, upPhases(sys, l)...)
}

// canUp is what up checks before it changes anything: the interface does
// not exist yet, a Table name rt_tables does not know is not needed, the
// file is not all IPv6 where the host has IPv6 off (else the warning that
// names what is skipped), and the file's DNS servers have a DNS manager
// to go to.
func canUp(ctx context.Context, sys *Sys, v *View, l *Loaded) (warning string, err error) {
	if _, exists, err := v.Link(l.Interface); err != nil {
		return "", fmt.Errorf("cannot read links: %v", err)
	} else if exists {
		return "", fmt.Errorf("`%s' already exists", l.Interface)
	}
	if err := tableNeeded(l); err != nil {
		return "", err
	}
	if warning, err = ipv6Skip(sys, v, l); err != nil {
		return "", err
	}
	return warning, checkDNS(sys, l)
}

// tableNeeded refuses, before anything changes, a Table name rt_tables
// does not know when the file's allowed IPs need routes in it (the
// reference would add the interface, fail at the first route and roll
// back). Without allowed IPs in the file such a Table needs no table, and
// up goes on, as the reference's does.
func tableNeeded(l *Loaded) error {
	if l.File.TableErr == nil || l.File.Config.Interface.Table == conf.TableOff {
		return nil
	}
	for i := range l.File.Config.Peers {
		for _, a := range l.File.Config.Peers[i].AllowedIPs {
			if !a.Remove {
				return l.File.TableErr
			}
		}
	}
	return nil
}

// tableID is the number of the file's Table for a route: a name rt_tables
// did not know when the file was read is looked up again (a PreUp may have
// added it), and fails as `ip route add ... table NAME` does.
func tableID(l *Loaded) (uint32, error) {
	i := &l.File.Config.Interface
	if l.File.TableErr == nil {
		return i.TableID, nil
	}
	if id, ok := conf.LookupTable(i.Table); ok {
		return id, nil
	}
	return 0, fail(255, "Error: argument \"%s\" is wrong: \"table\" value is invalid", i.Table)
}

// upPhases is cmd_up from add_if on: add_if, PreUp, set_config, the
// addresses, set_mtu_up, set_dns, the routes (add_route for each allowed
// IP but /0, then add_default for each /0), PostUp.
func upPhases(sys *Sys, l *Loaded) []Phase {
	i := &l.File.Config.Interface
	return []Phase{
		{Name: "add_if", Changes: true, Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return addIfSteps(sys, l), nil
		}},
		phaseOf("PreUp", stop, hookSteps(sys, l, "PreUp", i.PreUp)...),
		phaseOf("set_config", stop, setConfigStep(sys, l)),
		{Name: "addresses", Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return addressSteps(sys, v, l), nil
		}},
		{Name: "set_mtu_up", Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return mtuUpSteps(sys, v, l)
		}},
		{Name: "set_dns", Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return dnsSteps(ctx, sys, l), nil
		}},
		{Name: "routes", Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return routeSteps(sys, v, l, false)
		}},
		defaultPhase(sys, l, 0, false),
		defaultPhase(sys, l, 1, false),
		phaseOf("PostUp", stop, hookSteps(sys, l, "PostUp", i.PostUp)...),
	}
}

// linkUndo deletes the interface (and with it its addresses and routes,
// and a userspace device's daemon).
func linkUndo(sys *Sys, iface string) *Undo {
	return undoWith(rankLink, deleteLinkOp{sys: sys, iface: iface})
}

// addIfSteps is add_if: a kernel interface, or where the kernel has no
// WireGuard module, a userspace one (ours, or
// WG_QUICK_USERSPACE_IMPLEMENTATION).
func addIfSteps(sys *Sys, l *Loaded) []Step {
	iface := l.Interface
	return []Step{{
		Op:   netOp{sys.Net, netlinkx.LinkAdd{Name: iface}},
		Undo: linkUndo(sys, iface),
		Fallback: &Fallback{
			// The reference falls back only when the kernel has no
			// module; any other failure of ip link add ends up (status
			// 1, as the reference's).
			Accept: func(err error) error {
				if sys.Userspace.KernelModule() || !errors.Is(err, unix.EOPNOTSUPP) {
					return &Failure{Code: 1}
				}
				return nil
			},
			Predict: func(v *View) bool {
				return !sys.Userspace.KernelModule() && !sys.Userspace.ModuleAvailable()
			},
			Then:   func() (Step, error) { return userspaceStep(sys, iface) },
			Notice: fallbackNotice,
		},
	}}
}

// userspaceStep is add_if's fallback, once `ip link add` has failed.
func userspaceStep(sys *Sys, iface string) (Step, error) {
	if pid, ok := sys.Userspace.SocketOwner(iface); ok {
		who := ""
		if pid > 0 {
			who = fmt.Sprintf(" (pid %d)", pid)
		}
		return Step{}, fail(1, "%s: `%s' cannot be a userspace device in this network namespace: /var/run/wireguard/%s.sock "+
			"serves the `%s' of another namespace that shares /var/run/wireguard%s; give this one another name",
			sys.Prog, iface, iface, iface, who)
	}
	op := userspaceOp{sys: sys, iface: iface}
	if impl := sys.getenv(envUserspace); impl != "" {
		path, err := sys.Exec.LookPath(impl, sys.Env)
		if err != nil {
			return Step{}, fail(1, "%s: the userspace implementation `%s' (%s) is not in PATH", sys.Prog, impl, envUserspace)
		}
		op.impl, op.path = impl, path
	}
	return Step{Op: op, Undo: linkUndo(sys, iface)}, nil
}

// setConfigStep is set_config: `wg addconf IF` with the file's wg part.
func setConfigStep(sys *Sys, l *Loaded) Step {
	c := &l.File.Config
	return Step{Op: deviceOp{
		dev: sys.Dev, iface: l.Interface,
		line: "wg addconf " + l.Interface + " /dev/fd/63",
		cfg:  c,
		// The peers' names only when a plan is written out: up of
		// thousands of peers does not pay for them.
		describe: func() map[string]any {
			return joinFields(map[string]any{"command": "addconf", "peers": peerNames(c.Peers)}, keyFields(&c.Interface))
		},
	}}
}

// addressSteps is add_addr for each Address, in file order (but IPv6
// ones where the host has IPv6 off).
func addressSteps(sys *Sys, v *View, l *Loaded) []Step {
	var steps []Step
	for _, a := range l.File.Config.Interface.Addresses {
		if v.skipped(a.Prefix) {
			continue
		}
		steps = append(steps, Step{Op: netOp{sys.Net, netlinkx.AddrAddOf(l.Interface, a)}})
	}
	return steps
}

// deviceFailure is the failure to read the interface, as `wg show IF
// ...` would say it.
func deviceFailure(err error) error {
	return fail(1, "Unable to access interface: %s", conf.Strerror(err))
}

// mtuUpSteps is set_mtu_up: the file's MTU or the automatic one, and up.
func mtuUpSteps(sys *Sys, v *View, l *Loaded) ([]Step, error) {
	s := Step{}
	mtu := 0
	if m := l.File.Config.Interface.MTU; m != nil {
		mtu = *m
	} else {
		dev, err := v.Device(l.Interface)
		if err != nil {
			return nil, deviceFailure(err)
		}
		mtu = autoMTU(v, dev)
		s.Note = "MTU computed from the routes to the endpoints as they are now"
	}
	s.Op = netOp{sys.Net, netlinkx.LinkSetMTUUp{Name: l.Interface, MTU: mtu}}
	return []Step{s}, nil
}

// devicePrefixes are the device's allowed IPs, in add_route's order (but
// IPv6 ones where the host has IPv6 off: their routes are skipped).
func devicePrefixes(v *View, dev *conf.Device) []netip.Prefix {
	var prefixes []netip.Prefix
	for _, text := range allowedIPs(dev) {
		if p, err := netip.ParsePrefix(text); err == nil && !v.skipped(p) {
			prefixes = append(prefixes, p)
		}
	}
	return prefixes
}

// routeSteps is the route loop of cmd_up but for the /0s of a full
// tunnel (defaultPhase): a route for every allowed IP the device has (read
// back, so that PreUp's additions count), longest prefix first, where
// add_route would add one: into the file's table, or into main unless a
// route through the interface covers it already. Before any, the checks
// of canRouteDefault for each /0. With undo (a reload), each route's
// deletion is its undo.
func routeSteps(sys *Sys, v *View, l *Loaded, undo bool) ([]Step, error) {
	i := &l.File.Config.Interface
	if i.Table == conf.TableOff {
		return nil, nil
	}
	dev, err := v.Device(l.Interface)
	if err != nil {
		return nil, deviceFailure(err)
	}
	auto := autoTable(i.Table)
	prefixes := devicePrefixes(v, dev)
	var steps []Step
	add := func(op netlinkx.RouteAdd) {
		s := Step{Op: netOp{sys.Net, op}}
		if undo {
			s.Undo = undoWith(rankSetBack, netOp{sys.Net, netlinkx.RouteDelete{Link: op.Link, Prefix: op.Prefix, Table: op.Table, TableID: op.TableID}})
		}
		steps = append(steps, s)
	}
	if !auto {
		for _, p := range prefixes {
			id, err := tableID(l)
			if err != nil {
				op := netlinkx.RouteAdd{Link: l.Interface, Prefix: p, Table: i.Table}
				return append(steps, Step{Op: failOp{line: op.String(), kind: "route", err: err}}), nil
			}
			add(netlinkx.RouteAdd{Link: l.Interface, Prefix: p, Table: i.Table, TableID: id})
		}
		return steps, nil
	}
	for _, p := range prefixes {
		if p.Bits() == 0 {
			if err := canRouteDefault(sys, v, l.Interface, p); err != nil {
				return nil, err
			}
		}
	}
	link, ok, err := v.Link(l.Interface)
	if err != nil || !ok {
		return nil, fail(1, "Cannot find device \"%s\"", l.Interface)
	}
	main := map[int][]netlinkx.Route{} // one dump of the main table per family
	for _, p := range prefixes {
		if p.Bits() == 0 {
			continue
		}
		fam := famOf(p)
		routes, ok := main[fam]
		if !ok {
			// `ip route show ... match` reads with errors ignored.
			routes, _ = v.Routes(fam, unix.RT_TABLE_MAIN)
			main[fam] = routes
		}
		if netlinkx.Covered(routes, link.Index, p) {
			continue
		}
		add(netlinkx.RouteAdd{Link: l.Interface, Prefix: p})
	}
	return steps, nil
}

// defaultPhase is add_default for the n-th /0 of the device's allowed IPs
// (in add_route's order: ::/0 before 0.0.0.0/0), when Table is auto; ::/0
// is skipped where the host has IPv6 off.
func defaultPhase(sys *Sys, l *Loaded, n int, undo bool) Phase {
	return Phase{Name: "add_default", Plan: func(ctx context.Context, v *View) ([]Step, error) {
		if !autoTable(l.File.Config.Interface.Table) {
			return nil, nil
		}
		dev, err := v.Device(l.Interface)
		if err != nil {
			return nil, deviceFailure(err)
		}
		// In add_route's order, ::/0 before 0.0.0.0/0 (the sort puts
		// equal lengths in reverse byte order).
		var defaults []netip.Prefix
		for _, six := range []bool{true, false} {
			if hasDefault(dev, six) && !(six && v.IPv6().Disabled) {
				if six {
					defaults = append(defaults, netip.PrefixFrom(netip.IPv6Unspecified(), 0))
				} else {
					defaults = append(defaults, netip.PrefixFrom(netip.IPv4Unspecified(), 0))
				}
			}
		}
		if n >= len(defaults) {
			return nil, nil
		}
		return defaultSteps(ctx, sys, v, l.Interface, defaults[n], undo)
	}}
}

// hasDefault reports whether a peer of dev has the /0 of a family.
func hasDefault(dev *conf.Device, six bool) bool {
	for i := range dev.Peers {
		for _, p := range dev.Peers[i].AllowedIPs {
			if p.Bits() == 0 && p.Addr().Is6() == six {
				return true
			}
		}
	}
	return false
}

// errNotWireGuard is down's and save's refusal.
func errNotWireGuard(iface string) error {
	return fmt.Errorf("`%s' is not a WireGuard interface", iface)
}
