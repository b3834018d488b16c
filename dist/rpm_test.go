package dist

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	rpmOnce sync.Once
	rpmErr  string
)

// TestRPM: `make rpm` gives the same files at Fedora's paths (units in
// /usr/lib/systemd/system), provides wireguard-tools at the version we
// match, obsoletes and conflicts with it, and requires nothing. rpm reads
// it (Debian's rpm package; no rpm database is touched).
func TestRPM(t *testing.T) {
	need(t, "make", "rpm")
	rpmOnce.Do(func() {
		cmd := exec.Command("make", "-s", "rpm", "VERSION="+testVersion)
		cmd.Dir = srcCopy
		for _, kv := range os.Environ() {
			if name, _, _ := strings.Cut(kv, "="); !slices.Contains(makeVars, name) {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			rpmErr = "make rpm: " + err.Error() + "\n" + string(out)
		}
	})
	if rpmErr != "" {
		t.Fatal(rpmErr)
	}
	pkg := filepath.Join(srcCopy, "bin", "wgtools.rpm")
	query := func(tag string) []string {
		out := run(t, "", nil, "rpm", "-qp", "--nosignature", tag, pkg)
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	// Every file with its mode, and the content of those that are not
	// compressed (the binaries, units, completion, license) by digest:
	// rpm --dump lists path size mtime sha256 mode owner group ...
	want := map[string]struct{ mode, src string }{
		"/etc/wireguard":    {"040700", ""},
		"/usr/bin/wg":       {"0100755", "bin/wg"},
		"/usr/bin/wg-quick": {"0100755", "bin/wg-quick"},
		"/usr/lib/systemd/system/wg-quick.target":             {"0100644", "dist/systemd/wg-quick.target"},
		"/usr/lib/systemd/system/wg-quick@.service":           {"0100644", "dist/systemd/wg-quick@.service.in"},
		"/usr/lib/systemd/system/wg-quick-reresolve@.service": {"0100644", "dist/systemd/wg-quick-reresolve@.service.in"},
		"/usr/lib/systemd/system/wg-quick-reresolve@.timer":   {"0100644", "dist/systemd/wg-quick-reresolve@.timer"},
		"/usr/share/bash-completion/completions/wg":           {"0100644", "dist/completion/wg.bash-completion"},
		"/usr/share/bash-completion/completions/wg-quick":     {"0100644", "dist/completion/wg-quick.bash-completion"},
		"/usr/share/licenses/wgtools/LICENSE":                 {"0100644", "LICENSE"},
		"/usr/share/man/man8/wg-quick.8.gz":                   {"0100644", ""},
		"/usr/share/man/man8/wg.8.gz":                         {"0100644", ""},
	}
	seen := map[string]bool{}
	for _, line := range query("--dump") {
		f := strings.Fields(line)
		if len(f) < 5 {
			t.Errorf("rpm --dump line %q", line)
			continue
		}
		path, digest, mode := f[0], f[3], f[4]
		seen[path] = true
		w, ok := want[path]
		if !ok {
			t.Errorf("the rpm has %s, not expected", path)
			continue
		}
		if mode != w.mode {
			t.Errorf("%s: mode %s, want %s", path, mode, w.mode)
		}
		if w.src == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(srcCopy, w.src))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(w.src, ".in") {
			data = bytes.ReplaceAll(data, []byte("@BINDIR@"), []byte("/usr/bin"))
		}
		if d := fmt.Sprintf("%x", sha256.Sum256(data)); digest != d {
			t.Errorf("%s: sha256 %s, want %s (of %s)", path, digest, d, w.src)
		}
	}
	for path := range want {
		if !seen[path] {
			t.Errorf("the rpm lacks %s", path)
		}
	}
	if got := query("--provides"); !slices.Contains(got, "wireguard-tools = 1.0.20260223") {
		t.Errorf("provides %q", got)
	}
	for _, tag := range []string{"--conflicts", "--obsoletes"} {
		if got := query(tag); !slices.Equal(got, []string{"wireguard-tools"}) {
			t.Errorf("%s: %q", tag, got)
		}
	}
	for _, r := range query("--requires") {
		if r != "" && !strings.HasPrefix(r, "rpmlib(") && r != "/bin/sh" {
			t.Errorf("requires %q at run time", r)
		}
	}
	if got := query("--recommends"); !slices.Equal(got, []string{"bash"}) {
		t.Errorf("recommends %q", got)
	}
	if v := query("--queryformat=%{VERSION}"); v[0] != "0.0.0+disttest" {
		t.Errorf("version %q", v)
	}
}
