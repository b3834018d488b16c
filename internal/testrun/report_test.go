package testrun

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestParseAllowlist(t *testing.T) {
	a, err := ParseAllowlist("list", "# comment\n\nvmtest | TestVM | WGTOOLS_VMTEST=off | make vmtest runs it\n"+
		". | TestX/* | needs a tool | the root package's\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Entries) != 2 || a.Entries[0].Line != 3 || a.Entries[1].Package != "." || a.Entries[1].Reason != "the root package's" {
		t.Fatalf("entries %+v", a.Entries)
	}
	for _, c := range []struct{ pkg, test, msg string }{
		{"vmtest", "TestVM", "vm_test.go:26: VM tests: WGTOOLS_VMTEST=off"},
		{".", "TestX/case", "x_test.go:1: needs a tool"},
	} {
		if a.Match(c.pkg, c.test, c.msg) == nil {
			t.Errorf("%s %s %q: not allowed", c.pkg, c.test, c.msg)
		}
	}
	for _, c := range []struct{ pkg, test, msg string }{
		{"vmtest", "TestVM", "VM tests: qemu-system-x86_64 is not installed"}, // another reason
		{"vmtest", "TestVM/sub", "WGTOOLS_VMTEST=off"},                        // not the test named
		{"internal/vmtest", "TestVM", "WGTOOLS_VMTEST=off"},                   // not the package named
		{".", "TestX/case/deeper", "needs a tool"},                            // * stops at /
		{".", "TestX", "needs a tool"},
	} {
		if e := a.Match(c.pkg, c.test, c.msg); e != nil {
			t.Errorf("%s %s %q: allowed by line %d", c.pkg, c.test, c.msg, e.Line)
		}
	}
	for text, want := range map[string]string{
		"a | TestA | msg\n":                       "list:1: want PACKAGE | TEST | MESSAGE | REASON, got 3 fields",
		"a | TestA | msg | why | more\n":          "got 5 fields",
		"\na | TestA |  | why\n":                  "list:2: field 3 is empty",
		"a | Test[ | msg | why\n":                 "bad test pattern",
		"github.com/x/y | TestA | msg | why\n":    "give it relative to the module",
		"/internal/wgdev | TestA | msg | why\n":   "give it relative to the module",
		"internal/wgdev | TestA | msg | why\n# x": "",
	} {
		_, err := ParseAllowlist("list", text)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
}

// stream writes events as go test -json does.
func stream(t *testing.T, events ...Event) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return &b
}

func out(pkg, test, text string) Event {
	return Event{Action: "output", Package: pkg, Test: test, Output: text}
}

func end(action, pkg, test string) Event { return Event{Action: action, Package: pkg, Test: test} }

const mod = "example.com/m"

// TestReaderCounts: leaves are counted; a parent failing on its own
// counts once; a test with no end (the binary died) is a failure; only
// the output of failures and disallowed skips is shown.
func TestReaderCounts(t *testing.T) {
	p := mod + "/p"
	in := stream(t,
		Event{Action: "start", Package: p},
		end("run", p, "TestA"), out(p, "TestA", "=== RUN   TestA\n"), out(p, "TestA", "--- PASS: TestA (0.00s)\n"), end("pass", p, "TestA"),
		end("run", p, "TestB"), out(p, "TestB", "=== RUN   TestB\n"),
		end("run", p, "TestB/x"), out(p, "TestB/x", "=== RUN   TestB/x\n"), out(p, "TestB/x", "    b_test.go:3: needs wg\n"),
		out(p, "TestB/x", "--- SKIP: TestB/x (0.00s)\n"), end("skip", p, "TestB/x"),
		end("run", p, "TestB/y"), out(p, "TestB/y", "--- PASS: TestB/y (0.00s)\n"), end("pass", p, "TestB/y"),
		out(p, "TestB", "    b_test.go:9: the parent failed\n"), out(p, "TestB", "--- FAIL: TestB (0.00s)\n"), end("fail", p, "TestB"),
		end("run", p, "TestC"), out(p, "TestC", "=== RUN   TestC\n"), out(p, "TestC", "panic: boom\n"),
		out(p, "", "FAIL\tfoo\n"), Event{Action: "fail", Package: p},
		out(mod+"/q", "", "?   \texample.com/m/q\t[no test files]\n"), Event{Action: "skip", Package: mod + "/q"},
	)
	var w bytes.Buffer
	r := &Reader{Module: mod, Strict: true, Out: &w}
	if err := r.Read(in); err != nil {
		t.Fatal(err)
	}
	rep := r.Report()
	if len(rep.Packages) != 2 || rep.Packages[0].Path != "p" || !rep.Packages[1].NoTests {
		t.Fatalf("packages %+v", rep.Packages)
	}
	if c := rep.Packages[0].Counts; c != (Counts{Run: 5, Passed: 2, Failed: 2, Skipped: 1}) {
		t.Errorf("counts %+v, want TestA, TestB/y passed, TestB/x skipped, TestB and TestC failed", c)
	}
	shown := w.String()
	for _, want := range []string{"b_test.go:3: needs wg", "the parent failed", "--- FAIL: TestB", "FAIL\tfoo"} {
		if !strings.Contains(shown, want) {
			t.Errorf("shown output lacks %q:\n%s", want, shown)
		}
	}
	for _, notWant := range []string{"=== RUN", "--- PASS"} {
		if strings.Contains(shown, notWant) {
			t.Errorf("shown output has %q:\n%s", notWant, shown)
		}
	}
	var sum bytes.Buffer
	if rep.Print(&sum, true) {
		t.Errorf("the run passed:\n%s", sum.String())
	}
	for _, want := range []string{
		"p TestB/x: b_test.go:3: needs wg\n",
		"p TestC (did not finish)\n",
		"FAIL: 2 tests failed; 1 skip not on the allowed list\n",
	} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

// TestReaderNotJSON: lines that are not events (the go command's own
// messages) are passed on as they are.
func TestReaderNotJSON(t *testing.T) {
	var w bytes.Buffer
	r := &Reader{Out: &w}
	if err := r.Read(strings.NewReader("go: downloading x v1\n{\"Action\":\"output\",\"Package\":\"p\",\"Output\":\"ok  \\tp\\t0.1s\\n\"}\n")); err != nil {
		t.Fatal(err)
	}
	if w.String() != "go: downloading x v1\nok  \tp\t0.1s\n" {
		t.Errorf("%q", w.String())
	}
	if probs := r.Report().Problems(false); len(probs) != 1 || probs[0] != "no test ran" {
		t.Errorf("problems %q", probs)
	}
}
