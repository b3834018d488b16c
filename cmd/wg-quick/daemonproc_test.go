package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/testnet"
)

// daemonCaps are the capability sets every thread of the embedded
// device's daemon must have once it runs: CAP_NET_ADMIN (12) and
// CAP_NET_BIND_SERVICE (10) in the effective, permitted and bounding sets,
// nothing inheritable or ambient, and no_new_privs.
var daemonCaps = map[string]string{
	"CapInh":     "0000000000000000",
	"CapPrm":     "0000000000001400",
	"CapEff":     "0000000000001400",
	"CapBnd":     "0000000000001400",
	"CapAmb":     "0000000000000000",
	"NoNewPrivs": "1",
}

// checkDaemonCaps reads /proc/PID/task/*/status of the daemon and says
// where a thread holds other capabilities than daemonCaps.
func checkDaemonCaps(t *testing.T, when string, pid int) {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) < 2 {
		t.Fatalf("%s: the daemon (%d) has %d threads (%v): a Go program has several", when, pid, len(tasks), err)
	}
	for _, path := range tasks {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		seen := map[string]string{}
		for line := range strings.SplitSeq(string(data), "\n") {
			k, v, _ := strings.Cut(line, ":")
			if _, ok := daemonCaps[k]; ok {
				seen[k] = strings.TrimSpace(v)
			}
		}
		for k, want := range daemonCaps {
			if seen[k] != want {
				t.Errorf("%s: %s: %s is %q, want %q", when, path, k, seen[k], want)
			}
		}
	}
}

// TestDaemonCapabilities: once up, the embedded device's daemon holds only
// CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, on every thread, with
// no_new_privs, and keeps it so while everything it is asked to do still
// works: a listen port below 1024, an fwmark on its packets, peers added
// and removed, traffic through the tunnel.
func TestDaemonCapabilities(t *testing.T) {
	testnet.Require(t)
	a, b := twoPeers(t)
	privA, pubA := keyPair(t)
	privB, pubB := keyPair(t)
	_, pubC := keyPair(t)
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privA, "10.0.0.1/24", "51820", pubB, "10.0.0.2/32", "192.0.2.2:51820", "")), 0o600)
	b.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privB, "10.0.0.2/24", "51820", pubA, "10.0.0.1/32", "", "")), 0o600)
	if r := mustQuick(t, a, "up", "wg0"); strings.Contains(r.Stderr, "[!] The userspace device") {
		t.Fatalf("up warned:\n%s", r.Stderr)
	}
	mustQuick(t, b, "up", "wg0")
	pid := socketPeer(t, a.Path("/run/wireguard/wg0.sock"))
	checkDaemonCaps(t, "after up", pid)
	if !pingUntil(a, "10.0.0.2", 5) {
		t.Fatal("no ping through the tunnel after up")
	}

	wg := filepath.Join(binaries(t), "wg")
	// A port below 1024, which an unprivileged socket may not bind here.
	if p := strings.TrimSpace(a.MustRun("sysctl", "-n", "net.ipv4.ip_unprivileged_port_start")); p != "1024" {
		t.Fatalf("net.ipv4.ip_unprivileged_port_start is %s in %s, not 1024", p, a.Name)
	}
	a.MustRun(wg, "set", "wg0", "listen-port", "80")
	if got := strings.TrimSpace(a.MustRun(wg, "show", "wg0", "listen-port")); got != "80" {
		t.Fatalf("listen port %q after wg set listen-port 80", got)
	}
	if out := a.MustRun("ss", "-uanH", "sport = :80"); !strings.Contains(out, ":80") {
		t.Fatalf("no UDP socket on port 80:\n%s", a.MustRun("ss", "-uanH"))
	}
	b.MustRun(wg, "set", "wg0", "peer", pubA, "endpoint", "192.0.2.1:80")

	// An fwmark, counted on the packets a sends to b.
	a.MustRun(wg, "set", "wg0", "fwmark", "0x1234")
	if got := strings.TrimSpace(a.MustRun(wg, "show", "wg0", "fwmark")); got != "0x1234" {
		t.Fatalf("fwmark %q after wg set fwmark 0x1234", got)
	}
	nftIn(t, a, "add table inet capstest\n"+
		"add chain inet capstest out { type filter hook output priority 0; }\n"+
		"add rule inet capstest out meta mark 0x1234 udp sport 80 udp dport 51820 counter\n")
	// A peer added and removed.
	a.MustRun(wg, "set", "wg0", "peer", pubC, "allowed-ips", "10.0.0.3/32")
	if peers := a.MustRun(wg, "show", "wg0", "peers"); !strings.Contains(peers, pubC) {
		t.Fatalf("peer not added:\n%s", peers)
	}
	a.MustRun(wg, "set", "wg0", "peer", pubC, "remove")
	if peers := a.MustRun(wg, "show", "wg0", "peers"); strings.Contains(peers, pubC) {
		t.Fatalf("peer not removed:\n%s", peers)
	}

	// Traffic, from a's new port with its mark; and b answers a there.
	for _, h := range []*testnet.Host{a, b} {
		dst := map[*testnet.Host]string{a: "10.0.0.2", b: "10.0.0.1"}[h]
		if !pingUntil(h, dst, 5) {
			t.Fatalf("no ping from %s through the tunnel after the changes", h.Name)
		}
	}
	if n := nftCounters(t, a, "inet", "capstest", "out"); len(n) != 1 || n[0] == 0 {
		t.Fatalf("no packet with the fwmark from port 80: counters %v", n)
	}
	if ep := a.MustRun(wg, "show", "wg0", "endpoints"); !strings.Contains(ep, "192.0.2.2:51820") {
		t.Fatalf("a's peer endpoint: %s", ep)
	}
	if ep := b.MustRun(wg, "show", "wg0", "endpoints"); !strings.Contains(ep, "192.0.2.1:80") {
		t.Fatalf("b sees a at %s, not from port 80", ep)
	}
	checkDaemonCaps(t, "after listen-port, fwmark, peers and traffic", pid)
	mustQuick(t, a, "down", "wg0")
	mustQuick(t, b, "down", "wg0")
}

