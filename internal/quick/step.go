package quick

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gowg/wgtools/internal/netlinkx"
	"github.com/gowg/wgtools/internal/osys"
)

// An Op is one change to the machine, as a value: String is the line the
// reference prints for it after "[#] " ("" for a change it does not
// print), Do makes it. Every change wg-quick makes is an Op: netlink
// operations (netlinkx), the device's configuration, the full tunnel's
// firewall and sysctl (internal/firewall's Op), DNS, hooks, the embedded
// device, the saved file.
//
// An Op may also describe itself for a machine-readable plan (Kind,
// Fields: see described), change a View as it would change the machine
// (simulate, for dry runs and planning), and be sent with others in one
// batch (batchable).
type Op interface {
	String() string
	Do(ctx context.Context) error
}

// described is an Op that says what it changes: a kind ("link", "address",
// "route", "rule", "device", "firewall", "sysctl", "dns", "hook",
// "userspace", "file") and its fields, never a secret.
type described interface {
	Kind() string
	Fields() map[string]any
}

// simulated is an Op that can change a View as Do would change the
// machine.
type simulated interface {
	simulate(v *View)
}

// foreseen is an Op that can tell, from a View, that it will fail (a
// route or an address that is there already): a dry run stops there as
// the real run would.
type foreseen interface {
	willFail(v *View) error
}

// batchable is an Op the runner may send to the kernel together with the
// batchable Ops next to it (Net.ApplyBatch).
type batchable interface {
	netlinkOp() netlinkx.Op
}

// A Step is an Op with what takes it back: Undo, registered once the Op
// has succeeded, is planned and run by a rollback (from the state the
// machine is then in), in the order of its rank.
type Step struct {
	Op   Op
	Undo *Undo
	// Fallback is tried when Op fails in the way it names (add_if's
	// userspace device where the kernel has no module).
	Fallback *Fallback
	// Note says, for a dry run, how a value of the line was chosen (one
	// the real run computes when it gets there).
	Note string
}

// Line is the step's "[#]" line, without the "[#] " ("" for a change
// printed without one).
func (s Step) Line() string { return s.Op.String() }

// Kind is what the step changes, as the JSON plan names it: link,
// address, route, rule, device, firewall, sysctl, dns, hook, userspace,
// file.
func (s Step) Kind() string { return kindOf(s.Op) }

// Undo is how a rollback takes a step back: its steps are planned when the
// rollback gets to it, from the state of the machine then.
type Undo struct {
	Rank rank
	Plan func(ctx context.Context, v *View) ([]Step, error)
}

// undoWith is an Undo whose steps are known now.
func undoWith(r rank, ops ...Op) *Undo {
	return &Undo{Rank: r, Plan: func(context.Context, *View) ([]Step, error) {
		steps := make([]Step, len(ops))
		for i, op := range ops {
			steps[i] = Step{Op: op}
		}
		return steps, nil
	}}
}

// Fallback is what a step does instead when its Op fails.
type Fallback struct {
	// Accept decides, from the Op's error (reported already), whether
	// to fall back: nil, or the failure to end with.
	Accept func(err error) error
	// Predict, for a dry run, reports whether the Op will fail so.
	Predict func(v *View) bool
	// Then plans the step to run instead (or fails).
	Then func() (Step, error)
	// Notice is printed, once Then has succeeded, before its step.
	Notice string
}

// rank orders rollback work as the reference's del_if does: DNS, then the
// firewall, then the policy rules (IPv4 then IPv6, each family's table
// rule before its suppress rule), then what a reload set back (newest
// first), then the interface (whose deletion takes its addresses and
// routes along); then src_valid_mark, which the reference does not set
// back. Within a rank, the newest undo runs first.
type rank int

const (
	rankDNS rank = iota
	rankFirewall
	rankRules4Table
	rankRules4Suppress
	rankRules6Table
	rankRules6Suppress
	rankSetBack
	rankLink
	rankSysctl
)

// A Phase is one part of a plan (one function of the reference's cmd_up,
// cmd_down): from the state it is given it plans its steps, which the
// runner then runs. The runner reads the state afresh for every phase.
type Phase struct {
	Name string
	Mode mode
	// Changes marks the first phase that changes the host: the lock's
	// record says so before its first step (see runner.changing).
	Changes bool
	Plan    func(ctx context.Context, v *View) ([]Step, error)
}

// mode is what a failed step (or a phase that cannot plan) does to a run.
type mode int

const (
	// stop ends the run at the first failure (up, and down's own
	// steps): the caller reports it and may roll back.
	stop mode = iota
	// carryOn reports a failure, goes on with the next step, and makes
	// the run's status 1 at its end (down's clean-up, rollback).
	carryOn
	// bestEffort reports a failure and goes on; the status is not
	// changed (the reference's `|| true`; a crash recovery before the
	// verb's own work).
	bestEffort
)

// phaseOf is a phase whose steps are known now.
func phaseOf(name string, m mode, steps ...Step) Phase {
	return Phase{Name: name, Mode: m, Plan: func(context.Context, *View) ([]Step, error) { return steps, nil }}
}

// Failure ends a verb: Msg (when not empty) is printed as is on stderr,
// Code is the exit status.
type Failure struct {
	Msg  string
	Code int
	// Err is the cause, when there is one.
	Err error
}

func (f *Failure) Error() string { return f.Msg }
func (f *Failure) Unwrap() error { return f.Err }

func fail(code int, format string, a ...any) *Failure {
	return &Failure{Msg: fmt.Sprintf(format, a...), Code: code}
}

// asFailure is err as the failure wg-quick reports: a *Failure as it is,
// a signal's cause as it is, anything else (an Op of another package) as
// "PROG: message" with status 1, as the reference's die.
func asFailure(prog string, err error) error {
	var f *Failure
	var s osys.SignalError
	if errors.As(err, &f) || errors.As(err, &s) {
		return err
	}
	return &Failure{Msg: fmt.Sprintf("%s: %v", prog, err), Code: 1, Err: err}
}

// exitCode is the status for a plan's error.
func exitCode(err error) int {
	var f *Failure
	if errors.As(err, &f) {
		return f.Code
	}
	var s osys.SignalError
	if errors.As(err, &s) {
		return 128 + s.Num
	}
	return 1
}

// report prints a plan's error the way its tool would.
func report(w io.Writer, err error) {
	var f *Failure
	if errors.As(err, &f) {
		if f.Msg != "" {
			fmt.Fprintln(w, f.Msg)
		}
		return
	}
	var s osys.SignalError
	if errors.As(err, &s) {
		return
	}
	fmt.Fprintln(w, err)
}

func signalName(err error) string {
	var s osys.SignalError
	if errors.As(err, &s) {
		return s.Name
	}
	return "a signal"
}
