package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/testnet"
)

// TestDownWaitsForDaemon: the embedded device's UAPI socket names its
// daemon to its clients (SO_PEERCRED), and `down` returns only once that
// daemon is gone, even with a thousand peers to tear down (so that an `up`
// right after it does not find the socket still in use).
func TestDownWaitsForDaemon(t *testing.T) {
	testnet.Require(t)
	h := testnet.NewHost(t, "wgq-dw")
	var s strings.Builder
	fmt.Fprintf(&s, "[Interface]\nPrivateKey = %s\nTable = off\nMTU = 1420\n", mustKey(t))
	for i := range 1000 {
		fmt.Fprintf(&s, "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.1.%d.%d/32\n", mustKey(t).PublicKey(), i/250, i%250+1)
	}
	h.WriteFile("/etc/wireguard/wg0.conf", []byte(s.String()), 0o600)
	for run := range 2 {
		mustQuick(t, h, "up", "wg0")
		pid := socketPeer(t, h.Path("/run/wireguard/wg0.sock"))
		pids := strings.Fields(h.MustRun("sh", "-c", "ip netns pids "+h.Name+" 2>/dev/null || true"))
		comm := strings.TrimSpace(h.MustRun("cat", fmt.Sprintf("/proc/%d/comm", pid)))
		if comm != "wg-quick" {
			t.Fatalf("run %d: the socket names process %d (%q), not the daemon (processes in the host: %v)", run, pid, comm, pids)
		}
		mustQuick(t, h, "down", "wg0")
		if running(pid) {
			t.Fatalf("run %d: the daemon (%d) still runs after down returned", run, pid)
		}
	}
}

// running reports whether pid runs (exists and is not a zombie waiting to
// be reaped by whoever inherited it).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || !strings.HasPrefix(string(stat[i:]), ") Z")
}

func mustKey(t *testing.T) conf.Key {
	k, err := conf.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// socketPeer is the process a unix socket's clients see as its server.
func socketPeer(t *testing.T, path string) int {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if err != nil {
		t.Fatal(err)
	}
	return int(cred.Pid)
}
