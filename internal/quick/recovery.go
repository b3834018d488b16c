package quick

import (
	"context"
	"fmt"
)

// recoverInterrupted cleans up after a run of up, down or reload that was
// killed while it changed the host (its lock record was left behind): what
// down would remove (rules, the interface if it is a WireGuard one, DNS,
// firewall, src_valid_mark), or when the interface is gone what it left
// behind (leftoverSteps), each step's failure reported and the rest still
// done. Hooks are not run. It is the runner's work, as any other plan,
// before the verb's own.
func recoverInterrupted(ctx context.Context, sys *Sys, r *runner, l *Loaded, record string) {
	fmt.Fprintf(sys.Stderr, "[!] Cleaning up `%s' after an interrupted run (%s).\n", l.Interface, record)
	r.run(context.WithoutCancel(ctx), recoveryPhases(sys, NewView(sys), l)...)
}

// recoveryPhases is the clean-up after a killed run, in the best-effort
// mode: down's removals when the interface is a WireGuard one, else what
// it left behind.
func recoveryPhases(sys *Sys, v *View, l *Loaded) []Phase {
	if ok, err := v.IsWireGuard(l.Interface); err != nil || !ok {
		return []Phase{{Name: "leftovers", Mode: bestEffort, Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return leftoverSteps(ctx, sys, v, l)
		}}}
	}
	return cleanupPhases(sys, l, bestEffort, bestEffort)
}
