package quick

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/ipv6"
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
	r := &runner{stderr: sys.Stderr}
	if lock != nil && lock.Recovered != "" {
		recoverInterrupted(ctx, sys, r, l, lock.Recovered)
	}
	if _, exists, err := sys.Net.LinkByName(l.Interface); err != nil {
		return die(sys, fmt.Errorf("cannot read links: %v", err))
	} else if exists {
		return die(sys, fmt.Errorf("`%s' already exists", l.Interface))
	}
	// What the host cannot do is found before anything changes.
	opt, err := planUp(ctx, sys, l)
	if err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	if err := lock.Changing("up"); err != nil {
		return die(sys, err)
	}
	if err := r.run(ctx, upPhases(sys, l, opt)); err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
			fmt.Fprintf(sys.Stderr, "[!] Interrupted by %s: undoing what was done.\n", signalName(err))
		} else {
			report(sys.Stderr, err)
		}
		r.rollback()
		return exitCode(err)
	}
	return 0
}

// upOptions are what planUp found out about the host.
type upOptions struct {
	// noIPv6: the host has IPv6 off; IPv6 addresses and routes are
	// skipped.
	noIPv6 bool
	dns    dns.Manager
}

// planUp checks, before any change, what the host must offer: a DNS
// manager when the file names DNS servers, and IPv6 for a configuration
// that is IPv6 only. Where IPv6 is off, it warns once, naming what will be
// skipped.
func planUp(ctx context.Context, sys *Sys, l *Loaded) (upOptions, error) {
	var opt upOptions
	if st := ipv6.Probe(sys.Files); st.Disabled {
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
		if !skip.Empty() {
			if !skip.IPv4 {
				return opt, fail(1, "%s: IPv6 is disabled on this host (%s), and every address and allowed IP of `%s' is IPv6: nothing would work",
					sys.Prog, st.Why, l.Interface)
			}
			fmt.Fprintln(sys.Stderr, skip.Warning(st.Why))
			opt.noIPv6 = true
		}
	}
	m, err := checkDNS(ctx, sys, l)
	opt.dns = m
	return opt, err
}

// upPhases is cmd_up from add_if on.
func upPhases(sys *Sys, l *Loaded, opt upOptions) []phase {
	i := &l.File.Config.Interface
	return []phase{
		func(ctx context.Context, r *runner) error { return addIf(ctx, sys, r, l) },
		func(ctx context.Context, r *runner) error { return runAll(ctx, r, hookSteps(sys, l, i.PreUp)) },
		func(ctx context.Context, r *runner) error { return r.do(ctx, setConfigStep(sys, l)) },
		func(ctx context.Context, r *runner) error { return runAll(ctx, r, addressSteps(sys, l, opt)) },
		func(ctx context.Context, r *runner) error { return setMTUUp(ctx, sys, r, l) },
		func(ctx context.Context, r *runner) error { return runAll(ctx, r, dnsSteps(sys, l, opt.dns)) },
		func(ctx context.Context, r *runner) error { return addRoutes(ctx, sys, r, l, opt) },
		func(ctx context.Context, r *runner) error { return runAll(ctx, r, hookSteps(sys, l, i.PostUp)) },
	}
}

func signalName(err error) string {
	var s signalError
	if errors.As(err, &s) {
		return s.name
	}
	return "a signal"
}

// die prints "PROG: message" and returns 1, as the reference's die.
func die(sys *Sys, err error) int {
	fmt.Fprintf(sys.Stderr, "%s: %v\n", sys.Prog, err)
	return 1
}

func (s *Sys) lock(iface, verb string) (*Lock, error) {
	if s.Lock == nil {
		return nil, nil
	}
	return s.Lock(iface, verb)
}

// netFailure turns a netlinkx error into the failure ip would report.
func netFailure(err error) error {
	var e *netlinkx.Error
	if errors.As(err, &e) {
		return &Failure{Msg: e.Error(), Code: e.ExitCode(), Err: e}
	}
	return fail(2, "%v", err)
}

