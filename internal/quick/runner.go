package quick

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/gowg/wgtools/internal/crash"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// runner is the one runner of plans. For each phase it reads the machine
// afresh (a new View), has the phase plan its steps, and runs them in
// order: it prints each step's line, makes the change, and keeps its undo.
// A failure ends the run in the stop mode (the caller reports it and may
// roll back) and is reported and passed over in the others. Consecutive
// route additions go to the kernel in one batch (Net.ApplyBatch).
//
// A dry runner runs nothing: one simulating View serves all phases, each
// step's line is printed (on out) and the View changed as the step would
// change the machine, and the steps are kept (plan) for a machine-readable
// plan.
type runner struct {
	sys *Sys
	out io.Writer // where lines go: stderr, or stdout for a dry run
	// msgs, if not nil, is where the failures a carry-on phase passes
	// over are reported (a dry run's messages), else stderr.
	msgs io.Writer
	dry  bool
	// view is the dry run's View, or the last live one.
	view  *View
	undos []registered
	// status is the first status of a failure passed over (carry-on
	// phases), 0 when there was none.
	status int
	// changing, if not nil, is called once, before the first step of
	// the first phase that Changes the host (the lock's record).
	changing func() error
	// plan is what a dry run planned, with the phase of each step.
	plan []planned
	// phaseName is the phase being run.
	phaseName string
	// devicesClean: no step since view was read can have changed a
	// WireGuard device, so its device reads carry over to the next View
	// (up reads thousands of peers once, not once per phase).
	devicesClean bool
}

type planned struct {
	phase string
	step  Step
}

type registered struct {
	undo Undo
	seq  int
}

func newRunner(sys *Sys) *runner { return &runner{sys: sys, out: sys.Stderr} }

func newDryRunner(sys *Sys) *runner {
	return &runner{sys: sys, out: sys.Stdout, dry: true, view: newSimView(sys)}
}

func (r *runner) trace(line string) {
	if line != "" {
		fmt.Fprintf(r.out, "[#] %s\n", line)
	}
}

// nextView is the View for the next phase.
func (r *runner) nextView() *View {
	if r.dry {
		return r.view
	}
	v := NewView(r.sys)
	if r.view != nil && r.devicesClean {
		for k, d := range r.view.devs {
			v.devs[k], v.devErr[k] = d, r.view.devErr[k]
		}
	}
	r.view, r.devicesClean = v, true
	return v
}

