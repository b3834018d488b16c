package dist

import (
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
	files := query("--list")
	want := []string{
		"/etc/wireguard", "/usr/bin/wg", "/usr/bin/wg-quick",
		"/usr/lib/systemd/system/wg-quick.target", "/usr/lib/systemd/system/wg-quick@.service",
		"/usr/share/bash-completion/completions/wg", "/usr/share/bash-completion/completions/wg-quick",
		"/usr/share/licenses/wgtools/LICENSE",
		"/usr/share/man/man8/wg-quick.8.gz", "/usr/share/man/man8/wg.8.gz",
	}
	if !slices.Equal(files, want) {
		t.Errorf("rpm -qlp:\n got %q\nwant %q", files, want)
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
