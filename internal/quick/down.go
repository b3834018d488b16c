package quick

import (
	"context"
	"fmt"
	"slices"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// Down takes the interface of l down as the reference's cmd_down does,
// reading what to remove from the system (the interface's fwmark and
// allowed IPs, the rules present), and returns the exit status.
func Down(ctx context.Context, sys *Sys, l *Loaded) int {
	lock, err := sys.lock(l.Interface, "down")
	if err != nil {
		return die(sys, err)
	}
	defer lock.Release()
	r := &runner{stderr: sys.Stderr}
	recovered := false
	if lock != nil && lock.Recovered != "" {
		recoverInterrupted(ctx, sys, r, l, lock.Recovered)
		recovered = true
	}
	if ok, err := isWireGuard(sys, l.Interface); err != nil || !ok {
		if recovered {
			return 0
		}
		if err == nil {
			if code, done := downLeftovers(ctx, sys, r, l, lock); done {
				return code
			}
		}
		return die(sys, fmt.Errorf("`%s' is not a WireGuard interface", l.Interface))
	}
	i := &l.File.Config.Interface
	if err := runAll(ctx, r, hookSteps(sys, l, i.PreDown)); err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	if i.SaveConfig {
		if err := saveConfig(ctx, sys, r, l); err != nil {
			report(sys.Stderr, err)
			return exitCode(err)
		}
	}
	if err := lock.Changing("down"); err != nil {
		return die(sys, err)
	}
	// Once the interface is being removed, a signal does not stop down
	// half-way: it runs to the end.
	bg := context.WithoutCancel(ctx)
	bestEffort(bg, r, sys, revertDNSSteps(bg, sys, l))
	if err := runAll(bg, r, delIfSteps(sys, l)); err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	bestEffort(bg, r, sys, unsetDNSSteps(bg, sys, l))
	bestEffort(bg, r, sys, removeFirewallSteps(bg, sys, l.Interface))
	bestEffort(bg, r, sys, restoreSrcValidMarkSteps(bg, sys, l.Interface))
	if err := runAll(bg, r, hookSteps(sys, l, i.PostDown)); err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	return 0
}

// isWireGuard is the reference's test: the name is among `wg show
// interfaces` (kernel devices and userspace sockets).
func isWireGuard(sys *Sys, iface string) (bool, error) {
	list, err := sys.Dev.Interfaces()
	if err != nil {
		return false, err
	}
	return slices.Contains(list, iface), nil
}

// downLeftovers is down for an interface that is gone (deleted by hand,
// or its daemon killed) but left things behind: the reference stops at
// "is not a WireGuard interface" and leaves them; we remove them (see
// leftoverSteps), say so, and succeed. done is false when nothing was
// left (or a link of that name exists, which is not ours to judge).
func downLeftovers(ctx context.Context, sys *Sys, r *runner, l *Loaded, lock *Lock) (code int, done bool) {
	if _, exists, err := sys.Net.LinkByName(l.Interface); err != nil || exists {
		return 0, false
	}
	bg := context.WithoutCancel(ctx)
	steps := leftoverSteps(bg, sys, l)
	if len(steps) == 0 {
		return 0, false
	}
	fmt.Fprintf(sys.Stderr, "[!] `%s' no longer exists: removing what it left behind.\n", l.Interface)
	if err := lock.Changing("down"); err != nil {
		return die(sys, err), true
	}
	if !bestEffort(bg, r, sys, steps) {
		return 1, true
	}
	return 0, true
}

// bestEffort runs steps whose failures the reference ignores (`|| true`):
// each failure is reported and the next step still runs. It reports
// whether all succeeded.
func bestEffort(ctx context.Context, r *runner, sys *Sys, steps []Step) bool {
	ok := true
	for _, s := range steps {
		if err := r.do(ctx, s); err != nil {
			report(sys.Stderr, err)
			ok = false
		}
	}
	return ok
}

// delIfSteps is del_if as `down` runs it: when the file's Table is unset or
// auto and the interface has an fwmark and a /0 allowed IP, delete every
// rule that looks up the fwmark's table and every "from all lookup main
// suppress_prefixlength 0" rule, for IPv4 then IPv6; then delete the
// interface.
func delIfSteps(sys *Sys, l *Loaded) []Step {
	var steps []Step
	t := l.File.Config.Interface.Table
	if t == "" || t == conf.TableAuto {
		steps = append(steps, Step{Do: func(ctx context.Context) error {
			return deleteRules(ctx, sys, l.Interface)
		}})
	}
	steps = append(steps, Step{
		Line: netlinkx.LinkDelete{Name: l.Interface}.String(),
		Do:   func(context.Context) error { return deleteLink(sys, l.Interface) },
	})
	return steps
}

// deleteRules is del_if's rule loops (deleteTunnelRules); nothing when
// the interface has no fwmark (get_fwmark fails) or no /0 allowed IP.
func deleteRules(ctx context.Context, sys *Sys, iface string) error {
	dev, err := sys.Dev.Device(iface)
	if err != nil || dev.FwMark == 0 || !hasDefaultRoute(dev) {
		return nil
	}
	return deleteTunnelRules(ctx, sys, &runner{stderr: sys.Stderr}, dev.FwMark)
}

func hasDefaultRoute(dev *conf.Device) bool {
	for i := range dev.Peers {
		for _, p := range dev.Peers[i].AllowedIPs {
			if p.Bits() == 0 {
				return true
			}
		}
	}
	return false
}

// recoverInterrupted cleans up after a run of up or down that was killed
// while it changed the host (its lock record was left behind): what down
// would remove (rules, the interface if it is a WireGuard one, DNS,
// firewall, src_valid_mark), or when the interface is gone what it left
// behind (leftoverSteps), each step's failure reported and the rest still
// done. Hooks are not run.
func recoverInterrupted(ctx context.Context, sys *Sys, r *runner, l *Loaded, record string) {
	fmt.Fprintf(sys.Stderr, "[!] Cleaning up `%s' after an interrupted run (%s).\n", l.Interface, record)
	bg := context.WithoutCancel(ctx)
	if ok, err := isWireGuard(sys, l.Interface); err != nil || !ok {
		bestEffort(bg, r, sys, leftoverSteps(bg, sys, l))
		return
	}
	bestEffort(bg, r, sys, delIfSteps(sys, l))
	bestEffort(bg, r, sys, unsetDNSSteps(bg, sys, l))
	bestEffort(bg, r, sys, removeFirewallSteps(bg, sys, l.Interface))
	bestEffort(bg, r, sys, restoreSrcValidMarkSteps(bg, sys, l.Interface))
}
