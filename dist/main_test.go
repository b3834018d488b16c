package dist

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// What TestMain prepares for every test: our two commands built with a
// plain `go build` (no make, no generated files, as `go install` builds
// them), and a copy of the source tree for the tests that run make in it,
// so that they never write into the working tree.
var (
	wgBin, wgQuickBin string
	srcCopy           string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "wgtools-dist")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(tmp)
	wgBin = filepath.Join(tmp, "bin", "wg")
	wgQuickBin = filepath.Join(tmp, "bin", "wg-quick")
	for bin, pkg := range map[string]string{wgBin: "../cmd/wg", wgQuickBin: "../cmd/wg-quick"} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			return 2
		}
	}
	srcCopy = filepath.Join(tmp, "src")
	if err := copySource("..", srcCopy); err != nil {
		fmt.Fprintln(os.Stderr, "copying the source tree:", err)
		return 2
	}
	return m.Run()
}

// sourceFiles lists the module's files (relative, slash-separated): what
// a module zip holds. Build output, caches, git's own files and nested
// modules are left out.
func sourceFiles(root string) ([]string, error) {
	return walkSource(root, false)
}

// walkSource lists root's files as sourceFiles does; with nested, the
// directories holding a module of their own (tools/, which make deb,
// rpm and image build from) are listed too.
func walkSource(root string, nested bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch rel {
			case ".git", "bin", ".cache":
				return filepath.SkipDir
			}
			// A directory with its own go.mod (a test fixture) is
			// another module, not part of this one's zip.
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && rel != "." && !nested {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(rel, ".test") {
			return nil
		}
		files = append(files, rel)
		return nil
	})
	return files, err
}

func copySource(from, to string) error {
	files, err := walkSource(from, true)
	if err != nil {
		return err
	}
	for _, rel := range files {
		src := filepath.Join(from, filepath.FromSlash(rel))
		dst := filepath.Join(to, filepath.FromSlash(rel))
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// need skips t, saying why, when a program is missing.
func need(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed (.ci/run installs it)", p)
		}
	}
}

// run runs a command and fails the test unless it succeeds; it returns
// standard output.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// makeVars are the variables the install rules read: a test states each
// one it wants, so none may come from the environment (nor from a make
// that runs the tests).
var makeVars = []string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PREFIX", "DESTDIR", "BINDIR",
	"SYSCONFDIR", "MANDIR", "BASHCOMPDIR", "SYSTEMDUNITDIR", "WITH_WGQUICK", "WITH_BASHCOMPLETION",
	"WITH_SYSTEMDUNITS", "VERSION", "DIST", "GO"}

// runMake runs make in the copy of the source tree with the given
// arguments and nothing from the environment that the Makefile reads.
func runMake(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s"}, args...)...)
	cmd.Dir = srcCopy
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(makeVars, name) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("make %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// checkStatic fails t unless path is a statically linked ELF executable.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			r := io.NewSectionReader(p, 0, int64(p.Filesz))
			interp, _ := io.ReadAll(r)
			t.Errorf("%s is dynamically linked (interpreter %s)", path, bytes.TrimRight(interp, "\x00"))
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", path, libs)
	}
}
