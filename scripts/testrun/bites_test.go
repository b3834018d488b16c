package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// TestStrictBites runs the real tests strictly in a scratch mount
// namespace where tools the tests need are hidden (an empty,
// non-executable file bind-mounted over /usr/bin/python3 and /usr/bin/wg,
// as if their packages had failed to install): the run fails and names
// each skip, a whole test's and a subtest's. The same tests with the
// tools in place pass, so the failure is the hidden tools' doing.
func TestStrictBites(t *testing.T) {
	testnet.Require(t) // root, for the mount namespace
	for _, p := range []string{"/usr/bin/python3", "/usr/bin/wg"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s: %v (.ci/run installs it; without it there is nothing to hide)", p, err)
		}
	}
	bin := filepath.Join(t.TempDir(), "testrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	// A plain PATH: no other copy of a hidden tool (a pyenv shim) is found.
	env := append(os.Environ(), "PATH="+filepath.Dir(goTool)+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	// hide is the commands' prefix: a private mount namespace in which
	// each named file is covered by /dev/null (mode 0666: not a program).
	run := func(hide []string, args ...string) (int, string) {
		script := ""
		for _, p := range hide {
			script += "mount --bind /dev/null " + p + " && "
		}
		cmd := exec.Command("unshare", append([]string{"-m", "--propagation", "private", "sh", "-c", script + `exec "$0" "$@"`, bin}, args...)...)
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		t.Logf("hiding %v: testrun %s: exit %d\n%s", hide, strings.Join(args, " "), code, out)
		return code, string(out)
	}

	code, out := run(nil, "-strict", "--", "-count=1", "-run", "^TestGoldenNoDevice$", "./cmd/wg")
	if code != 0 || !strings.Contains(out, "PASS (strict)") {
		t.Fatalf("with every tool there: exit %d, want 0", code)
	}
	code, out = run([]string{"/usr/bin/python3", "/usr/bin/wg"}, "-strict", "--", "-count=1", "-run", "^(TestGoldenNoDevice|TestPubkeyAgainstReference)$", "./cmd/wg")
	if code != 1 {
		t.Errorf("python3 and wg hidden: exit %d, want 1", code)
	}
	for _, want := range []string{
		"=== skipped, not on the allowed list; strict: each is a failure (2)",
		"cmd/wg TestGoldenNoDevice/genkey-clamped: main_test.go:",
		"python3 is not installed",
		"cmd/wg TestPubkeyAgainstReference: main_test.go:",
		"the reference wg is not installed",
		"FAIL: 2 skips not on the allowed list",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("python3 and wg hidden: the output lacks %q", want)
		}
	}
	// The machine's own files are untouched: the mounts were the
	// namespace's.
	for _, p := range []string{"/usr/bin/python3", "/usr/bin/wg"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Errorf("%s after the test: %v", p, err)
		}
	}
}
