package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPkgVersion(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-4-gabcdef0", "1.2.3+4.gabcdef0"},
		{"v1.2.3-4-gabcdef0-dirty", "1.2.3+4.gabcdef0.dirty"},
		{"46ddd02", "0~git.46ddd02"},
		{"46ddd02-dirty", "0~git.46ddd02.dirty"},
		{"abcdef0123456789", "0~git.abcdef0123456789"},
	} {
		got, err := pkgVersion(c.in)
		if err != nil || got != c.want {
			t.Errorf("pkgVersion(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "devel", "v1.2 3", "1.2/3", "../x"} {
		if got, err := pkgVersion(bad); err == nil {
			t.Errorf("pkgVersion(%q) = %q, want an error", bad, got)
		}
	}
}

// TestEntries: the paths are the distributions' wireguard-tools paths
// (Debian's `dpkg -L wireguard-tools`) plus our reresolve units beside
// wg-quick@.service; the units run /usr/bin's programs, as `make install`
// with BINDIR=/usr/bin writes them.
func TestEntries(t *testing.T) {
	o := &options{format: "deb", root: "../..", bindir: "/nonexistent", mtime: time.Unix(0, 0)}
	es, err := entries(o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/usr/bin/wg", "/usr/bin/wg-quick",
		"/usr/share/man/man8/wg.8.gz", "/usr/share/man/man8/wg-quick.8.gz",
		"/usr/share/bash-completion/completions/wg", "/usr/share/bash-completion/completions/wg-quick",
		"/lib/systemd/system/wg-quick@.service", "/lib/systemd/system/wg-quick.target",
		"/lib/systemd/system/wg-quick-reresolve@.service", "/lib/systemd/system/wg-quick-reresolve@.timer",
		"/etc/wireguard", "/usr/share/doc/wgtools/copyright",
	}
	if got := dsts(es); !slices.Equal(got, want) {
		t.Errorf("deb entries:\n got %q\nwant %q", got, want)
	}
	checkUnits(t, es, "/lib/systemd/system")

	o.format, o.unitdir = "rpm", ""
	es, err = entries(o)
	if err != nil {
		t.Fatal(err)
	}
	got := dsts(es)
	for _, p := range []string{
		"/usr/lib/systemd/system/wg-quick@.service", "/usr/lib/systemd/system/wg-quick.target",
		"/usr/lib/systemd/system/wg-quick-reresolve@.service", "/usr/lib/systemd/system/wg-quick-reresolve@.timer",
		"/usr/share/licenses/wgtools/LICENSE",
	} {
		if !slices.Contains(got, p) {
			t.Errorf("rpm entries lack %s: %q", p, got)
		}
	}
	if slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, "/lib/") || strings.HasPrefix(p, "/usr/share/doc/") }) {
		t.Errorf("rpm entries have Debian's paths: %q", got)
	}
	checkUnits(t, es, "/usr/lib/systemd/system")

	o.format, o.unitdir = "deb", "/usr/lib/systemd/system"
	es, err = entries(o)
	if err != nil {
		t.Fatal(err)
	}
	checkUnits(t, es, "/usr/lib/systemd/system")

	wg := byDst(t, es, "/etc/wireguard")
	if wg.mode != 0o700 || !wg.dir {
		t.Errorf("/etc/wireguard: mode %v dir %v, want 0700 directory", wg.mode, wg.dir)
	}
}

// checkUnits: the four units are in unitdir, the services run /usr/bin's
// wg-quick with nothing of the template left, the others are the source
// files themselves.
func checkUnits(t *testing.T, es []entry, unitdir string) {
	t.Helper()
	for name, lines := range map[string][]string{
		"wg-quick@.service":           {"ExecStart=/usr/bin/wg-quick up %i", "ExecStop=/usr/bin/wg-quick down %i"},
		"wg-quick-reresolve@.service": {"ExecStart=/usr/bin/wg-quick reresolve %i"},
	} {
		e := byDst(t, es, unitdir+"/"+name)
		unit := string(e.data)
		if e.src != "" || e.mode != 0o644 || strings.Contains(unit, "@BINDIR@") {
			t.Errorf("%s: src %q mode %v, template left: %v", e.dst, e.src, e.mode, strings.Contains(unit, "@BINDIR@"))
		}
		for _, line := range lines {
			if !slices.Contains(strings.Split(unit, "\n"), line) {
				t.Errorf("%s lacks %q:\n%s", e.dst, line, unit)
			}
		}
	}
	for _, name := range []string{"wg-quick.target", "wg-quick-reresolve@.timer"} {
		e := byDst(t, es, unitdir+"/"+name)
		if e.src != filepath.Join("../..", "dist/systemd", name) || e.mode != 0o644 {
			t.Errorf("%s: src %q mode %v", e.dst, e.src, e.mode)
		}
	}
}

func dsts(es []entry) []string {
	var got []string
	for _, e := range es {
		got = append(got, e.dst)
	}
	return got
}

func byDst(t *testing.T, es []entry, dst string) entry {
	t.Helper()
	i := slices.IndexFunc(es, func(e entry) bool { return e.dst == dst })
	if i < 0 {
		t.Fatalf("no entry for %s in %q", dst, dsts(es))
	}
	return es[i]
}

// TestBuildRefusesMissingBinaries: without bin/wg the package is not made.
func TestBuildRefusesMissingBinaries(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.deb")
	o := &options{format: "deb", version: "v1.0.0", arch: "amd64", root: "../..", bindir: t.TempDir(), out: out, mtime: time.Unix(0, 0)}
	if err := build(o); err == nil {
		t.Fatal("build without binaries succeeded")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a package file was left behind")
	}
}
