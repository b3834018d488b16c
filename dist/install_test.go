package dist

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const (
	module      = "github.com/gowg/wgtools"
	testVersion = "v0.0.0-disttest"
)

// entry is one thing an install left: a file or directory and its mode.
type entry struct {
	dir  bool
	perm fs.FileMode
}

func (e entry) String() string {
	if e.dir {
		return fmt.Sprintf("dir %04o", e.perm)
	}
	return fmt.Sprintf("file %04o", e.perm)
}

// tree lists everything under root (root itself left out), by path
// relative to root.
func tree(t *testing.T, root string) map[string]entry {
	t.Helper()
	got := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && !info.IsDir() {
			t.Errorf("%s: neither file nor directory (%v)", p, info.Mode())
		}
		rel, _ := filepath.Rel(root, p)
		got[filepath.ToSlash(rel)] = entry{dir: info.IsDir(), perm: info.Mode().Perm()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// defaultUnitDir is SYSTEMDUNITDIR's default, as wireguard-tools' Makefile
// makes it: systemd's pkg-config variable, else PREFIX/lib/systemd/system.
func defaultUnitDir(prefix string) string {
	out, err := exec.Command("pkg-config", "--variable=systemdsystemunitdir", "systemd").Output()
	if dir := strings.TrimSpace(string(out)); err == nil && dir != "" {
		return dir
	}
	return prefix + "/lib/systemd/system"
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// installCase is one `make install` and what it must leave in DESTDIR.
type installCase struct {
	name string
	vars []string
	// files: path under DESTDIR → mode; "" source means no content check.
	files  map[string]fs.FileMode
	dirs   map[string]fs.FileMode // directories whose mode matters
	bindir string
	unit   string // where wg-quick@.service goes ("" = not installed)
}

func installCases() []installCase {
	unitDir := strings.TrimPrefix(defaultUnitDir("/usr"), "/")
	defaults := installCase{
		name: "defaults",
		vars: []string{"PREFIX=/usr"},
		files: map[string]fs.FileMode{
			"usr/bin/wg":                    0o755,
			"usr/bin/wg-quick":              0o755,
			"usr/share/man/man8/wg.8":       0o644,
			"usr/share/man/man8/wg-quick.8": 0o644,
		},
		dirs:   map[string]fs.FileMode{"etc/wireguard": 0o700},
		bindir: "/usr/bin",
	}
	// As the reference decides: completion where its directory exists,
	// units where theirs does, on the machine installing.
	if isDir("/usr/share/bash-completion/completions") {
		defaults.files["usr/share/bash-completion/completions/wg"] = 0o644
		defaults.files["usr/share/bash-completion/completions/wg-quick"] = 0o644
	}
	if isDir("/" + unitDir) {
		defaults.files[unitDir+"/wg-quick@.service"] = 0o644
		defaults.files[unitDir+"/wg-quick.target"] = 0o644
		defaults.files[unitDir+"/wg-quick-reresolve@.service"] = 0o644
		defaults.files[unitDir+"/wg-quick-reresolve@.timer"] = 0o644
		defaults.unit = unitDir + "/wg-quick@.service"
	}
	return []installCase{
		defaults,
		{
			name: "everything-elsewhere",
			vars: []string{"PREFIX=/opt/wgtools", "BINDIR=/opt/wgtools/sbin", "MANDIR=/opt/wgtools/man",
				"SYSCONFDIR=/opt/wgtools/etc", "BASHCOMPDIR=/etc/bash_completion.d", "SYSTEMDUNITDIR=/etc/systemd/system",
				"WITH_BASHCOMPLETION=yes", "WITH_SYSTEMDUNITS=yes", "WITH_WGQUICK=yes"},
			files: map[string]fs.FileMode{
				"opt/wgtools/sbin/wg":                            0o755,
				"opt/wgtools/sbin/wg-quick":                      0o755,
				"opt/wgtools/man/man8/wg.8":                      0o644,
				"opt/wgtools/man/man8/wg-quick.8":                0o644,
				"etc/bash_completion.d/wg":                       0o644,
				"etc/bash_completion.d/wg-quick":                 0o644,
				"etc/systemd/system/wg-quick@.service":           0o644,
				"etc/systemd/system/wg-quick.target":             0o644,
				"etc/systemd/system/wg-quick-reresolve@.service": 0o644,
				"etc/systemd/system/wg-quick-reresolve@.timer":   0o644,
			},
			dirs:   map[string]fs.FileMode{"opt/wgtools/etc/wireguard": 0o700},
			bindir: "/opt/wgtools/sbin",
			unit:   "etc/systemd/system/wg-quick@.service",
		},
		{
			name: "wg-only",
			vars: []string{"PREFIX=/usr", "WITH_WGQUICK=no", "WITH_BASHCOMPLETION=yes", "WITH_SYSTEMDUNITS=yes"},
			files: map[string]fs.FileMode{
				"usr/bin/wg":                               0o755,
				"usr/share/man/man8/wg.8":                  0o644,
				"usr/share/bash-completion/completions/wg": 0o644,
			},
			bindir: "/usr/bin",
		},
		{
			name: "no-extras",
			vars: []string{"PREFIX=/usr", "WITH_BASHCOMPLETION=no", "WITH_SYSTEMDUNITS=no"},
			files: map[string]fs.FileMode{
				"usr/bin/wg":                    0o755,
				"usr/bin/wg-quick":              0o755,
				"usr/share/man/man8/wg.8":       0o644,
				"usr/share/man/man8/wg-quick.8": 0o644,
			},
			dirs:   map[string]fs.FileMode{"etc/wireguard": 0o700},
			bindir: "/usr/bin",
		},
	}
}

// source says which file of the tree an installed file is a copy of.
func source(installed string) string {
	base := path.Base(installed)
	switch {
	case strings.HasSuffix(base, ".8"):
		return "dist/man/" + base
	case strings.Contains(installed, "completion"):
		return "dist/completion/" + base + ".bash-completion"
	case base == "wg-quick.target", base == "wg-quick-reresolve@.timer":
		return "dist/systemd/" + base
	}
	return ""
}

// TestInstallUninstall runs `make install` into a temporary DESTDIR for
// each set of variables, checks every file, directory and mode it left,
// then runs `make uninstall` with the same variables and checks that
// nothing is left.
func TestInstallUninstall(t *testing.T) {
	need(t, "make", "install", "sed")
	for _, c := range installCases() {
		t.Run(c.name, func(t *testing.T) {
			destdir := t.TempDir()
			vars := append([]string{"DESTDIR=" + destdir, "VERSION=" + testVersion}, c.vars...)
			runMake(t, append([]string{"install"}, vars...)...)

			got := tree(t, destdir)
			want := map[string]bool{}
			for p, mode := range c.files {
				want[p] = true
				if e, ok := got[p]; !ok || e.dir || e.perm != mode {
					t.Errorf("%s: got %v, want file %04o", p, got[p], mode)
				}
			}
			for p, mode := range c.dirs {
				want[p] = true
				if e, ok := got[p]; !ok || !e.dir || e.perm != mode {
					t.Errorf("%s: got %v, want dir %04o", p, got[p], mode)
				}
			}
			var extra []string
			for p, e := range got {
				if want[p] {
					continue
				}
				// Any other directory must lead to something wanted and be
				// writable only by its owner.
				leads := false
				for w := range want {
					leads = leads || strings.HasPrefix(w, p+"/")
				}
				if !e.dir || !leads || e.perm&0o022 != 0 {
					extra = append(extra, fmt.Sprintf("%s (%v)", p, e))
				}
			}
			sort.Strings(extra)
			if len(extra) > 0 {
				t.Errorf("install left what it should not:\n%s", strings.Join(extra, "\n"))
			}

			for p := range c.files {
				installed := filepath.Join(destdir, p)
				switch base := path.Base(p); {
				case base == "wg" && strings.Contains(p, "bin/"), base == "wg-quick" && strings.Contains(p, "bin/"):
					checkStatic(t, installed)
					if base == "wg" {
						out := run(t, "", nil, installed, "--version")
						want := "wgtools " + testVersion + " (wireguard-tools v1.0.20260223 compatible) - https://github.com/gowg/wgtools\n"
						if out != want {
							t.Errorf("%s --version: got %q, want %q", p, out, want)
						}
					}
				case base == "wg-quick@.service", base == "wg-quick-reresolve@.service":
					checkUnit(t, installed, base, c.bindir)
				default:
					if src := source(p); src != "" {
						sameContent(t, installed, filepath.Join("..", src))
					}
				}
			}

			runMake(t, append([]string{"uninstall"}, vars...)...)
			if left := tree(t, destdir); len(left) > 0 {
				t.Errorf("uninstall left %v", left)
			}
		})
	}
}

// TestUninstallKeepsConfigs: a configuration in /etc/wireguard survives
// `make uninstall`, and so does the directory that holds it.
func TestUninstallKeepsConfigs(t *testing.T) {
	need(t, "make", "install", "sed")
	destdir := t.TempDir()
	vars := []string{"DESTDIR=" + destdir, "PREFIX=/usr", "VERSION=" + testVersion}
	runMake(t, append([]string{"install"}, vars...)...)
	conf := filepath.Join(destdir, "etc/wireguard/wg0.conf")
	if err := os.WriteFile(conf, []byte("[Interface]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runMake(t, append([]string{"uninstall"}, vars...)...)
	got := tree(t, destdir)
	want := map[string]entry{
		"etc":                    {dir: true, perm: got["etc"].perm},
		"etc/wireguard":          {dir: true, perm: 0o700},
		"etc/wireguard/wg0.conf": {perm: 0o600},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after uninstall: got %v, want %v", got, want)
	}
}

func sameContent(t *testing.T, installed, src string) {
	t.Helper()
	a, err := os.ReadFile(installed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s differs from %s", installed, src)
	}
}

// checkUnit: the installed service is the template with BINDIR filled in.
func checkUnit(t *testing.T, installed, name, bindir string) {
	t.Helper()
	got, err := os.ReadFile(installed)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("systemd/" + name + ".in")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(string(tmpl), "@BINDIR@", bindir)
	if string(got) != want {
		t.Errorf("%s:\n%s\nwant:\n%s", installed, got, want)
	}
	lines := []string{
		"ExecStart=" + bindir + "/wg-quick up %i",
		"ExecStop=" + bindir + "/wg-quick down %i",
		"ExecReload=/bin/bash -c 'exec " + bindir + "/wg syncconf %i <(exec " + bindir + "/wg-quick strip %i)'",
	}
	if name == "wg-quick-reresolve@.service" {
		lines = []string{"ExecStart=" + bindir + "/wg-quick reresolve %i"}
	}
	for _, line := range lines {
		if !strings.Contains(string(got), "\n"+line+"\n") {
			t.Errorf("%s lacks %q", installed, line)
		}
	}
}

// TestGoInstall: `go install github.com/gowg/wgtools/cmd/wg@latest` (and
// cmd/wg-quick) works, from a module proxy on disk that serves this tree
// as release v1.2.3, with a fresh module cache: no replace directive, no
// generated file, nothing but the module is needed. The binaries are
// static and know their version from the build info.
func TestGoInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles the module from a module proxy on disk")
	}
	need(t, "go")
	const version = "v1.2.3"
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	at := filepath.Join(proxy, module, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "replace" || f[0] == "exclude" || f[0] == "retract") {
			t.Errorf("go.mod has %q: `go install ...@latest` refuses modules with replace or exclude directives", l)
		}
	}
	files := map[string]string{
		"list":            version + "\n",
		version + ".info": `{"Version":"` + version + `","Time":"2026-02-23T00:00:00Z"}`,
		version + ".mod":  string(gomod),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(at, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeModuleZip(t, "..", module+"@"+version, filepath.Join(at, version+".zip"))

	// Dependencies come from this machine's module cache (a proxy layout
	// too), then from the configured proxy, as for any user.
	modcache := strings.TrimSpace(run(t, "", nil, "go", "env", "GOMODCACHE"))
	upstream := strings.TrimSpace(run(t, "", nil, "go", "env", "GOPROXY"))
	gobin := filepath.Join(tmp, "bin")
	env := []string{
		"GOPROXY=file://" + proxy + ",file://" + modcache + "/cache/download," + upstream,
		"GOMODCACHE=" + filepath.Join(tmp, "modcache"),
		"GOFLAGS=-modcacherw -trimpath",
		"GOSUMDB=off", "GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=",
		"GOTOOLCHAIN=local", "GOWORK=off", "CGO_ENABLED=0",
		"GOBIN=" + gobin,
	}
	for _, cmd := range []string{"wg", "wg-quick"} {
		run(t, tmp, env, "go", "install", module+"/cmd/"+cmd+"@latest")
		checkStatic(t, filepath.Join(gobin, cmd))
	}
	out := run(t, "", nil, filepath.Join(gobin, "wg"), "--version")
	want := "wgtools " + version + " (wireguard-tools v1.0.20260223 compatible) - https://github.com/gowg/wgtools\n"
	if out != want {
		t.Errorf("wg --version: got %q, want %q", out, want)
	}
}

// writeModuleZip writes a module zip of the tree at root, every file under
// prefix/, as a module proxy serves it: without the directories holding a
// module of their own (tools/), as the go command leaves them out.
func writeModuleZip(t *testing.T, root, prefix, dst string) {
	t.Helper()
	files, err := sourceFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	var nested []string
	for _, rel := range files {
		if dir := path.Dir(rel); path.Base(rel) == "go.mod" && dir != "." {
			nested = append(nested, dir+"/")
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, rel := range files {
		if slices.ContainsFunc(nested, func(d string) bool { return strings.HasPrefix(rel, d) }) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(prefix + "/" + rel)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestModuleFileNames: no two files of the module differ only in case. The
// Go module proxy refuses such a module, and with it `go install ...@latest`
// (TestGoInstall finds the same, more slowly).
func TestModuleFileNames(t *testing.T) {
	files, err := sourceFiles("..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, f := range files {
		low := strings.ToLower(f)
		if other, ok := seen[low]; ok {
			t.Errorf("%s and %s differ only in case", other, f)
		}
		seen[low] = f
	}
}
