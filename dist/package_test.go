package dist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// debFiles is what the .deb installs, with where its content comes from
// in the source tree ("" for the binaries, compared with the build).
var debFiles = []struct{ path, mode, src string }{
	{"/usr/bin/wg", "-rwxr-xr-x", "bin/wg"},
	{"/usr/bin/wg-quick", "-rwxr-xr-x", "bin/wg-quick"},
	{"/usr/share/man/man8/wg.8.gz", "-rw-r--r--", "dist/man/wg.8"},
	{"/usr/share/man/man8/wg-quick.8.gz", "-rw-r--r--", "dist/man/wg-quick.8"},
	{"/usr/share/bash-completion/completions/wg", "-rw-r--r--", "dist/completion/wg.bash-completion"},
	{"/usr/share/bash-completion/completions/wg-quick", "-rw-r--r--", "dist/completion/wg-quick.bash-completion"},
	{"/lib/systemd/system/wg-quick@.service", "-rw-r--r--", "dist/systemd/wg-quick@.service.in"},
	{"/lib/systemd/system/wg-quick.target", "-rw-r--r--", "dist/systemd/wg-quick.target"},
	{"/lib/systemd/system/wg-quick-reresolve@.service", "-rw-r--r--", "dist/systemd/wg-quick-reresolve@.service.in"},
	{"/lib/systemd/system/wg-quick-reresolve@.timer", "-rw-r--r--", "dist/systemd/wg-quick-reresolve@.timer"},
	{"/usr/share/doc/wgtools/copyright", "-rw-r--r--", "LICENSE"},
	{"/etc/wireguard", "drwx------", ""},
}

var (
	debOnce sync.Once
	debDir  string
	debErr  string
)

// buildDeb runs `make deb SYSTEMDUNITDIR=/lib/systemd/system` (Debian 12's
// unit directory, the one of its wireguard-tools) once in the copy of the
// source tree, and returns the directory holding bin/wgtools.deb.
func buildDeb(t *testing.T) string {
	t.Helper()
	need(t, "make", "dpkg", "dpkg-deb")
	debOnce.Do(func() {
		cmd := exec.Command("make", "-s", "deb", "SYSTEMDUNITDIR=/lib/systemd/system", "VERSION="+testVersion)
		cmd.Dir = srcCopy
		for _, kv := range os.Environ() {
			if name, _, _ := strings.Cut(kv, "="); !slices.Contains(makeVars, name) {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			debErr = "make deb: " + err.Error() + "\n" + string(out)
			return
		}
		debDir = filepath.Join(srcCopy, "bin")
	})
	if debErr != "" {
		t.Fatal(debErr)
	}
	return debDir
}

// TestDebControl: the package replaces wireguard-tools and needs nothing.
func TestDebControl(t *testing.T) {
	dir := buildDeb(t)
	out := run(t, "", nil, "dpkg-deb", "-f", filepath.Join(dir, "wgtools.deb"))
	for _, want := range []string{
		"Package: wgtools\n",
		"Version: 0.0.0+disttest\n",
		"Provides: wireguard-tools (= 1.0.20260223)\n",
		"Replaces: wireguard-tools\n",
		"Conflicts: wireguard-tools\n",
		"Recommends: bash\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("control lacks %q:\n%s", want, out)
		}
	}
	for _, field := range []string{"Depends:", "Pre-Depends:"} {
		if strings.Contains(out, field) {
			t.Errorf("the package has run-time dependencies (%s):\n%s", field, out)
		}
	}
}

