package quick

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/osys"
)

// DryRunOptions say how a dry run reports its plan.
type DryRunOptions struct {
	// JSON prints the plan as one JSON document on stdout (see
	// docs/wg-quick-plan.md) instead of its lines.
	JSON bool
	// Hooks is reload's --hooks.
	Hooks bool
	// Resolve is how reresolve resolves names (conf.ParseEndpoint's
	// options), and Now the time it judges handshakes by (zero: now).
	Resolve *conf.Options
	Now     time.Time
}

// DryRun plans verb ("up", "down", "save", "reload", "reresolve") for l as the real run
// would, from the machine as it is, and changes nothing: it prints the
// lines the real run would print ("[#] ...", in the same order) on
// sys.Stdout, or the plan as JSON, and on sys.Stderr what the plan could
// not know (a hook's effects, a value chosen when the run gets there) and
// what it could not read for want of privilege. Its status is the one the
// real run would end with where the plan can tell (a refusal, a failure it
// foresees), else 0; 1 when it could not read what it needed.
func DryRun(ctx context.Context, sys *Sys, l *Loaded, verb string, o DryRunOptions) int {
	r := newDryRunner(sys)
	if o.JSON {
		r.out = io.Discard
	}
	msgs := &strings.Builder{}
	r.msgs = msgs
	code := dryRunVerb(ctx, sys, r, l, verb, o, msgs)
	v := r.view
	if o.JSON {
		if err := writePlanJSON(sys.Stdout, verb, l, r.plan, v, code, msgs.String()); err != nil {
			fmt.Fprintf(sys.Stderr, "%s: %v\n", sys.Prog, err)
			return 1
		}
	} else {
		io.WriteString(sys.Stderr, msgs.String())
		for _, p := range r.plan {
			if p.step.Note != "" {
				line := p.step.Op.String()
				if line == "" && strings.HasPrefix(p.step.Note, "fails: ") {
					continue // its failure is among the messages
				}
				if line == "" {
					line = "(" + kindOf(p.step.Op) + ")"
				}
				fmt.Fprintf(sys.Stderr, "[?] %s: %s\n", line, p.step.Note)
			}
		}
		for _, u := range v.Unsure {
			fmt.Fprintf(sys.Stderr, "[?] after %s the real run may differ: the plan cannot follow what it does\n", u)
		}
	}
	if len(v.Denied) > 0 {
		if !o.JSON {
			fmt.Fprintf(sys.Stderr, "[?] could not read %s: the plan may be incomplete (run it as root)\n", strings.Join(v.Denied, ", "))
		}
		if code == 0 {
			code = 1
		}
	}
	return code
}

// dryRunVerb is the verb's run in a dry runner: the same decisions and
// phases as the real one. Messages the real run would print go to msgs.
func dryRunVerb(ctx context.Context, sys *Sys, r *runner, l *Loaded, verb string, o DryRunOptions, msgs io.Writer) int {
	die := func(err error) int {
		fmt.Fprintf(msgs, "%s: %v\n", sys.Prog, err)
		return 1
	}
	record := ""
	// reresolve takes no lock (it changes endpoints only, as `wg set`).
	if sys.PeekLock != nil && verb != "reresolve" {
		rec, err := sys.PeekLock(l.Interface)
		var busy *osys.BusyError
		switch {
		case errors.As(err, &busy):
			return die(err)
		case err != nil:
			r.view.denied("the lock of "+l.Interface, err)
		}
		record = rec
	}
	v := r.view
	recover := func() {
		if record != "" {
			fmt.Fprintf(msgs, "[!] Cleaning up `%s' after an interrupted run (%s).\n", l.Interface, record)
			r.run(ctx, recoveryPhases(sys, v, l)...)
		}
	}
	failed := func(err error) int {
		report(msgs, err)
		r.rollback()
		return exitCode(err)
	}
	switch verb {
	case "up":
		recover()
		warning, err := canUp(ctx, sys, v, l)
		if err != nil {
			return die(err)
		}
		if warning != "" {
			fmt.Fprintln(msgs, warning)
		}
		if err := r.run(ctx, upPhases(sys, l)...); err != nil {
			return failed(err)
		}
	case "down":
		recover()
		if ok, err := v.IsWireGuard(l.Interface); err != nil || !ok {
			if record != "" {
				return 0
			}
			if err == nil {
				if _, exists, err := v.Link(l.Interface); err == nil && !exists {
					steps, err := leftoverSteps(ctx, sys, v, l)
					if len(steps) > 0 {
						fmt.Fprintf(msgs, "[!] `%s' no longer exists: removing what it left behind.\n", l.Interface)
						r.run(ctx, Phase{Name: "leftovers", Mode: carryOn, Plan: func(context.Context, *View) ([]Step, error) { return steps, err }})
						return r.status
					}
				}
			}
			return die(errNotWireGuard(l.Interface))
		}
		before, after := downPhases(sys, l)
		if err := r.run(ctx, append(before, after...)...); err != nil {
			report(msgs, err)
			return exitCode(err)
		}
		return r.status
	case "save":
		if ok, err := v.IsWireGuard(l.Interface); err != nil || !ok {
			return die(errNotWireGuard(l.Interface))
		}
		r.run(ctx, phaseOf("save_config", stop, Step{Op: saveOp{sys: sys, l: l}}))
	case "reload":
		if record != "" && !strings.HasPrefix(record, "reload ") {
			recover()
		} else if record != "" {
			fmt.Fprintf(msgs, "[!] Finishing the interrupted reload of `%s' (%s).\n", l.Interface, record)
		}
		if err := canReload(ctx, sys, v, l); err != nil {
			return die(err)
		}
		if err := r.run(ctx, reloadPhases(sys, l, o.Hooks)...); err != nil {
			return failed(err)
		}
	case "reresolve":
		if ok, err := v.IsWireGuard(l.Interface); err != nil || !ok {
			return die(errNotWireGuard(l.Interface))
		}
		now := o.Now
		if now.IsZero() {
			now = time.Now()
		}
		r.run(ctx, reresolvePhase(sys, l, now, o.Resolve))
		return r.status
	default:
		return die(fmt.Errorf("no dry run for %s", verb))
	}
	return 0
}

