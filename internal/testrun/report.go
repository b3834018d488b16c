package testrun

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Event is one line of `go test -json` (cmd/test2json's TestEvent, with
// the go command's build events).
type Event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64
	ImportPath  string // build-output and build-fail
	FailedBuild string
}

// Status is how a test ended.
type Status int

const (
	Running Status = iota // no end seen (a timeout or a crash of the test binary)
	Passed
	Failed
	Skipped
)

// Test is one test or subtest.
type Test struct {
	Package string // relative to the module
	Name    string
	Status  Status
	Output  []string // its lines, without the === RUN/PAUSE/CONT markers
	Leaf    bool     // no subtests ran
	Allowed *Entry   // for a skip: the entry allowing it
}

// SkipMessage is what a skipped test said: its log lines, joined.
func (t *Test) SkipMessage() string {
	var lines []string
	for _, l := range t.Output {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "--- SKIP: ") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, " | ")
}

// Counts are a package's tests by how they ended. A test with subtests
// counts through them; a parent that failed with no failed subtest counts
// once more, as failed.
type Counts struct {
	Run, Passed, Failed, Skipped, Allowed int
}

// Package is what one package's run gave.
type Package struct {
	Path      string // relative to the module
	Tests     []*Test
	Failed    bool // the package's result was FAIL (tests, build, or the binary itself)
	NoTests   bool // no test files
	BuildFail bool
	Counts    Counts
}

// Report is a whole run.
type Report struct {
	Packages []*Package
	Strict   bool
	// Disallowed are the skips no entry allows, Allowed those one does.
	Disallowed, Allowed []*Test
	Failures            []*Test
}

// Reader consumes the event stream and writes go test's own output as it
// goes.
type Reader struct {
	// Module is the module path; packages are shown relative to it.
	Module string
	// Verbose prints every line, as go test -v; otherwise only the output
	// of failed tests, of skips no entry allows, and the package lines.
	Verbose bool
	Allow   *Allowlist
	Strict  bool
	Out     io.Writer

	pkgs  map[string]*Package
	order []string
	tests map[string]map[string]*Test
}

func (r *Reader) rel(pkg string) string {
	if r.Module == "" {
		return pkg
	}
	if pkg == r.Module {
		return "."
	}
	if s, ok := strings.CutPrefix(pkg, r.Module+"/"); ok {
		return s
	}
	return pkg
}

func (r *Reader) pkg(path string) *Package {
	if r.pkgs == nil {
		r.pkgs, r.tests = map[string]*Package{}, map[string]map[string]*Test{}
	}
	p := r.pkgs[path]
	if p == nil {
		p = &Package{Path: r.rel(path)}
		r.pkgs[path], r.tests[path] = p, map[string]*Test{}
		r.order = append(r.order, path)
	}
	return p
}

// Read consumes events from in until its end. A line that is not an event
// (the go command's own messages) is printed as it is.
func (r *Reader) Read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e Event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(r.Out, "%s\n", line)
			continue
		}
		r.event(&e)
	}
	return sc.Err()
}

func (r *Reader) event(e *Event) {
	switch e.Action {
	case "build-output":
		io.WriteString(r.Out, e.Output)
		return
	case "build-fail":
		// "example.com/p [example.com/p.test]": the package's test build.
		path, _, _ := strings.Cut(e.ImportPath, " ")
		r.pkg(path).BuildFail = true
		return
	}
	if e.Package == "" {
		return
	}
	p := r.pkg(e.Package)
	if e.Test == "" {
		r.packageEvent(p, e)
		return
	}
	tests := r.tests[e.Package]
	t := tests[e.Test]
	if t == nil {
		t = &Test{Package: p.Path, Name: e.Test}
		tests[e.Test] = t
		p.Tests = append(p.Tests, t)
	}
	switch e.Action {
	case "output":
		if r.Verbose {
			io.WriteString(r.Out, e.Output)
		}
		if !isMarker(e.Output) {
			t.Output = append(t.Output, strings.TrimSuffix(e.Output, "\n"))
		}
	case "pass":
		t.Status = Passed
	case "fail":
		t.Status = Failed
		r.show(t)
	case "skip":
		t.Status = Skipped
		t.Allowed = r.Allow.Match(p.Path, t.Name, t.SkipMessage())
		if t.Allowed == nil && r.Strict {
			r.show(t)
		}
	}
}

// show prints a finished test's output, as go test does for a failure.
func (r *Reader) show(t *Test) {
	if r.Verbose {
		return
	}
	for _, l := range t.Output {
		fmt.Fprintln(r.Out, l)
	}
}

func (r *Reader) packageEvent(p *Package, e *Event) {
	switch e.Action {
	case "output":
		if r.Verbose || !(isMarker(e.Output) || e.Output == "PASS\n") {
			io.WriteString(r.Out, e.Output)
		}
		if strings.Contains(e.Output, "[no test files]") {
			p.NoTests = true
		}
	case "fail":
		p.Failed = true
		if e.FailedBuild != "" {
			p.BuildFail = true
		}
	}
}

func isMarker(s string) bool {
	for _, m := range []string{"=== RUN ", "=== PAUSE ", "=== CONT ", "=== NAME "} {
		if strings.HasPrefix(s, m) {
			return true
		}
	}
	return false
}