// checkInstalled compares every file of the package in the root with its
// source, and runs what a user would: wg --version, man -w, and
// systemd-analyze verify on the installed units.
func checkInstalled(t *testing.T, r *throwawayRoot) {
	t.Helper()
	for _, f := range debFiles {
		st, err := os.Lstat(r.path(f.path))
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
			continue
		}
		if st.Mode().String() != f.mode {
			t.Errorf("%s: mode %s, want %s", f.path, st.Mode(), f.mode)
		}
		if f.src == "" {
			continue
		}
		got, err := os.ReadFile(r.path(f.path))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(srcCopy, f.src))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(f.path, ".gz"):
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Errorf("%s: %v", f.path, err)
				continue
			}
			got, _ = io.ReadAll(zr)
		case strings.HasSuffix(f.src, ".in"):
			want = bytes.ReplaceAll(want, []byte("@BINDIR@"), []byte("/usr/bin"))
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", f.path, f.src)
		}
	}
	listed := strings.Fields(r.must("dpkg-query -L wgtools"))
	for _, f := range debFiles {
		if !slices.Contains(listed, f.path) {
			t.Errorf("dpkg -L wgtools does not list %s", f.path)
		}
	}
	if out := r.must("wg --version"); !strings.HasPrefix(out, "wgtools "+testVersion+" (wireguard-tools v1.0.20260223 compatible)") {
		t.Errorf("wg --version: %q", out)
	}
	if out := r.must("wg-quick --help 2>&1 || true"); !strings.Contains(out, "Usage: wg-quick [ up | down | save | strip ]") {
		t.Errorf("wg-quick --help: %q", out)
	}
	for page, want := range map[string]string{"wg": "/usr/share/man/man8/wg.8.gz", "wg-quick": "/usr/share/man/man8/wg-quick.8.gz"} {
		if out := strings.TrimSpace(r.must("man -w " + page)); out != want {
			t.Errorf("man -w %s: %q, want %q", page, out, want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		// Every unit of the package, the templates as instances.
		var units []string
		for _, f := range debFiles {
			if dir, name := filepath.Split(f.path); dir == "/lib/systemd/system/" {
				units = append(units, dir+strings.Replace(name, "@.", "@wg0.", 1))
			}
		}
		if len(units) != 4 {
			t.Errorf("units to verify: %q, want the four of the package", units)
		}
		out, code := r.run("systemd-analyze verify " + strings.Join(units, " ") + " 2>&1")
		if code != 0 || strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify on the installed units: exit %d\n%s", code, out)
		}
	} else {
		t.Error("systemd-analyze is not installed (.ci/run installs systemd)")
	}
}

// TestDebInstallRemove installs the .deb with dpkg -i into a throwaway
// root without wireguard-tools, checks every file, then purges it and
// finds nothing left: the root differs from before only in dpkg's own
// records.
func TestDebInstallRemove(t *testing.T) {
	dir := buildDeb(t)
	r := newThrowawayRoot(t, dir)
	r.must("if dpkg-query -W -f '${Status}' wireguard-tools 2>/dev/null | grep -q installed; then dpkg --purge wireguard-tools; fi")
	for _, f := range debFiles {
		if f.path == "/etc/wireguard" {
			continue // the machine's own may be there (it holds users' configs)
		}
		if _, err := os.Lstat(r.path(f.path)); err == nil {
			t.Fatalf("%s exists before the install", f.path)
		}
	}
	before := r.changes()
	out := r.must("dpkg -i /pkg/wgtools.deb 2>&1")
	t.Logf("dpkg -i:\n%s", out)
	checkInstalled(t, r)
	r.must("dpkg --purge wgtools 2>&1")
	for _, f := range debFiles {
		if _, err := os.Lstat(r.path(f.path)); err == nil {
			t.Errorf("%s is left after dpkg --purge", f.path)
		}
	}
	if d := leftovers(before, r.changes()); len(d) > 0 {
		t.Errorf("install and purge left the root changed:\n%s", strings.Join(d, "\n"))
	}
	// The comparison has teeth: a file left in /usr/share is seen.
	r.must("touch /usr/share/wgtools-leftover")
	if d := leftovers(before, r.changes()); len(d) != 1 || !strings.Contains(d[0], "/usr/share/wgtools-leftover") {
		t.Errorf("a leftover file was not reported: %q", d)
	}
}