// TestDaemonSession: the embedded device's daemon leads its own process
// group (a terminal's ^C to wg-quick does not reach it) but stays in the
// session of wg-quick's caller, and so in its scheduler autogroup, as the
// standalone wireguard-go does: a session of its own would be a
// scheduling group of its own, which measurably slows the tunnel
// (docs/performance.md).
func TestDaemonSession(t *testing.T) {
	testnet.Require(t)
	h := testnet.NewHost(t, "wgq-ses")
	priv, _ := keyPair(t)
	_, pub := keyPair(t)
	h.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(priv, "10.0.0.1/24", "", pub, "10.0.0.2/32", "", "")), 0o600)
	mustQuick(t, h, "up", "wg0")
	defer mustQuick(t, h, "down", "wg0")
	pid := socketPeer(t, h.Path("/run/wireguard/wg0.sock"))
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// "PID (comm) state ppid pgrp session ..."
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	pgrp, sid := f[2], f[3]
	mySid, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	if pgrp != strconv.Itoa(pid) {
		t.Errorf("the daemon (%d) is in process group %s, not its own", pid, pgrp)
	}
	if sid != strconv.Itoa(mySid) {
		t.Errorf("the daemon (%d) is in session %s, not its caller's (%d)", pid, sid, mySid)
	}
	mine, err1 := os.ReadFile("/proc/self/autogroup")
	its, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/autogroup", pid))
	if err1 == nil && err2 == nil && string(mine) != string(its) {
		t.Errorf("the daemon's scheduler autogroup is %q, not its caller's %q", its, mine)
	}
}
