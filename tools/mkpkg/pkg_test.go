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
// (Debian's `dpkg -L wireguard-tools`), the unit runs /usr/bin's programs.
func TestEntries(t *testing.T) {
	o := &options{format: "deb", root: "../..", bindir: "/nonexistent", mtime: time.Unix(0, 0)}
	es, err := entries(o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.dst)
	}
	want := []string{
		"/usr/bin/wg", "/usr/bin/wg-quick",
		"/usr/share/man/man8/wg.8.gz", "/usr/share/man/man8/wg-quick.8.gz",
		"/usr/share/bash-completion/completions/wg", "/usr/share/bash-completion/completions/wg-quick",
		"/lib/systemd/system/wg-quick@.service", "/lib/systemd/system/wg-quick.target",
		"/etc/wireguard", "/usr/share/doc/wgtools/copyright",
	}
	if !slices.Equal(got, want) {
		t.Errorf("deb entries:\n got %q\nwant %q", got, want)
	}
	o.format, o.unitdir = "rpm", ""
	es, _ = entries(o)
	if es[6].dst != "/usr/lib/systemd/system/wg-quick@.service" || es[9].dst != "/usr/share/licenses/wgtools/LICENSE" {
		t.Errorf("rpm entries: %q %q", es[6].dst, es[9].dst)
	}
	unit := string(es[6].data)
	for _, line := range []string{"ExecStart=/usr/bin/wg-quick up %i", "ExecStop=/usr/bin/wg-quick down %i"} {
		if !slices.Contains(strings.Split(unit, "\n"), line) {
			t.Errorf("unit lacks %q:\n%s", line, unit)
		}
	}
	if es[8].mode != 0o700 || !es[8].dir {
		t.Errorf("/etc/wireguard: mode %v dir %v, want 0700 directory", es[8].mode, es[8].dir)
	}
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