func applyStep(sys *Sys, op netlinkx.Op, undo *Undo) Step {
	return Step{
		Line: op.String(),
		Do: func(context.Context) error {
			if err := sys.Net.Apply(op); err != nil {
				return netFailure(err)
			}
			return nil
		},
		Undo: undo,
	}
}

// linkUndo deletes the interface (and with it its addresses and routes,
// and a userspace device's daemon).
func linkUndo(sys *Sys, iface string) *Undo {
	return &Undo{Rank: rankLink, Line: netlinkx.LinkDelete{Name: iface}.String(), Do: func(context.Context) error {
		return deleteLink(sys, iface)
	}}
}

// daemonExitTimeout bounds the wait for a userspace daemon to go away.
const daemonExitTimeout = 5 * time.Second

func deleteLink(sys *Sys, iface string) error {
	wait := sys.Userspace.Watch(iface)
	if err := sys.Net.Apply(netlinkx.LinkDelete{Name: iface}); err != nil {
		return netFailure(err)
	}
	if wait != nil && !wait(daemonExitTimeout) {
		fmt.Fprintf(sys.Stderr, "[!] The userspace daemon of `%s' did not exit.\n", iface)
	}
	return nil
}

// addIf is add_if: a kernel interface, or where the kernel has no WireGuard
// module, a userspace one (ours, or WG_QUICK_USERSPACE_IMPLEMENTATION).
func addIf(ctx context.Context, sys *Sys, r *runner, l *Loaded) error {
	iface := l.Interface
	err := r.do(ctx, applyStep(sys, netlinkx.LinkAdd{Name: iface}, linkUndo(sys, iface)))
	if err == nil || ctx.Err() != nil {
		return err
	}
	report(sys.Stderr, err) // ip's own message
	// The reference's status here is 1 (see the package's README notes).
	if sys.Userspace.KernelModule() || !errors.Is(err, unix.EOPNOTSUPP) {
		return &Failure{Code: 1}
	}
	impl := sys.getenv(envUserspace)
	if impl == "" {
		fmt.Fprintln(sys.Stderr, fallbackNotice)
		return r.do(ctx, Step{
			Line: "wireguard-go " + iface,
			Do: func(context.Context) error {
				if err := sys.Userspace.StartEmbedded(iface); err != nil {
					return fail(1, "%v", err)
				}
				return nil
			},
			Undo: linkUndo(sys, iface),
		})
	}
	path, err := sys.Exec.LookPath(impl, sys.Env)
	if err != nil {
		return fail(1, "%s: the userspace implementation `%s' (%s) is not in PATH", sys.Prog, impl, envUserspace)
	}
	fmt.Fprintln(sys.Stderr, fallbackNotice)
	return r.do(ctx, Step{
		Line: impl + " " + iface,
		Do: func(ctx context.Context) error {
			code, err := sys.Exec.Run(ctx, Command{
				Path: path, Args: []string{impl, iface}, Env: sys.Env,
				Stdin: sys.Stdin, Stdout: sys.Stdout, Stderr: sys.Stderr,
			})
			if err != nil {
				return fail(126, "%s: %s: %v", sys.Prog, impl, err)
			}
			if code != 0 {
				return &Failure{Code: code}
			}
			return nil
		},
		Undo: linkUndo(sys, iface),
	})
}

// setConfigStep is set_config: `wg addconf IF` with the file's wg part.
func setConfigStep(sys *Sys, l *Loaded) Step {
	return Step{
		Line: "wg addconf " + l.Interface + " /dev/fd/63",
		Do: func(context.Context) error {
			if err := sys.Dev.Configure(l.Interface, &l.File.Config); err != nil {
				return fail(1, "Unable to modify interface: %s", conf.Strerror(err))
			}
			return nil
		},
	}
}

// addressSteps is add_addr for each Address, in file order (but the
// IPv6 ones when IPv6 is off).
func addressSteps(sys *Sys, l *Loaded, opt upOptions) []Step {
	var steps []Step
	for _, a := range l.File.Config.Interface.Addresses {
		if opt.noIPv6 && a.Is6() {
			continue
		}
		steps = append(steps, applyStep(sys, netlinkx.AddrAddOf(l.Interface, a), nil))
	}
	return steps
}