// Report counts what was read.
func (r *Reader) Report() *Report {
	rep := &Report{Strict: r.Strict}
	for _, path := range r.order {
		p := r.pkgs[path]
		names := make([]string, 0, len(p.Tests))
		for _, t := range p.Tests {
			names = append(names, t.Name)
		}
		sort.Strings(names)
		for i, n := range names {
			// Sorted, a test's subtests come right after it.
			r.tests[path][n].Leaf = i+1 == len(names) || !strings.HasPrefix(names[i+1], n+"/")
		}
		for _, t := range p.Tests {
			c := &p.Counts
			switch {
			case t.Status == Failed || t.Status == Running:
				if t.Leaf || !hasFailedSubtest(r.tests[path], t.Name) {
					c.Failed++
					rep.Failures = append(rep.Failures, t)
				}
			case !t.Leaf:
			case t.Status == Passed:
				c.Passed++
			case t.Status == Skipped:
				c.Skipped++
				if t.Allowed != nil {
					c.Allowed++
					rep.Allowed = append(rep.Allowed, t)
				} else {
					rep.Disallowed = append(rep.Disallowed, t)
				}
			}
		}
		p.Counts.Run = p.Counts.Passed + p.Counts.Failed + p.Counts.Skipped
		rep.Packages = append(rep.Packages, p)
	}
	sort.Slice(rep.Packages, func(i, j int) bool { return rep.Packages[i].Path < rep.Packages[j].Path })
	return rep
}

func hasFailedSubtest(tests map[string]*Test, name string) bool {
	for n, t := range tests {
		if strings.HasPrefix(n, name+"/") && (t.Status == Failed || t.Status == Running) {
			return true
		}
	}
	return false
}

// Total is the sum of every package's counts.
func (rep *Report) Total() Counts {
	var c Counts
	for _, p := range rep.Packages {
		c.Run += p.Counts.Run
		c.Passed += p.Counts.Passed
		c.Failed += p.Counts.Failed
		c.Skipped += p.Counts.Skipped
		c.Allowed += p.Counts.Allowed
	}
	return c
}

// Problems lists why the run failed (none: it passed). goTestFailed is
// the go command's own verdict (its exit status).
func (rep *Report) Problems(goTestFailed bool) []string {
	var probs []string
	t := rep.Total()
	if t.Failed > 0 {
		probs = append(probs, plural(t.Failed, "test")+" failed")
	}
	for _, p := range rep.Packages {
		switch {
		case p.BuildFail:
			probs = append(probs, p.Path+" did not build")
		case p.Failed && p.Counts.Failed == 0:
			probs = append(probs, p.Path+" failed outside its tests")
		}
	}
	if rep.Strict && len(rep.Disallowed) > 0 {
		probs = append(probs, plural(len(rep.Disallowed), "skip")+" not on the allowed list")
	}
	if t.Run == 0 {
		probs = append(probs, "no test ran")
	}
	if goTestFailed && len(probs) == 0 {
		probs = append(probs, "go test failed")
	}
	return probs
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Print writes the summary: a table of counts per package, every skip
// with its message (and, for an allowed one, why it is allowed), and the
// verdict. It returns whether the run passed.
func (rep *Report) Print(w io.Writer, goTestFailed bool) bool {
	fmt.Fprintf(w, "\n=== test summary (a test with subtests counts through them)\n")
	width := len("package")
	for _, p := range rep.Packages {
		width = max(width, len(p.Path))
	}
	row := func(name string, c Counts, note string) {
		fmt.Fprintf(w, "%-*s %6d %7d %7d %8d %8d%s\n", width, name, c.Run, c.Passed, c.Failed, c.Skipped, c.Allowed, note)
	}
	fmt.Fprintf(w, "%-*s %6s %7s %7s %8s %8s\n", width, "package", "run", "passed", "failed", "skipped", "allowed")
	for _, p := range rep.Packages {
		note := ""
		switch {
		case p.BuildFail:
			note = "  build failed"
		case p.NoTests:
			note = "  no test files"
		case p.Failed && p.Counts.Failed == 0:
			note = "  FAIL"
		}
		row(p.Path, p.Counts, note)
	}
	row("total", rep.Total(), "")
	if len(rep.Allowed) > 0 {
		// Grouped by the entry allowing them, in the list's order.
		fmt.Fprintf(w, "\n=== skipped, on the allowed list (%d)\n", len(rep.Allowed))
		byLine := map[int][]*Test{}
		var lines []int
		for _, t := range rep.Allowed {
			if byLine[t.Allowed.Line] == nil {
				lines = append(lines, t.Allowed.Line)
			}
			byLine[t.Allowed.Line] = append(byLine[t.Allowed.Line], t)
		}
		sort.Ints(lines)
		for _, n := range lines {
			tests := byLine[n]
			fmt.Fprintf(w, "allowed (list line %d): %s\n", n, tests[0].Allowed.Reason)
			for _, t := range tests {
				fmt.Fprintf(w, "    %s %s: %s\n", t.Package, t.Name, t.SkipMessage())
			}
		}
	}
	if len(rep.Disallowed) > 0 {
		what := "not on the allowed list"
		if rep.Strict {
			what += "; strict: each is a failure"
		}
		fmt.Fprintf(w, "\n=== skipped, %s (%d)\n", what, len(rep.Disallowed))
		for _, t := range rep.Disallowed {
			fmt.Fprintf(w, "%s %s: %s\n", t.Package, t.Name, t.SkipMessage())
		}
	}
	if len(rep.Failures) > 0 {
		fmt.Fprintf(w, "\n=== failed (%d)\n", len(rep.Failures))
		for _, t := range rep.Failures {
			how := ""
			if t.Status == Running {
				how = " (did not finish)"
			}
			fmt.Fprintf(w, "%s %s%s\n", t.Package, t.Name, how)
		}
	}
	probs := rep.Problems(goTestFailed)
	if len(probs) > 0 {
		fmt.Fprintf(w, "\nFAIL: %s\n", strings.Join(probs, "; "))
		return false
	}
	mode := ""
	if rep.Strict {
		mode = " (strict)"
	}
	fmt.Fprintf(w, "\nPASS%s\n", mode)
	return true
}
