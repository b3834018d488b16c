// Package testnet gives system tests their own hosts: each Host is a
// network namespace with a private mount namespace in which /run (and so
// /var/run/wireguard) and /etc/wireguard are fresh tmpfs mounts, so nothing
// a test does reaches the machine's own links, routes, rules, firewall,
// sysctls, sockets or configuration files. Names are unique per process and
// everything is removed when the test ends, even when it fails.
//
// It is used by tests and by make bench's driver (through TB); it needs
// root, iproute2 (ip) and util-linux (unshare, nsenter).
package testnet

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

var counter atomic.Int64

// TB is what a Host needs from whoever drives it: a test or benchmark
// (testing.TB), or another program, such as make bench's driver, whose
// Fatal ends the current piece of work and whose Cleanup runs at its end.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Skip(args ...any)
	Cleanup(func())
}

// Skip reports why system tests cannot run here ("" when they can).
func Skip() string {
	if os.Geteuid() != 0 {
		return "needs root (run the tests with sudo)"
	}
	for _, tool := range []string{"ip", "unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed"
		}
	}
	return ""
}

// Require skips t, saying why, when system tests cannot run.
func Require(t TB) {
	t.Helper()
	if why := Skip(); why != "" {
		t.Skip("system test: " + why)
	}
}

// Host is one network namespace with its private mount namespace.
type Host struct {
	t      TB
	Name   string // the network namespace's name (under /run/netns)
	holder *exec.Cmd
}

// NewHost creates a host whose namespace name starts with prefix. Its
// loopback is up. It is deleted at the end of the test.
func NewHost(t TB, prefix string) *Host {
	t.Helper()
	Require(t)
	name := fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), counter.Add(1))
	if len(name) > 40 {
		name = name[:40]
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v %s", name, err, out)
	}
	h := &Host{t: t, Name: name}
	t.Cleanup(h.destroy)
	// The holder keeps the mount namespace alive; every command enters it.
	script := "mount -t tmpfs -o mode=0755 wgtest-run /run && mkdir -p /run/wireguard /run/lock && " +
		"if [ -d /etc/wireguard ]; then mount -t tmpfs -o mode=0700 wgtest-etc /etc/wireguard; fi && " +
		"echo ready && exec sleep 1000000"
	h.holder = exec.Command("ip", "netns", "exec", name, "unshare", "-m", "--propagation", "private", "sh", "-c", script)
	stdout, err := h.holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	h.holder.Stderr = &stderr
	if err := h.holder.Start(); err != nil {
		t.Fatalf("starting the holder of %s: %v", name, err)
	}
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("holder of %s did not start: %v %q %s", name, err, buf, stderr.String())
	}
	h.MustRun("ip", "link", "set", "lo", "up")
	// No IPv6 duplicate address detection on the host's links: their
	// addresses are unique by construction, and detection would leave
	// them tentative (and their routes missing) for a second or two.
	h.MustRun("sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	return h
}

// pid is the holder's sleep process (unshare and sh exec into it), whose
// namespaces every command joins.
func (h *Host) pid() string { return strconv.Itoa(h.holder.Process.Pid) }

