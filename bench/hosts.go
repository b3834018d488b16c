package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/testnet"
)

// ifName is the interface every section brings up.
const ifName = "wgb0"

// backend is one way of bringing up a userspace WireGuard interface.
type backend struct {
	Name  string // short: debian, newest, ours
	Label string // for the table
	Ref   bool
	// Env and WGQuick make the wg-quick command for a verb.
	Env     []string
	WGQuick string
}

func (b backend) quick(verb string, args ...string) Cmd {
	return Cmd{Args: append([]string{b.WGQuick, verb}, args...), Env: b.Env}
}

// Labels of the references.
const (
	labelDebian = "bash wg-quick + wireguard-go 0.0.20220316"
	labelNewest = "bash wg-quick + newest wireguard-go"
)

func (s *Section) debian() backend {
	return backend{Name: "debian", Label: labelDebian, Ref: true, WGQuick: "/usr/bin/wg-quick"}
}

// newest is the reference wg-quick with the newest wireguard-go; ok is
// false when it was not built.
func (s *Section) newest() (backend, bool) {
	if s.o.Newest == "" {
		return backend{}, false
	}
	return backend{Name: "newest", Label: labelNewest, Ref: true, WGQuick: "/usr/bin/wg-quick",
		Env: []string{"WG_QUICK_USERSPACE_IMPLEMENTATION=" + s.o.Newest}}, true
}

func (s *Section) ours() backend {
	return backend{Name: "ours", Label: "ours", WGQuick: s.o.Bin + "/wg-quick", Env: s.o.OursEnv}
}

// backends are the reference backends (Debian's, then the newest if
// built) and ours, last.
func (s *Section) backends() []backend {
	want := func(name string) bool { return len(s.o.Backends) == 0 || slices.Contains(s.o.Backends, name) }
	var list []backend
	if want("debian") {
		list = append(list, s.debian())
	}
	if n, ok := s.newest(); ok && want("newest") {
		list = append(list, n)
	} else if !ok {
		s.Note("the newest wireguard-go was not built (-newest): its rows are missing")
	}
	for _, u := range s.o.Userspace {
		label, path, _ := strings.Cut(u, "=")
		list = append(list, backend{Name: label, Label: "bash wg-quick + " + label, Ref: true, WGQuick: "/usr/bin/wg-quick",
			Env: []string{"WG_QUICK_USERSPACE_IMPLEMENTATION=" + path}})
	}
	for _, u := range s.o.OursAlt {
		label, path, _ := strings.Cut(u, "=")
		list = append(list, backend{Name: label, Label: "ours, " + label, Ref: true, WGQuick: path, Env: s.o.OursEnv})
	}
	return append(list, s.ours())
}

// daemonPID is the userspace device daemon of iface in h: the process the
// UAPI socket names (SO_PEERCRED) when that is it, else the process of the
// host's network namespace whose command line names iface (wireguard-go
// makes its socket listen before it daemonizes, so the socket names its
// parent, gone by then). 0 when there is none.
func daemonPID(h *testnet.Host, iface string) int {
	isDaemon := func(pid int) bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !running(pid) {
			return false
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		return len(args) > 1 && args[len(args)-1] == iface
	}
	if pid := socketPeer(h.Path("/run/wireguard/" + iface + ".sock")); pid > 0 && isDaemon(pid) {
		return pid
	}
	out, err := exec.Command("ip", "netns", "pids", h.Name).Output()
	if err != nil {
		return 0
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && isDaemon(pid) {
			return pid
		}
	}
	return 0
}

// socketPeer is the process a unix socket's clients see as its server.
func socketPeer(path string) int {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0
	}
	pid := 0
	raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			pid = int(cred.Pid)
		}
	})
	return pid
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || !strings.HasPrefix(string(b[i:]), ") Z")
}

// procKiB reads a "Vm..." field of /proc/PID/status, in KiB.
func procKiB(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// waitExit waits (bounded) for a process to be gone, so that the next run
// starts on a quiet host.
func (s *Section) waitExit(pid int) {
	if pid <= 0 {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !running(pid) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Fatalf("process %d (a userspace device) did not exit within 10s of wg-quick down", pid)
}

// upDown brings iface up with b (untimed), runs f with the daemon's PID,
// and takes it down again.
func (s *Section) upDown(h *testnet.Host, b backend, f func(pid int)) {
	s.Time(h, b.quick("up", ifName))
	pid := daemonPID(h, ifName)
	if pid == 0 {
		s.Fatalf("%s: no daemon serves %s after up", b.Name, ifName)
	}
	f(pid)
	s.Time(h, b.quick("down", ifName))
	s.waitExit(pid)
}

// pair is two hosts joined by a veth (eth0): a is 192.168.241.1, b .2.
func (s *Section) pair() (a, b *testnet.Host) {
	a, b = s.Host(hostPrefix), s.Host(hostPrefix)
	testnet.Connect(s, a, b, "eth0")
	a.MustRun("ip", "address", "add", "192.168.241.1/24", "dev", "eth0")
	b.MustRun("ip", "address", "add", "192.168.241.2/24", "dev", "eth0")
	return a, b
}

// hostPrefix starts the names of the bench's hosts (wgperf-PID-N), which
// bench/run.sh removes when a killed driver left them.
const hostPrefix = "wgperf"
