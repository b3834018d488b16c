package quick

import (
	"context"
	"fmt"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/osys"
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
	r := newRunner(sys)
	recovered := false
	if lock != nil && lock.Recovered != "" {
		recoverInterrupted(ctx, sys, r, l, lock.Recovered)
		recovered = true
	}
	if ok, err := NewView(sys).IsWireGuard(l.Interface); err != nil || !ok {
		if recovered {
			return 0
		}
		if err == nil {
			if code, done := downLeftovers(ctx, sys, r, l, lock); done {
				return code
			}
		}
		return die(sys, errNotWireGuard(l.Interface))
	}
	r.changing = func() error { return lock.Changing("down") }
	before, after := downPhases(sys, l)
	if err := r.run(ctx, before...); err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	// Once the interface is being removed, a signal does not stop down
	// half-way: it runs to the end.
	if err := r.run(context.WithoutCancel(ctx), after...); err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	return r.status
}

// downPhases is cmd_down: before the host changes, PreDown and (with
// SaveConfig) save_config; then del_if, unset_dns, remove_firewall and
// src_valid_mark (set back if we set it), and PostDown.
func downPhases(sys *Sys, l *Loaded) (before, after []Phase) {
	i := &l.File.Config.Interface
	before = []Phase{phaseOf("PreDown", stop, hookSteps(sys, l, "PreDown", i.PreDown)...)}
	if i.SaveConfig {
		before = append(before, phaseOf("save_config", stop, Step{Op: saveOp{sys: sys, l: l}}))
	}
	after = append(cleanupPhases(sys, l, stop, carryOn),
		phaseOf("PostDown", stop, hookSteps(sys, l, "PostDown", i.PostDown)...))
	return before, after
}

// cleanupPhases is what down removes, from the system as it is: del_if
// (in mode delIf), then, each in mode rest, DNS, the guard rules and
// src_valid_mark. DNS settings that are the link's own (systemd-resolved,
// which forgets a link that is deleted) are unset before del_if.
func cleanupPhases(sys *Sys, l *Loaded, delIf, rest mode) []Phase {
	return []Phase{
		{Name: "unset_dns", Mode: rest, Changes: true, Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return unsetDNSSteps(ctx, sys, l, true), nil
		}},
		{Name: "del_if", Mode: delIf, Changes: true, Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return delIfSteps(sys, v, l), nil
		}},
		{Name: "unset_dns", Mode: rest, Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return unsetDNSSteps(ctx, sys, l, false), nil
		}},
		{Name: "remove_firewall", Mode: rest, Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return removeFirewallSteps(ctx, sys, l.Interface)
		}},
		{Name: "src_valid_mark", Mode: rest, Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return restoreSrcValidMarkSteps(ctx, sys, l.Interface)
		}},
	}
}

// downLeftovers is down for an interface that is gone (deleted by hand,
// or its daemon killed) but left things behind: the reference stops at
// "is not a WireGuard interface" and leaves them; we remove them (see
// leftoverSteps), say so, and succeed. done is false when nothing was
// left (or a link of that name exists, which is not ours to judge).
func downLeftovers(ctx context.Context, sys *Sys, r *runner, l *Loaded, lock *osys.Lock) (code int, done bool) {
	v := NewView(sys)
	if _, exists, err := v.Link(l.Interface); err != nil || exists {
		return 0, false
	}
	bg := context.WithoutCancel(ctx)
	steps, err := leftoverSteps(bg, sys, v, l)
	if len(steps) == 0 {
		return 0, false
	}
	fmt.Fprintf(sys.Stderr, "[!] `%s' no longer exists: removing what it left behind.\n", l.Interface)
	if err := lock.Changing("down"); err != nil {
		return die(sys, err), true
	}
	r.run(bg, Phase{Name: "leftovers", Mode: carryOn, Plan: func(context.Context, *View) ([]Step, error) { return steps, err }})
	return r.status, true
}

// delIfSteps is del_if as `down` plans it: when the file's Table is unset
// or auto and the interface has an fwmark and a /0 allowed IP, delete
// every rule that looks up the fwmark's table and every "from all lookup
// main suppress_prefixlength 0" rule (but one another full tunnel needs),
// for IPv4 then IPv6; then delete the interface.
func delIfSteps(sys *Sys, v *View, l *Loaded) []Step {
	var steps []Step
	if autoTable(l.File.Config.Interface.Table) {
		// get_fwmark fails without a device: then no rule is deleted.
		if dev, err := v.Device(l.Interface); err == nil && dev.FwMark != 0 && hasDefaultRoute(dev) {
			steps = tunnelRuleSteps(sys, v, dev.FwMark)
		}
	}
	return append(steps, Step{Op: deleteLinkOp{sys: sys, iface: l.Interface}})
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