// run runs phases in order; in the stop mode a failure ends it.
func (r *runner) run(ctx context.Context, phases ...Phase) error {
	for _, p := range phases {
		if err := r.phase(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) phase(ctx context.Context, p Phase) error {
	if p.Mode == stop && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	r.phaseName = p.Name
	steps, err := p.Plan(ctx, r.nextView())
	if err != nil {
		err = asFailure(r.sys.Prog, err)
		if p.Mode == stop {
			return err
		}
		r.passOver(p.Mode, err)
	}
	if len(steps) > 0 && p.Changes && r.changing != nil {
		changing := r.changing
		r.changing = nil
		if err := changing(); err != nil {
			return fail(1, "%s: %v", r.sys.Prog, err)
		}
	}
	for i := 0; i < len(steps); {
		n := r.batchable(steps[i:])
		var err error
		if n >= 2 {
			err = r.batch(ctx, steps[i:i+n])
			i += n
		} else {
			err = r.step(ctx, steps[i])
			i++
		}
		if err != nil {
			if p.Mode == stop {
				return err
			}
			r.passOver(p.Mode, err)
		}
	}
	return nil
}

// passOver reports a failure a carry-on phase goes past.
func (r *runner) passOver(m mode, err error) {
	if r.msgs != nil {
		report(r.msgs, err)
	} else {
		report(r.sys.Stderr, err)
	}
	if m == carryOn && r.status == 0 {
		r.status = 1
	}
}

// step runs one step, unless ctx is done (a signal arrived).
func (r *runner) step(ctx context.Context, s Step) (err error) {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if r.dry {
		return r.simulate(s)
	}
	stepHook(false)
	r.trace(s.Op.String())
	if !deviceSafe(s.Op) {
		r.devicesClean = false
	}
	defer func() {
		if p := recover(); p != nil {
			err = fail(1, "internal error in `%s': %s", s.Op.String(), crash.Describe(p))
		}
	}()
	if err := s.Op.Do(ctx); err != nil {
		if s.Fallback != nil && ctx.Err() == nil {
			report(r.sys.Stderr, err)
			if ferr := s.Fallback.Accept(err); ferr != nil {
				return ferr
			}
			next, ferr := s.Fallback.Then()
			if ferr != nil {
				return ferr
			}
			fmt.Fprintln(r.sys.Stderr, s.Fallback.Notice)
			return r.step(ctx, next)
		}
		return asFailure(r.sys.Prog, err)
	}
	r.register(s.Undo)
	stepHook(true)
	return nil
}

func (r *runner) register(u *Undo) {
	if u != nil {
		r.undos = append(r.undos, registered{*u, len(r.undos)})
	}
}

// simulate is a dry run's step: printed, kept, and played on the View;
// the failure it foresees, if any.
func (r *runner) simulate(s Step) error {
	if s.Fallback != nil && s.Fallback.Predict != nil && s.Fallback.Predict(r.view) {
		r.trace(s.Op.String())
		r.plan = append(r.plan, planned{r.phaseName, Step{Op: s.Op, Note: "fails: the kernel has no WireGuard module, and none to load"}})
		next, err := s.Fallback.Then()
		if err != nil {
			return err
		}
		if next.Note == "" {
			next.Note = "the kernel has no WireGuard module: " + s.Fallback.Notice
		}
		s = next
	}
	r.trace(s.Op.String())
	r.plan = append(r.plan, planned{r.phaseName, s})
	if f, ok := s.Op.(foreseen); ok {
		if err := f.willFail(r.view); err != nil {
			r.plan[len(r.plan)-1].step.Note = "fails: " + err.Error()
			return err
		}
	}
	switch op := s.Op.(type) {
	case simulated:
		op.simulate(r.view)
	case described:
		// The full tunnel's guard rules and src_valid_mark change
		// nothing a later phase reads.
		switch op.Kind() {
		case "sysctl":
			if v, ok := op.Fields()["value"].(string); ok {
				r.view.svm = v
			}
		case "firewall":
		default:
			r.view.unsure(s.Op.String())
		}
	default:
		r.view.unsure(s.Op.String())
	}
	r.register(s.Undo)
	return nil
}

// batchable is how many steps from the first are route additions that
// may go to the kernel together (no fallback among them).
func (r *runner) batchable(steps []Step) int {
	n := 0
	for _, s := range steps {
		b, ok := s.Op.(batchable)
		if !ok || s.Fallback != nil {
			break
		}
		if _, ok := b.netlinkOp().(netlinkx.RouteAdd); !ok {
			break
		}
		n++
	}
	return n
}

// batch runs route additions in one exchange with the kernel, with the
// trace and the failure a step each would give: "[#] ..." for each up to
// and including the first that fails, then ip's message; the trace is
// written in one piece afterwards. Routes after a failing one may have
// been added too, which the rollback's deletion of the interface removes
// with the rest.
func (r *runner) batch(ctx context.Context, steps []Step) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if r.dry {
		for _, s := range steps {
			if err := r.simulate(s); err != nil {
				return err
			}
		}
		return nil
	}
	stepHook(false)
	ops := make([]netlinkx.Op, len(steps))
	for i, s := range steps {
		ops[i] = s.Op.(batchable).netlinkOp()
	}
	errs := r.sys.Net.ApplyBatch(ops)
	var trace bytes.Buffer
	for i, s := range steps {
		trace.WriteString("[#] " + s.Op.String() + "\n")
		if errs[i] != nil {
			r.out.Write(trace.Bytes())
			return netFailure(errs[i])
		}
		r.register(s.Undo)
	}
	r.out.Write(trace.Bytes())
	stepHook(true)
	return nil
}

// rollback undoes what was registered, in del_if's order (see rank) and,
// within a rank, newest first: each undo is planned from the state the
// machine is in when the rollback gets to it, and run carrying on past
// failures. It does not look at ctx: a second signal must not stop it
// half-way.
func (r *runner) rollback() {
	undos := slices.Clone(r.undos)
	r.undos = nil
	slices.SortStableFunc(undos, func(a, b registered) int {
		if a.undo.Rank != b.undo.Rank {
			return int(a.undo.Rank - b.undo.Rank)
		}
		return b.seq - a.seq
	})
	status := r.status
	for _, u := range undos {
		r.phase(context.Background(), Phase{Name: "rollback", Mode: carryOn, Plan: u.undo.Plan})
	}
	r.status = status
}

// runOrUndo runs phases as up and reload do: on a failure or a signal it
// says why and rolls back, and returns the exit status.
func (r *runner) runOrUndo(ctx context.Context, phases ...Phase) int {
	err := r.run(ctx, phases...)
	if err == nil {
		return 0
	}
	if ctx.Err() != nil {
		err = context.Cause(ctx)
		fmt.Fprintf(r.sys.Stderr, "[!] Interrupted by %s: undoing what was done.\n", signalName(err))
	} else {
		report(r.sys.Stderr, err)
	}
	r.rollback()
	return exitCode(err)
}

// deviceSafe reports whether an Op cannot change a WireGuard device's
// peers (so that a device read before it still holds).
func deviceSafe(op Op) bool {
	switch op.(type) {
	case netOp, dnsOp:
		return true
	}
	return false
}
