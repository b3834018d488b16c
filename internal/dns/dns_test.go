package dns

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func TestPlanLines(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Settings
		want string
	}{
		{"none", Settings{Search: []string{"example.com"}}, ""},
		{"servers", Settings{Servers: addrs("10.0.0.53", "fd00::53")}, "resolvectl dns wg0 10.0.0.53 fd00::53\n"},
		{"search", Settings{Servers: addrs("10.0.0.53"), Search: []string{"example.com", "~corp.internal"}},
			"resolvectl dns wg0 10.0.0.53\nresolvectl domain wg0 example.com '~corp.internal'\nresolvectl default-route wg0 no\n"},
		{"full-tunnel", Settings{Servers: addrs("10.0.0.53"), Search: []string{"example.com"}, FullTunnel: true},
			"resolvectl dns wg0 10.0.0.53\nresolvectl domain wg0 example.com '~.'\nresolvectl default-route wg0 yes\n"},
		{"full-tunnel-with-its-own-tilde-dot", Settings{Servers: addrs("10.0.0.53"), Search: []string{"~."}, FullTunnel: true},
			"resolvectl dns wg0 10.0.0.53\nresolvectl domain wg0 '~.'\nresolvectl default-route wg0 yes\n"},
		{"ipv4-compatible", Settings{Servers: addrs("::10.0.0.53")}, "resolvectl dns wg0 ::10.0.0.53\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			for _, op := range Plan("wg0", c.s) {
				b.WriteString(op.String() + "\n")
			}
			if b.String() != c.want {
				t.Errorf("got\n%swant\n%s", b.String(), c.want)
			}
		})
	}
	if got := (Revert{Link: "wg0"}).String(); got != "resolvectl revert wg0" {
		t.Errorf("revert: %q", got)
	}
}

func TestParseDomain(t *testing.T) {
	for in, want := range map[string]Domain{
		"example.com": {Name: "example.com"},
		"~corp":       {Name: "corp", RouteOnly: true},
		"~.":          {Name: ".", RouteOnly: true},
	} {
		if got := ParseDomain(in); got != want || got.String() != in {
			t.Errorf("%q: %+v %q", in, got, got.String())
		}
	}
}

// TestDetect: every combination of resolvconf (none, real, systemd's
// link to resolvectl) and systemd-resolved (running, not, bus unreachable),
// with real files (a link is a link).
func TestDetect(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "resolvconf")
	shimDir := filepath.Join(dir, "shim")
	for _, d := range []string{filepath.Dir(real), shimDir, filepath.Join(dir, "bin")} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(real, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "bin", "resolvectl"), []byte("#!/bin/sh\n"), 0o755)
	shim := filepath.Join(shimDir, "resolvconf")
	if err := os.Symlink("../bin/resolvectl", shim); err != nil {
		t.Fatal(err)
	}
	// openresolv on some systems is a link too, but not to resolvectl.
	linkedReal := filepath.Join(dir, "linked", "resolvconf")
	os.MkdirAll(filepath.Dir(linkedReal), 0o755)
	os.Symlink(real, linkedReal)

	look := func(path string) func(string) (string, error) {
		return func(string) (string, error) {
			if path == "" {
				return "", errors.New("not found")
			}
			return path, nil
		}
	}
	running := func(ok bool, err error) func() (bool, error) { return func() (bool, error) { return ok, err } }
	for _, c := range []struct {
		name     string
		path     string
		resolved func() (bool, error)
		kind     Kind
		missing  string
	}{
		{"real-resolvconf", real, running(true, nil), Resolvconf, ""},
		{"real-resolvconf-through-a-link", linkedReal, running(false, nil), Resolvconf, ""},
		{"shim-and-resolved", shim, running(true, nil), Resolved, ""},
		{"none-and-resolved", "", running(true, nil), Resolved, ""},
		{"shim-no-resolved", shim, running(false, nil), None, "the only resolvconf (" + shim + ") is systemd's, a link to resolvectl, and systemd-resolved is not running"},
		{"nothing", "", running(false, nil), None, "there is no resolvconf in PATH and systemd-resolved is not running"},
		{"nothing-no-bus", "", running(false, errors.New("dial unix /run/dbus/system_bus_socket: connect: no such file or directory")), None,
			"there is no resolvconf in PATH and systemd-resolved cannot be reached on the system bus (dial unix"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := Detect(Host{LookPath: look(c.path), EvalSymlinks: filepath.EvalSymlinks, Resolved: c.resolved})
			if m.Kind != c.kind || !strings.HasPrefix(m.Missing, c.missing) || (c.missing == "") != (m.Missing == "") {
				t.Errorf("got %v %q, want %v %q", m.Kind, m.Missing, c.kind, c.missing)
			}
		})
	}
}

// osFiles reads the real file system, under a root.
type rootFiles string

func (r rootFiles) Stat(n string) (fs.FileInfo, error)  { return os.Stat(string(r) + n) }
func (r rootFiles) Lstat(n string) (fs.FileInfo, error) { return os.Lstat(string(r) + n) }
func (r rootFiles) ReadFile(n string) ([]byte, error)   { return os.ReadFile(string(r) + n) }

func TestResolvconfName(t *testing.T) {
	root := t.TempDir()
	files := rootFiles(root)
	prog := "/sbin/resolvconf"
	os.MkdirAll(root+"/sbin", 0o755)
	os.WriteFile(root+prog, []byte("#!/bin/sh\n"), 0o755)
	if got := ResolvconfName(files, prog, "wg0"); got != "wg0" {
		t.Errorf("no interface-order: %q", got)
	}
	os.MkdirAll(root+"/etc/resolvconf", 0o755)
	os.WriteFile(root+InterfaceOrder, []byte("lo.inet6\nlo\n  tun*\ntap*\n*\n"), 0o644)
	if got := ResolvconfName(files, prog, "wg0"); got != "tun.wg0" {
		t.Errorf("Debian's resolvconf: %q", got)
	}
	os.Remove(root + prog)
	os.Symlink("/usr/bin/resolvectl", root+prog)
	if got := ResolvconfName(files, prog, "wg0"); got != "wg0" {
		t.Errorf("a resolvconf that is a link: %q", got)
	}
}

func TestResolvconfInputAndListed(t *testing.T) {
	in := ResolvconfInput(addrs("10.0.0.53", "fd00::53"), []string{"example.com", "corp.internal"})
	if in != "nameserver 10.0.0.53\nnameserver fd00::53\nsearch example.com corp.internal\n" {
		t.Errorf("input: %q", in)
	}
	listed := "# resolv.conf from tun.wg0\nnameserver 10.0.0.53\n nameserver fd00::53 \nsearch example.com\n"
	if got := strings.Join(ParseListed(listed), ","); got != "10.0.0.53,fd00::53" {
		t.Errorf("listed: %q", got)
	}
}
