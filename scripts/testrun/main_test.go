package main

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testrun"
)

// fixtureDir is testdata/fixture, found before any test changes directory.
var fixtureDir, _ = filepath.Abs("testdata/fixture")

// runFixture runs testrun on testdata/fixture (a module of its own whose
// tests pass, skip or fail as the FIXTURE_* variables say) and returns
// its exit status and output.
func runFixture(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	t.Chdir(fixtureDir)
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "")
	for _, k := range []string{"FIXTURE_TOOL", "FIXTURE_VM", "FIXTURE_FAIL", "FIXTURE_FAIL_PARENT", "FIXTURE_EXIT", "FIXTURE_ROOT"} {
		t.Setenv(k, env[k])
	}
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"-allow", "allowed.txt"}, args...), &stdout, &stderr)
	out := stdout.String() + stderr.String()
	t.Logf("testrun %s: exit %d\n%s", strings.Join(args, " "), code, out)
	return code, out
}

// row finds the summary's row of a package: run, passed, failed,
// skipped, allowed.
func row(t *testing.T, out, pkg string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(pkg) + ` +(\d+ +\d+ +\d+ +\d+ +\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary row for %s in:\n%s", pkg, out)
	}
	return strings.Join(strings.Fields(m[1]), " ")
}

func wantIn(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

func wantNotIn(t *testing.T, out string, notWant ...string) {
	t.Helper()
	for _, w := range notWant {
		if strings.Contains(out, w) {
			t.Errorf("output has %q", w)
		}
	}
}

// TestRunStrictPasses: with the tool there, the one skip left is on the
// allowed list; the run passes and counts every test (subtests counted
// through their cases).
func TestRunStrictPasses(t *testing.T) {
	code, out := runFixture(t, map[string]string{"FIXTURE_TOOL": "sh"}, "-strict", "--", "-count=1", "./...")
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	// TestPass, TestTool, TestCases/{a,b,c}, TestVMOff, TestFail,
	// TestFailParent/ok, TestExit: 9, one skipped (allowed).
	if got := row(t, out, "."); got != "9 8 0 1 1" {
		t.Errorf(". row: %s, want 9 run, 8 passed, 0 failed, 1 skipped, 1 allowed", got)
	}
	if got := row(t, out, "sub"); got != "1 1 0 0 0" {
		t.Errorf("sub row: %s", got)
	}
	if got := row(t, out, "total"); got != "10 9 0 1 1" {
		t.Errorf("total row: %s", got)
	}
	wantIn(t, out, "allowed (list line 2): make vmtest runs them\n    . TestVMOff: fixture_test.go:34: VM tests: WGTOOLS_VMTEST=off\n", "PASS (strict)")
	wantNotIn(t, out, "=== RUN", "--- PASS")
}

// TestRunStrictFailsOnSkip: without the tool, its tests skip; strict
// fails naming each skip (a test and a subtest) with its message, and
// prints their output as go test prints a failure's.
func TestRunStrictFailsOnSkip(t *testing.T) {
	code, out := runFixture(t, map[string]string{"FIXTURE_ROOT": "1"}, "-strict", "--", "-count=1", "./...")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	wantIn(t, out,
		"=== skipped, not on the allowed list; strict: each is a failure (3)",
		". TestTool: fixture_test.go:16: fixture-tool is not installed",
		". TestCases/c: fixture_test.go:25: case c needs the tool",
		"sub TestSub: sub_test.go:10: system test: needs root",
		"--- SKIP: TestTool",
		"FAIL: 3 skips not on the allowed list")
	if got := row(t, out, "total"); got != "10 6 0 4 1" {
		t.Errorf("total row: %s", got)
	}
}

// TestRunLenient: without -strict the same run passes, and still lists
// every skip.
func TestRunLenient(t *testing.T) {
	code, out := runFixture(t, nil, "--", "-count=1", "./...")
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	wantIn(t, out, "=== skipped, not on the allowed list (2)", ". TestTool: ", ". TestCases/c: ", "\nPASS\n")
}

// TestRunOtherReason: an allowed test skipping for another reason than
// the list gives is not allowed.
func TestRunOtherReason(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list")
	os.WriteFile(list, []byte(". | TestTool | some other reason | not this one\n. | TestCases/* | needs the tool | c needs it\n. | TestVMOff | WGTOOLS_VMTEST | ok\n"), 0o644)
	code, out := runFixture(t, nil, "-strict", "-allow", list, "--", "-count=1", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	wantIn(t, out, "=== skipped, not on the allowed list; strict: each is a failure (1)", ". TestTool: ",
		"=== skipped, on the allowed list (2)", "allowed (list line 2): c needs it\n    . TestCases/c: fixture_test.go:25: case c needs the tool\n")
}

// TestRunFailure: a failed test fails the run, with its output.
func TestRunFailure(t *testing.T) {
	code, out := runFixture(t, map[string]string{"FIXTURE_TOOL": "sh", "FIXTURE_FAIL": "boom"}, "-strict", "--", "-count=1", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	wantIn(t, out, "--- FAIL: TestFail", "it failed: boom", "=== failed (1)\n. TestFail\n", "FAIL: 1 test failed")
	if got := row(t, out, "."); got != "9 7 1 1 1" {
		t.Errorf(". row: %s", got)
	}
}

// TestRunParentFailure: a parent failing after its subtests passed
// counts as a failure.
func TestRunParentFailure(t *testing.T) {
	code, out := runFixture(t, map[string]string{"FIXTURE_TOOL": "sh", "FIXTURE_FAIL_PARENT": "1"}, "-strict", "--", "-count=1", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	wantIn(t, out, "the parent failed", ". TestFailParent\n", "FAIL: 1 test failed")
}

// TestRunExit: a test binary that exits in the middle of a test fails
// the run, the test named as unfinished.
func TestRunExit(t *testing.T) {
	code, out := runFixture(t, map[string]string{"FIXTURE_TOOL": "sh", "FIXTURE_EXIT": "1"}, "-strict", "--", "-count=1", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	wantIn(t, out, ". TestExit", "FAIL: ")
}

// TestRunBuildFailure: a package that does not build fails the run.
func TestRunBuildFailure(t *testing.T) {
	code, out := runFixture(t, map[string]string{"FIXTURE_TOOL": "sh"}, "-strict", "--", "-count=1", "-tags", "fixture_broken", "./...")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	wantIn(t, out, "undefined", ". did not build")
}

// TestRunNothing: a run in which no test ran fails: it checked nothing.
func TestRunNothing(t *testing.T) {
	code, out := runFixture(t, nil, "-strict", "--", "-count=1", "-run", "^NoSuchTest$", "./...")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	wantIn(t, out, "FAIL: no test ran")
}

// TestRunVerbose: -v prints every line as it comes, as go test -v.
func TestRunVerbose(t *testing.T) {
	code, out := runFixture(t, map[string]string{"FIXTURE_TOOL": "sh"}, "-strict", "-v", "--", "-count=1", ".")
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	wantIn(t, out, "=== RUN   TestCases/b", "--- PASS: TestPass")
}

// TestRunUsage: a bad list or flag is a usage error.
func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list")
	os.WriteFile(list, []byte(". | TestX | message\n"), 0o644)
	var out bytes.Buffer
	if code := run([]string{"-allow", list, "./..."}, &out, &out); code != 2 || !strings.Contains(out.String(), "list:1: want PACKAGE | TEST | MESSAGE | REASON") {
		t.Errorf("exit %d, %s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"-nosuchflag"}, &out, &out); code != 2 {
		t.Errorf("exit %d, %s", code, out.String())
	}
}

// TestAllowedSkipsList: the built-in list parses, is short, and every
// entry names a package of the module and tests that exist in it, so that
// an entry cannot outlive the test it allowed.
func TestAllowedSkipsList(t *testing.T) {
	allow, err := testrun.ParseAllowlist("allowed-skips.txt", allowedSkips)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(allow.Entries); n == 0 || n > 10 {
		t.Errorf("%d entries: the list is meant to be short", n)
	}
	testFunc := regexp.MustCompile(`(?m)^func (Test\w*)\(t \*testing\.T\)`)
	for _, e := range allow.Entries {
		files, err := filepath.Glob(filepath.Join("../..", e.Package, "*_test.go"))
		if err != nil || len(files) == 0 {
			t.Errorf("line %d: no test files in %s (%v)", e.Line, e.Package, err)
			continue
		}
		top, _, _ := strings.Cut(e.Test, "/")
		matched := 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range testFunc.FindAllStringSubmatch(string(data), -1) {
				if ok, _ := path.Match(top, m[1]); ok {
					matched++
				}
			}
		}
		if matched == 0 {
			t.Errorf("line %d: %s has no test matching %s", e.Line, e.Package, e.Test)
		}
	}
}

// TestRunSaveAndSummarize: two runs saved with -save make one summary
// with -from, the later run's result counting for a test in both (as the
// VM tests, skipped in the unit pass, then run).
func TestRunSaveAndSummarize(t *testing.T) {
	dir := t.TempDir()
	unit, vm := filepath.Join(dir, "unit.json"), filepath.Join(dir, "vm.json")
	if code, _ := runFixture(t, nil, "-strict", "-save", unit, "--", "-count=1", "./..."); code != 1 {
		t.Fatalf("unit pass: exit %d, want 1 (the tool is missing)", code)
	}
	if code, _ := runFixture(t, map[string]string{"FIXTURE_TOOL": "sh", "FIXTURE_VM": "on"}, "-strict", "-save", vm, "--", "-count=1", "-run", "^(TestVMOff|TestTool)$", "."); code != 0 {
		t.Fatalf("second pass: exit %d", code)
	}
	code, out := runFixture(t, nil, "-strict", "-from", unit, "-from", vm)
	if code != 1 {
		t.Errorf("summary: exit %d, want 1 (the unit pass's TestCases/c skip)", code)
	}
	if got := row(t, out, "."); got != "9 8 0 1 0" {
		t.Errorf(". row: %s, want TestVMOff and TestTool passed in the second run, TestCases/c skipped", got)
	}
	wantIn(t, out, ". TestCases/c: ", "FAIL: 1 skip not on the allowed list")
	wantNotIn(t, out, "--- SKIP", ". TestVMOff: ", ". TestTool: ")
}
