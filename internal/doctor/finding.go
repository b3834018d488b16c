package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Severity says whether a finding makes doctor exit 1.
type Severity string

const (
	// Problem is something wrong: traffic does not flow, or will not.
	Problem Severity = "problem"
	// Note is worth knowing but not wrong by itself (an idle peer, where
	// to look next).
	Note Severity = "note"
)

// Finding is one thing a check found.
type Finding struct {
	// Check is the name of the check (a stable identifier, see Checks).
	Check    string
	Severity Severity
	// Subject is what the finding is about: "interface wg0", "peer KEY",
	// "IPv4 forwarding"...
	Subject string
	// Summary says what is wrong in one line.
	Summary string
	// Evidence is what doctor saw, one fact a line.
	Evidence []string
	// Fix is what to do, in order.
	Fix []Fix
}

// Fix is one step of a fix: a command to run now, or a line to put in a
// file (the configuration, to keep the fix across `wg-quick down` and
// up, or another file such as a sysctl.d file); Text explains a step that
// is neither.
type Fix struct {
	Command string
	// File and Line: add Line to File; Section, for the configuration, is
	// the section it goes in ("Interface", or "Peer" with the peer's key).
	File    string
	Section string
	Line    string
	Text    string
}

func (f Fix) String() string {
	switch {
	case f.Command != "":
		return f.Command
	case f.Line != "" && f.Section != "":
		return fmt.Sprintf("in %s, [%s]: %s", f.File, f.Section, f.Line)
	case f.Line != "":
		return fmt.Sprintf("in %s: %s", f.File, f.Line)
	}
	return f.Text
}

// NotChecked is a part of the system doctor could not read, and why.
type NotChecked struct {
	What   string
	Reason string
}

// Report is the outcome of one doctor run.
type Report struct {
	Interface  string
	File       string
	Findings   []Finding
	NotChecked []NotChecked
}

// Problems counts the findings of severity Problem.
func (r *Report) Problems() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Problem {
			n++
		}
	}
	return n
}

// ExitCode is doctor's status: 1 when something is wrong, else 2 when
// part of the system could not be looked at, else 0.
func (r *Report) ExitCode() int {
	switch {
	case r.Problems() > 0:
		return 1
	case len(r.NotChecked) > 0:
		return 2
	}
	return 0
}

// WriteText prints the report for people: one block per finding, the
// commands of the fixes on lines of their own (they can be copied and run
// as they are).
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	n := r.Problems()
	switch n {
	case 0:
		fmt.Fprintf(&b, "%s: no problem found\n", r.Interface)
	case 1:
		fmt.Fprintf(&b, "%s: 1 problem found\n", r.Interface)
	default:
		fmt.Fprintf(&b, "%s: %d problems found\n", r.Interface, n)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "\n%s [%s] %s: %s\n", f.Severity, f.Check, f.Subject, f.Summary)
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "  seen: %s\n", e)
		}
		for _, x := range f.Fix {
			if x.Command != "" {
				fmt.Fprintf(&b, "  run:  %s\n", x.Command)
			} else if x.Line != "" {
				where := x.File
				if x.Section != "" {
					where += ", [" + x.Section + "]"
				}
				if x.Text != "" {
					where += "; " + x.Text
				}
				fmt.Fprintf(&b, "  add:  %s  (%s)\n", x.Line, where)
			} else {
				fmt.Fprintf(&b, "  then: %s\n", x.Text)
			}
		}
	}
	for _, nc := range r.NotChecked {
		fmt.Fprintf(&b, "\nnot checked: %s: %s\n", nc.What, nc.Reason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonReport is the JSON form (docs/json.md's conventions; schema:
// dist/schema/wg-quick-doctor.schema.json).
type jsonReport struct {
	SchemaVersion int           `json:"schema_version"`
	Time          string        `json:"time"`
	Interface     string        `json:"interface"`
	File          *string       `json:"file"`
	Status        string        `json:"status"`
	ExitCode      int           `json:"exit_code"`
	Problems      int           `json:"problems"`
	Findings      []jsonFinding `json:"findings"`
	NotChecked    []jsonNot     `json:"not_checked"`
}

type jsonFinding struct {
	Check    string    `json:"check"`
	Severity Severity  `json:"severity"`
	Subject  string    `json:"subject"`
	Summary  string    `json:"summary"`
	Evidence []string  `json:"evidence"`
	Fix      []jsonFix `json:"fix"`
}

// jsonFix has every key; those a step does not have are null.
type jsonFix struct {
	Command *string `json:"command"`
	File    *string `json:"file"`
	Section *string `json:"section"`
	Line    *string `json:"line"`
	Text    *string `json:"text"`
}

type jsonNot struct {
	What   string `json:"what"`
	Reason string `json:"reason"`
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// WriteJSON prints the report as one JSON document, dated now.
func (r *Report) WriteJSON(w io.Writer) error { return r.writeJSON(w, time.Now()) }

func (r *Report) writeJSON(w io.Writer, now time.Time) error {
	j := jsonReport{
		SchemaVersion: 1,
		Time:          now.UTC().Format(time.RFC3339),
		Interface:     r.Interface,
		File:          orNull(r.File),
		ExitCode:      r.ExitCode(),
		Problems:      r.Problems(),
		Findings:      []jsonFinding{},
		NotChecked:    []jsonNot{},
	}
	j.Status = [...]string{"ok", "problems", "incomplete"}[j.ExitCode]
	for _, f := range r.Findings {
		jf := jsonFinding{Check: f.Check, Severity: f.Severity, Subject: f.Subject, Summary: f.Summary,
			Evidence: append([]string{}, f.Evidence...), Fix: []jsonFix{}}
		for _, x := range f.Fix {
			jf.Fix = append(jf.Fix, jsonFix{Command: orNull(x.Command), File: orNull(x.File), Section: orNull(x.Section), Line: orNull(x.Line), Text: orNull(x.Text)})
		}
		j.Findings = append(j.Findings, jf)
	}
	for _, nc := range r.NotChecked {
		j.NotChecked = append(j.NotChecked, jsonNot(nc))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}