// referenceDeb is Debian's wireguard-tools package, fetched with apt-get
// download into a cache (once); the test fails without it.
func referenceDeb(t *testing.T) string {
	t.Helper()
	need(t, "apt-get")
	cache := filepath.Join(os.Getenv("HOME"), ".cache", "wgtools-pkgtest")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "wireguard-tools_*.deb")); len(m) > 0 {
		return m[len(m)-1]
	}
	cmd := exec.Command("apt-get", "download", "wireguard-tools")
	cmd.Dir = cache
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get download wireguard-tools (the reference package this test installs): %v\n%s", err, out)
	}
	m, _ := filepath.Glob(filepath.Join(cache, "wireguard-tools_*.deb"))
	if len(m) == 0 {
		t.Fatal("apt-get download wireguard-tools gave no .deb")
	}
	return m[len(m)-1]
}

// TestDebReplacesReference installs our package over Debian's
// wireguard-tools with dpkg -i (which removes it: Conflicts + Replaces),
// checks that every file of ours is in place, then goes back (dpkg --purge
// wgtools, dpkg -i of the reference's .deb) and checks that the
// reference's files are its own again and nothing of ours is left.
func TestDebReplacesReference(t *testing.T) {
	dir := buildDeb(t)
	ref := referenceDeb(t)
	pkgdir := t.TempDir()
	for _, src := range []string{filepath.Join(dir, "wgtools.deb"), ref} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkgdir, filepath.Base(src)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	refName := "/pkg/" + filepath.Base(ref)
	r := newThrowawayRoot(t, pkgdir)
	r.must("dpkg -i " + refName + " 2>&1")
	refFiles := strings.Fields(r.must("dpkg-query -L wireguard-tools"))
	refState := map[string]string{}
	for _, f := range refFiles {
		refState[f] = describe(t, r.path(f))
	}
	if out := r.must("wg --version"); !strings.HasPrefix(out, "wireguard-tools v") {
		t.Fatalf("the reference's wg --version: %q", out)
	}
	before := r.changes()

	out := r.must("dpkg -i /pkg/wgtools.deb 2>&1")
	if !strings.Contains(out, "wireguard-tools") {
		t.Errorf("dpkg -i did not say it removes wireguard-tools:\n%s", out)
	}
	if st, _ := r.run("dpkg-query -W -f '${Status}' wireguard-tools"); strings.Contains(st, "ok installed") {
		t.Errorf("wireguard-tools is still installed: %s", st)
	}
	checkInstalled(t, r)
	if owner := r.must("dpkg -S /usr/bin/wg-quick"); !strings.HasPrefix(owner, "wgtools:") {
		t.Errorf("dpkg -S /usr/bin/wg-quick: %q", owner)
	}

	out = r.must("dpkg --purge wgtools 2>&1 && dpkg -i " + refName + " 2>&1")
	t.Logf("back to the reference:\n%s", out)
	if st, _ := r.run("dpkg-query -W -f '${Status}' wgtools"); strings.Contains(st, "ok installed") {
		t.Errorf("wgtools is still installed after going back: %s", st)
	}
	for _, f := range refFiles {
		if got := describe(t, r.path(f)); got != refState[f] {
			t.Errorf("%s: %s after going back, was %s", f, got, refState[f])
		}
	}
	if out := r.must("wg --version"); !strings.HasPrefix(out, "wireguard-tools v") {
		t.Errorf("wg --version after going back: %q", out)
	}
	if _, err := os.Lstat(r.path("/usr/share/doc/wgtools")); err == nil {
		t.Error("/usr/share/doc/wgtools is left")
	}
	if d := leftovers(before, r.changes()); len(d) > 0 {
		t.Errorf("there and back left the root changed:\n%s", strings.Join(d, "\n"))
	}
}

// describe is a path's type, mode and content (for regular files).
func describe(t *testing.T, p string) string {
	st, err := os.Lstat(p)
	if err != nil {
		return "missing"
	}
	if !st.Mode().IsRegular() {
		return st.Mode().String()
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s %x", st.Mode(), sha256.Sum256(data))
}