// destroy ends what runs in the namespace (all of it was started by this
// test, through this host), then the holder, then the namespace.
func (h *Host) destroy() {
	out, _ := exec.Command("ip", "netns", "pids", h.Name).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && h.holder != nil && pid != h.holder.Process.Pid {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if h.holder != nil && h.holder.Process != nil {
		h.holder.Process.Kill()
		h.holder.Wait()
	}
	for i := 0; i < 50; i++ {
		if err := exec.Command("ip", "netns", "del", h.Name).Run(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Errorf("could not delete netns %s", h.Name)
}

// Command prepares a command to run inside the host (both namespaces).
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	all := append([]string{"-t", h.pid(), "-m", "-n", "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", all...)
}

// Result is what a command printed and how it ended.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// RunEnv runs a command in the host with the given environment (nil means
// a minimal one: PATH only) and a one-minute limit.
func (h *Host) RunEnv(env []string, name string, args ...string) Result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := h.Command(ctx, name, args...)
	if env == nil {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := Result{Stdout: o.String(), Stderr: e.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("%s %v: %v", name, args, err)
	}
	if ctx.Err() != nil {
		h.t.Fatalf("%s %v: timed out", name, args)
	}
	return r
}

// Run runs a command in the host with the minimal environment.
func (h *Host) Run(name string, args ...string) Result {
	h.t.Helper()
	return h.RunEnv(nil, name, args...)
}

// MustRun runs a command and fails the test unless it succeeds; it returns
// the standard output.
func (h *Host) MustRun(name string, args ...string) string {
	h.t.Helper()
	r := h.Run(name, args...)
	if r.Code != 0 {
		h.t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Sh runs a shell command line in the host.
func (h *Host) Sh(script string) Result {
	h.t.Helper()
	return h.Run("sh", "-c", script)
}

// Connect joins two hosts with a veth pair named ifname on both sides and
// brings both ends up.
func Connect(t TB, a, b *Host, ifname string) {
	t.Helper()
	out, err := exec.Command("ip", "-n", a.Name, "link", "add", ifname, "type", "veth", "peer", "name", ifname, "netns", b.Name).CombinedOutput()
	if err != nil {
		t.Fatalf("veth %s between %s and %s: %v %s", ifname, a.Name, b.Name, err, out)
	}
	a.MustRun("ip", "link", "set", ifname, "up")
	b.MustRun("ip", "link", "set", ifname, "up")
}

// Start starts a long-running command in the host and stops it (by its
// PID) at the end of the test.
func (h *Host) Start(name string, args ...string) *exec.Cmd {
	h.t.Helper()
	cmd := h.Command(context.Background(), name, args...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("starting %s: %v", name, err)
	}
	h.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// HolderPID is the PID whose /proc/PID/root shows the host's mount
// namespace (its /run/wireguard, its /etc/wireguard).
func (h *Host) HolderPID() string { return h.pid() }

// Path is where the test process reaches path as the host sees it (its
// private /run, /etc/wireguard and bind mounts included).
func (h *Host) Path(path string) string {
	return filepath.Join("/proc", h.pid(), "root", path)
}

// WriteFile writes a file as the host sees it, creating its directory.
func (h *Host) WriteFile(path string, data []byte, perm os.FileMode) {
	h.t.Helper()
	p := h.Path(path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, perm); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil { // WriteFile keeps an existing file's mode
		h.t.Fatal(err)
	}
}

// BindFile makes target (an existing file, such as /etc/hosts) read as
// data inside the host only: data is written under the host's private /run
// and bind-mounted over target in the host's mount namespace, which nothing
// outside the host sees.
func (h *Host) BindFile(target string, data []byte) {
	h.t.Helper()
	src := filepath.Join("/run/testnet-files", strings.ReplaceAll(strings.TrimPrefix(target, "/"), "/", "_"))
	h.WriteFile(src, data, 0o644)
	h.MustRun("mount", "--bind", src, target)
}

// StartEnv starts a long-running command in the host with the given
// environment (nil means PATH only) and stops it (by its PID) at the end
// of the test.
func (h *Host) StartEnv(env []string, name string, args ...string) *exec.Cmd {
	h.t.Helper()
	cmd := h.Command(context.Background(), name, args...)
	if env == nil {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("starting %s: %v", name, err)
	}
	h.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// WaitSocket waits (at most timeout) until the unix socket at path, as the
// host sees it, accepts a connection.
func (h *Host) WaitSocket(path string, timeout time.Duration) {
	h.t.Helper()
	p := h.Path(path)
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.Dial("unix", p)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s did not accept connections within %v: %v", path, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StartUserspaceDevice starts a userspace WireGuard implementation (such
// as /usr/bin/wireguard-go) in the foreground for interface iface and
// waits until its UAPI socket answers. It is stopped at the end of the
// test.
func (h *Host) StartUserspaceDevice(bin, iface string) *exec.Cmd {
	h.t.Helper()
	cmd := h.StartEnv(nil, bin, "-f", iface)
	h.WaitSocket("/run/wireguard/"+iface+".sock", 10*time.Second)
	return cmd
}
