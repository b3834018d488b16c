package quick

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/crash"
)

// A Step is one change wg-quick makes: the line it prints before making it
// (the reference's "[#] ..." trace), what makes it, and how to take it back
// when a later step fails.
type Step struct {
	// Line is printed as "[#] Line" on stderr before Do runs; "" prints
	// nothing.
	Line string
	// Do makes the change. Its error is a *Failure (or is treated as one
	// with status 1).
	Do func(ctx context.Context) error
	// Undo, if not nil, is registered once Do succeeds.
	Undo *Undo
}

// rank orders rollback work as the reference's del_if does: DNS, then the
// firewall, then the policy rules, then the interface (whose deletion takes
// its addresses and routes along); then src_valid_mark, which the
// reference does not set back.
type rank int

const (
	rankDNS rank = iota
	rankFirewall
	rankRules
	rankLink
	rankSysctl
)

// Undo takes a step back.
type Undo struct {
	Rank rank
	// Line is printed as "[#] Line" before Do runs.
	Line string
	Do   func(ctx context.Context) error
}

// A phase is one part of a plan (one function of the reference's cmd_up):
// it builds its steps from what earlier phases made (the device's allowed
// IPs, the routes already on the interface) and runs them.
type phase func(ctx context.Context, r *runner) error

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

// runner runs steps, keeps what they registered to undo, and rolls back.
type runner struct {
	stderr io.Writer
	undos  []Undo
	// dev is the device as up read it after configuring it (see
	// runner.device).
	dev *conf.Device
}

func (r *runner) trace(line string) { fmt.Fprintf(r.stderr, "[#] %s\n", line) }

// do runs one step, unless ctx is done (a signal arrived).
func (r *runner) do(ctx context.Context, s Step) (err error) {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	stepHook(false)
	if s.Line != "" {
		r.trace(s.Line)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fail(1, "internal error in `%s': %s", s.Line, crash.Describe(p))
		}
	}()
	if err := s.Do(ctx); err != nil {
		return err
	}
	if s.Undo != nil {
		r.undos = append(r.undos, *s.Undo)
	}
	stepHook(true)
	return nil
}

// run runs phases in order and stops at the first failure.
func (r *runner) run(ctx context.Context, phases []phase) error {
	for _, p := range phases {
		if err := p(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// rollback undoes what was registered, in del_if's order and, within one
// kind, newest first. A failing undo is reported and the rest still run.
// It does not look at ctx: a second signal must not stop it half-way.
func (r *runner) rollback() {
	undos := slices.Clone(r.undos)
	r.undos = nil
	order := make([]int, len(undos))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if undos[a].Rank != undos[b].Rank {
			return int(undos[a].Rank - undos[b].Rank)
		}
		return b - a
	})
	ctx := context.Background()
	for _, i := range order {
		u := undos[i]
		if u.Line != "" {
			r.trace(u.Line)
		}
		if err := u.Do(ctx); err != nil {
			var f *Failure
			if errors.As(err, &f) && f.Msg == "" {
				continue
			}
			fmt.Fprintln(r.stderr, err)
		}
	}
}

// exitCode is the status for a plan's error.
func exitCode(err error) int {
	var f *Failure
	if errors.As(err, &f) {
		return f.Code
	}
	var s signalError
	if errors.As(err, &s) {
		return 128 + s.num
	}
	return 1
}

// signalError is the cause given to the context when a signal stops a plan.
type signalError struct {
	name string
	num  int
}

func (s signalError) Error() string { return "interrupted by " + s.name }

// report prints a plan's error the way its tool would.
func report(w io.Writer, err error) {
	var f *Failure
	if errors.As(err, &f) {
		if f.Msg != "" {
			fmt.Fprintln(w, f.Msg)
		}
		return
	}
	var s signalError
	if errors.As(err, &s) {
		return
	}
	fmt.Fprintln(w, err)
}
