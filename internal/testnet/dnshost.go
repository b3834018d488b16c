package testnet

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DNS managers in a host. They are never installed on the machine:
// scripts/fetch-debs.sh unpacks their Debian packages, and a host gets
// them copied into overlays of its /etc and /usr, which only its own mount
// namespace sees.

// Debs is the directory scripts/fetch-debs.sh unpacks packages into:
// $WGTOOLS_DEBS, else .cache/debs at the module's root.
func Debs() string {
	if d := os.Getenv("WGTOOLS_DEBS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "debs")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// RequireDeb skips t, saying how to get it, unless the package pkg is
// unpacked; it returns the package's directory.
func RequireDeb(t TB, pkg string) string {
	t.Helper()
	dir := filepath.Join(Debs(), pkg)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Skip("the " + pkg + " package is not unpacked in " + Debs() + " (run scripts/fetch-debs.sh; .ci/run does)")
	}
	return dir
}

// Overlay makes dir (an existing directory such as /etc or /usr) writable
// in the host only: an overlay whose changes go to the host's private
// /run. It hides mounts below dir; /etc/wireguard gets its own tmpfs back.
func (h *Host) Overlay(dir string) {
	h.t.Helper()
	base := "/run/testnet-overlay/" + strings.ReplaceAll(strings.Trim(dir, "/"), "/", "_")
	h.MustRun("mkdir", "-p", base+"/upper", base+"/work")
	h.MustRun("mount", "-t", "overlay", "testnet-overlay", "-o",
		"lowerdir="+dir+",upperdir="+base+"/upper,workdir="+base+"/work", dir)
	if dir == "/etc" {
		if r := h.Run("test", "-d", "/etc/wireguard"); r.Code == 0 {
			h.MustRun("mount", "-t", "tmpfs", "-o", "mode=0700", "wgtest-etc", "/etc/wireguard")
		}
	}
}

// InstallDeb copies the unpacked package pkg into the host, over overlays
// of /etc and /usr (made once), keeping the host's links (/sbin -> usr/sbin).
func (h *Host) InstallDeb(pkg string) {
	h.t.Helper()
	dir := RequireDeb(h.t, pkg)
	if h.Run("test", "-e", "/run/testnet-overlay/etc").Code != 0 {
		h.Overlay("/etc")
		h.Overlay("/usr")
	}
	r := h.Run("sh", "-c", `tar -C "$0" --exclude=./usr/share/doc --exclude=./usr/share/man -cf - . | tar -C / --keep-directory-symlink -xf -`, dir)
	if r.Code != 0 {
		h.t.Fatalf("copying %s into %s: %s", pkg, h.Name, r.Stderr)
	}
}

// BusConfig is a dbus-daemon configuration (TYPE: system, custom) that
// listens on socket and lets anyone own any name and call anything: the
// bus is the test's own.
func BusConfig(typ, socket string) string {
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>` + typ + `</type>
  <listen>unix:path=` + socket + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`
}

// StartSystemBus starts a dbus-daemon as the host's system bus
// (/run/dbus/system_bus_socket in its private /run), stopped at the end.
func (h *Host) StartSystemBus() {
	h.t.Helper()
	if h.Run("sh", "-c", "command -v dbus-daemon").Code != 0 {
		h.t.Skip("dbus-daemon is not installed (package dbus-daemon)")
	}
	h.WriteFile("/run/testnet-bus/system.conf", []byte(BusConfig("system", "/run/dbus/system_bus_socket")), 0o644)
	h.MustRun("mkdir", "-p", "/run/dbus")
	h.StartEnv(nil, "dbus-daemon", "--config-file=/run/testnet-bus/system.conf", "--nofork", "--nopidfile")
	h.WaitSocket("/run/dbus/system_bus_socket", 10*time.Second)
}

// StartResolved runs the unpacked systemd-resolved in the host, without
// systemd: its user in the host's /etc/passwd and /etc/group, its runtime
// directory, the host's own system bus; it is stopped at the end. It
// returns once resolved owns its name on the bus. resolvectl, and
// systemd's resolvconf (a link to it), come with the package.
func (h *Host) StartResolved() {
	h.t.Helper()
	h.InstallDeb("systemd-resolved")
	h.MustRun("sh", "-c", `getent passwd systemd-resolve >/dev/null || echo 'systemd-resolve:x:991:991:systemd Resolver:/:/usr/sbin/nologin' >>/etc/passwd
getent group systemd-resolve >/dev/null || echo 'systemd-resolve:x:991:' >>/etc/group
mkdir -p /run/systemd/resolve && chown systemd-resolve:systemd-resolve /run/systemd/resolve`)
	h.StartSystemBus()
	h.StartEnv(nil, "/lib/systemd/systemd-resolved")
	for range 100 {
		if strings.Contains(h.Run("busctl", "--system", "list", "--acquired").Stdout, "org.freedesktop.resolve1") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("systemd-resolved did not come up on %s's bus", h.Name)
}
