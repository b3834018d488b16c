package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// wgBin is our wg, built once for the tests that run it as a process,
// stamped with testVersion.
var wgBin string

const testVersion = "v0.0.0-test"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wgtest-bin")
	if err != nil {
		panic(err)
	}
	wgBin = filepath.Join(dir, "wg")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/gowg/wgtools/internal/version.Version="+testVersion, "-o", wgBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wg:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// refDir holds the reference's captures (absolute: some tests change
// directory).
var refDir = absPath("../../testdata/reference/wg")

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

// goldenCase is one capture of the reference: the shell command, its
// environment, and what it printed.
type goldenCase struct {
	name, cmd, env, stdout, stderr string
	rc                             int
}

func loadCase(t *testing.T, name string) goldenCase {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join(refDir, name+".cmd"))
	if err != nil {
		t.Fatal(err)
	}
	c := goldenCase{name: name}
	hasRC := false
	for _, l := range strings.Split(string(meta), "\n") {
		if v, ok := strings.CutPrefix(l, "cmd: "); ok {
			c.cmd = v
		}
		if v, ok := strings.CutPrefix(l, "env: "); ok && v != "(none)" {
			c.env = v
		}
		if v, ok := strings.CutPrefix(l, "rc: "); ok {
			if _, err := fmt.Sscan(v, &c.rc); err != nil {
				t.Fatalf("%s.cmd: rc %q: %v", name, v, err)
			}
			hasRC = true
		}
	}
	if c.cmd == "" || !hasRC {
		t.Fatalf("%s.cmd has no cmd: or rc: line", name)
	}
	// Every capture has both files, empty where nothing was printed.
	out, err := os.ReadFile(filepath.Join(refDir, name+".stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errOut, err := os.ReadFile(filepath.Join(refDir, name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	c.stdout, c.stderr = string(out), string(errOut)
	return c
}

// runShell runs a captured command line with our wg first in PATH, in dir.
func runShell(t *testing.T, dir, cmdline, env string) (stdout, stderr string, rc int) {
	t.Helper()
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + filepath.Dir(wgBin) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, strings.Fields(env)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", cmdline, err)
	}
	return o.String(), e.String(), rc
}

// TestGoldenNoDevice replays the captured cases that need no interface:
// usage, version, help, key generation and pubkey.
func TestGoldenNoDevice(t *testing.T) {
	// Our --version names this project (version-long/-short/-word differ on
	// purpose); TestVersion checks it.
	var names []string
	for _, prefix := range []string{"help-", "invalid-subcommand", "usage-argv0", "version-extra", "genkey-", "genpsk-", "pubkey-"} {
		files, _ := filepath.Glob(filepath.Join(refDir, prefix+"*.cmd"))
		for _, f := range files {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".cmd"))
		}
	}
	if len(names) < 25 {
		t.Fatalf("only %d cases", len(names))
	}
	passed := 0
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c := loadCase(t, name)
			if strings.Contains(c.cmd, "python3") {
				if _, err := exec.LookPath("python3"); err != nil {
					t.Skip("python3 is not installed; this case checks key clamping with it")
				}
			}
			stdout, stderr, rc := runShell(t, t.TempDir(), c.cmd, c.env)
			if rc != c.rc || stdout != c.stdout || stderr != c.stderr {
				t.Errorf("%s\n rc %d, want %d\n stdout %q\n   want %q\n stderr %q\n   want %q", c.cmd, rc, c.rc, stdout, c.stdout, stderr, c.stderr)
				return
			}
			passed++
		})
	}
	t.Logf("%d passed, %d failed", passed, len(names)-passed)
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "-v", "version"} {
		stdout, stderr, rc := runShell(t, t.TempDir(), "wg "+arg, "")
		if rc != 0 || stderr != "" || !strings.HasPrefix(stdout, "wgtools ") || !strings.Contains(stdout, "wireguard-tools v1.0.20260223") {
			t.Errorf("wg %s: rc %d, stdout %q, stderr %q", arg, rc, stdout, stderr)
		}
	}
	_, stderr, rc := runShell(t, t.TempDir(), "wg --version extra", "")
	if rc != 1 || !strings.HasPrefix(stderr, "Invalid subcommand: `--version'\n") {
		t.Errorf("wg --version extra: rc %d, %q", rc, stderr)
	}
}

// TestPubkeyAgainstReference derives 1000 public keys with our wg and the
// reference wg where it is installed; without it, fixed vectors stand in.
func TestPubkeyAgainstReference(t *testing.T) {
	ref, err := exec.LookPath("wg")
	if err != nil || ref == wgBin {
		t.Skip("the reference wg is not installed; TestPubkeyVectors covers fixed keys")
	}
	var privs bytes.Buffer
	for i := 0; i < 1000; i++ {
		var k [32]byte
		if _, err := randRead(k[:]); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&privs, "%s\n", encodeKey(k))
	}
	script := `while read -r k; do printf '%s\n' "$k" | "$WG" pubkey; done`
	derive := func(bin string) string {
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = []string{"WG=" + bin}
		cmd.Stdin = bytes.NewReader(privs.Bytes())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s pubkey: %v", bin, err)
		}
		return string(out)
	}
	ours, theirs := derive(wgBin), derive(ref)
	if strings.Count(ours, "\n") != 1000 || ours != theirs {
		t.Fatalf("public keys differ from the reference's")
	}
}

func TestPubkeyVectors(t *testing.T) {
	for priv, pub := range map[string]string{
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=": "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
		"IA3aTT+u7rRWI2OP1MycDIhCFcDfKFIs14PiYwHiHHE=": "hovNQNxiBRgUQSLQSOVoRur7Nn7RFZuGK++FKdvMA3Q=",
		// an unclamped input: wg clamps before multiplying
		strings.Repeat("/", 42) + "8=": "",
	} {
		var out, errOut bytes.Buffer
		e := &env{prog: "wg", stdin: strings.NewReader(priv + "\n"), stdout: &out, stderr: &errOut, lookupEnv: func(string) (string, bool) { return "", false }}
		if rc := run(e, []string{"wg", "pubkey"}); rc != 0 {
			t.Fatalf("pubkey %s: rc %d %s", priv, rc, errOut.String())
		}
		if pub != "" && out.String() != pub+"\n" {
			t.Errorf("pubkey %s = %q, want %s", priv, out.String(), pub)
		}
	}
}

// TestGenkeyPrivateFile: a key written to a file others may read draws the
// reference's warning, and the file is then closed to others.
func TestGenkeyPrivateFile(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, rc := runShell(t, dir, "umask 022; wg genkey > k; stat -c %a k", "")
	if rc != 0 || stdout != "600\n" || !strings.HasPrefix(stderr, "Warning: writing to world accessible file.") {
		t.Fatalf("rc %d stdout %q stderr %q", rc, stdout, stderr)
	}
}