// PlanReload is reload's plan from the machine as it is to what l says:
// the steps a `wg-quick reload` would run now, in order (none when the
// interface is as the file says). It changes nothing. `wg-quick doctor`
// reports a state that differs from the file with it.
func PlanReload(ctx context.Context, sys *Sys, l *Loaded) ([]Step, *View, error) {
	quiet := *sys
	quiet.Stdout, quiet.Stderr = io.Discard, io.Discard
	r := newDryRunner(&quiet)
	r.out = io.Discard
	if err := canReload(ctx, &quiet, r.view, l); err != nil {
		return nil, r.view, err
	}
	if err := r.run(ctx, reloadPhases(&quiet, l, false)...); err != nil {
		return nil, r.view, err
	}
	steps := make([]Step, len(r.plan))
	for i, p := range r.plan {
		steps[i] = p.step
	}
	return steps, r.view, nil
}

func kindOf(op Op) string {
	if d, ok := op.(described); ok {
		return d.Kind()
	}
	return "change"
}

// The JSON plan (docs/wg-quick-plan.md, dist/schema/wg-quick-plan.schema.json).
type planDoc struct {
	SchemaVersion int        `json:"schema_version"`
	Verb          string     `json:"verb"`
	Interface     string     `json:"interface"`
	Config        string     `json:"config"`
	ExitStatus    int        `json:"exit_status"`
	Messages      []string   `json:"messages"`
	Steps         []planStep `json:"steps"`
	Unsure        []string   `json:"unsure"`
	Denied        []string   `json:"denied"`
}

type planStep struct {
	Phase           string         `json:"phase"`
	Line            *string        `json:"line"`
	Kind            string         `json:"kind"`
	Fields          map[string]any `json:"fields"`
	UndoneOnFailure bool           `json:"undone_on_failure"`
	Note            *string        `json:"note"`
}

func writePlanJSON(w io.Writer, verb string, l *Loaded, plan []planned, v *View, code int, msgs string) error {
	doc := planDoc{
		SchemaVersion: 1, Verb: verb, Interface: l.Interface, Config: l.Path, ExitStatus: code,
		Messages: []string{}, Steps: []planStep{}, Unsure: append([]string{}, v.Unsure...), Denied: append([]string{}, v.Denied...),
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(msgs, "\n"), "\n") {
		if line != "" {
			doc.Messages = append(doc.Messages, line)
		}
	}
	made := "" // the interface this plan makes: what goes with it is undone with it
	for _, p := range plan {
		s := p.step
		ps := planStep{Phase: p.phase, Kind: kindOf(s.Op), Fields: map[string]any{}}
		if line := s.Op.String(); line != "" {
			ps.Line = &line
		}
		if d, ok := s.Op.(described); ok {
			ps.Fields = d.Fields()
		}
		if s.Note != "" {
			note := s.Note
			ps.Note = &note
		}
		if s.Undo != nil && s.Undo.Rank == rankLink {
			made = l.Interface
		}
		ps.UndoneOnFailure = s.Undo != nil || (made != "" && withLink(ps.Kind) && ps.Fields["interface"] == made)
		doc.Steps = append(doc.Steps, ps)
	}
	// A guard-rule step without an undo of its own goes with the first
	// one's (which removes every rule of the interface).
	for i := range doc.Steps {
		if doc.Steps[i].Kind == "firewall" && !doc.Steps[i].UndoneOnFailure {
			for j := range i {
				if doc.Steps[j].Kind == "firewall" && doc.Steps[j].UndoneOnFailure && doc.Steps[j].Phase != "rollback" {
					doc.Steps[i].UndoneOnFailure = true
				}
			}
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// withLink reports whether a change of that kind goes with its interface.
func withLink(kind string) bool {
	switch kind {
	case "link", "address", "route", "device", "userspace":
		return true
	}
	return false
}