// device reads the interface's live state, as `wg show IF ...` would.
func device(sys *Sys, iface string) (*conf.Device, error) {
	dev, err := sys.Dev.Device(iface)
	if err != nil {
		return nil, fail(1, "Unable to access interface: %s", conf.Strerror(err))
	}
	return dev, nil
}

// device reads the interface's state once for set_mtu_up and the route
// loop (the reference reads it for each, `wg show IF endpoints` and `wg
// show IF allowed-ips`): nothing up does between them (addresses, MTU,
// resolvconf) changes the peers, and with thousands of peers a read costs
// tens of milliseconds.
func (r *runner) device(sys *Sys, iface string) (*conf.Device, error) {
	if r.dev != nil && r.dev.Name == iface {
		return r.dev, nil
	}
	dev, err := device(sys, iface)
	if err == nil {
		r.dev = dev
	}
	return dev, err
}

// setMTUUp is set_mtu_up: the file's MTU or the automatic one, and up.
func setMTUUp(ctx context.Context, sys *Sys, r *runner, l *Loaded) error {
	var mtu int
	if m := l.File.Config.Interface.MTU; m != nil {
		mtu = *m
	} else {
		dev, err := r.device(sys, l.Interface)
		if err != nil {
			return err
		}
		mtu = autoMTU(sys.Net, dev)
	}
	return r.do(ctx, applyStep(sys, netlinkx.LinkSetMTUUp{Name: l.Interface, MTU: mtu}, nil))
}

// addRoutes is the route loop of cmd_up: a route for every allowed IP the
// device has (read back, so that PreUp's additions count), longest prefix
// first, as add_route decides, but the IPv6 ones when IPv6 is off.
// Consecutive route additions go to the kernel as one batch (see
// addRouteBatch).
func addRoutes(ctx context.Context, sys *Sys, r *runner, l *Loaded, opt upOptions) error {
	i := &l.File.Config.Interface
	if i.Table == conf.TableOff {
		return nil
	}
	dev, err := r.device(sys, l.Interface)
	if err != nil {
		return err
	}
	auto := i.Table == "" || i.Table == conf.TableAuto
	var prefixes []netip.Prefix
	for _, text := range allowedIPs(dev) {
		if p, err := netip.ParsePrefix(text); err == nil && !(opt.noIPv6 && p.Addr().Is6()) {
			prefixes = append(prefixes, p)
		}
	}
	if auto {
		for _, p := range prefixes {
			if p.Bits() == 0 {
				if err := canRouteDefault(sys, l.Interface, p); err != nil {
					return err
				}
			}
		}
	}
	ft := &fullTunnel{}
	var link netlinkx.Link
	main := map[int][]netlinkx.Route{} // one dump of the main table per family
	var batch []netlinkx.RouteAdd
	for _, p := range prefixes {
		if !auto {
			batch = append(batch, netlinkx.RouteAdd{Link: l.Interface, Prefix: p, Table: i.Table, TableID: i.TableID})
			continue
		}
		if p.Bits() == 0 {
			if err := addRouteBatch(ctx, sys, r, batch); err != nil {
				return err
			}
			batch = batch[:0]
			if err := addDefault(ctx, sys, r, l, ft, p); err != nil {
				return err
			}
			continue
		}
		if link.Index == 0 {
			var ok bool
			if link, ok, err = sys.Net.LinkByName(l.Interface); err != nil || !ok {
				return fail(1, "Cannot find device \"%s\"", l.Interface)
			}
		}
		fam := unix.AF_INET
		if p.Addr().Is6() {
			fam = unix.AF_INET6
		}
		routes, ok := main[fam]
		if !ok {
			// `ip route show ... match` reads with errors ignored.
			routes, _ = sys.Net.Routes(fam, unix.RT_TABLE_MAIN)
			main[fam] = routes
		}
		if netlinkx.Covered(routes, link.Index, p) {
			continue
		}
		batch = append(batch, netlinkx.RouteAdd{Link: l.Interface, Prefix: p})
	}
	return addRouteBatch(ctx, sys, r, batch)
}
