package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// quickEnv is wg-quick's environment in a test host: the stub resolvconf
// and our binaries first in PATH, the stub's log in the host's /run.
func quickEnv(t testing.TB, extra ...string) []string {
	bin := binaries(t)
	return append([]string{
		"PATH=" + filepath.Join(bin, "stubbin") + ":" + bin + ":" + basePath,
		"HOME=/root",
		"SPQ_RESOLVCONF_LOG=/run/resolvconf.log",
		"SPQ_RESOLVCONF_STATE=/run/resolvconf-state",
	}, extra...)
}

// wgQuick runs our wg-quick in h, and fails the test if its output shows
// a private or preshared key of the host's /etc/wireguard/wg0.conf (but for
// strip, whose job is to print them).
func wgQuick(t testing.TB, h *testnet.Host, args ...string) testnet.Result {
	t.Helper()
	var secrets []string
	if len(args) == 0 || args[0] != "strip" {
		secrets = secretsOf(h)
	}
	r := h.RunEnv(quickEnv(t), filepath.Join(binaries(t), "wg-quick"), args...)
	for _, k := range secrets {
		if strings.Contains(r.Stdout+r.Stderr, k) {
			t.Errorf("wg-quick %s printed a key of the configuration", strings.Join(args, " "))
		}
	}
	return r
}

// secretsOf lists the private and preshared keys of the host's wg0.conf.
func secretsOf(h *testnet.Host) []string {
	data, err := os.ReadFile(h.Path("/etc/wireguard/wg0.conf"))
	if err != nil {
		return nil
	}
	var keys []string
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if ok && (k == "privatekey" || k == "presharedkey") {
			keys = append(keys, strings.TrimSpace(v))
		}
	}
	return keys
}

func mustQuick(t testing.TB, h *testnet.Host, args ...string) testnet.Result {
	t.Helper()
	r := wgQuick(t, h, args...)
	if r.Code != 0 {
		t.Fatalf("wg-quick %s in %s: exit %d\n%s%s", strings.Join(args, " "), h.Name, r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// keyPair makes a fresh key pair with our wg.
func keyPair(t testing.TB) (priv, pub string) {
	t.Helper()
	wg := filepath.Join(binaries(t), "wg")
	out, err := exec.Command(wg, "genkey").Output()
	if err != nil {
		t.Fatal(err)
	}
	priv = strings.TrimSpace(string(out))
	cmd := exec.Command(wg, "pubkey")
	cmd.Stdin = strings.NewReader(priv + "\n")
	out, err = cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return priv, strings.TrimSpace(string(out))
}

// pingUntil pings dst from h until one answer comes back or the bounded
// number of tries is spent (the first packets may wait for the handshake).
func pingUntil(h *testnet.Host, dst string, tries int) bool {
	for range tries {
		if pingOnce(h, dst) {
			return true
		}
	}
	return false
}

// pingOnce sends one echo request from h and waits a second for the reply.
func pingOnce(h *testnet.Host, dst string) bool {
	self, _ := os.Executable()
	return h.RunEnv([]string{"WGTEST_HELLO=ping", "PATH=" + basePath}, self, dst).Code == 0
}

// serveHello starts the HTTP server in h on addr and waits until it listens.
func serveHello(t *testing.T, h *testnet.Host, addr string) {
	t.Helper()
	self, _ := os.Executable()
	cmd := h.StartEnv([]string{"WGTEST_HELLO=serve", "PATH=" + basePath}, self, addr)
	_ = cmd
	_, port, _ := net.SplitHostPort(addr)
	for range 50 {
		if h.Sh("ss -ltn | grep -q ':"+port+" '").Code == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the HTTP server in %s does not listen on %s", h.Name, addr)
}

func fetchHello(t *testing.T, h *testnet.Host, url string) string {
	t.Helper()
	self, _ := os.Executable()
	r := h.RunEnv([]string{"WGTEST_HELLO=get", "PATH=" + basePath}, self, url)
	if r.Code != 0 {
		t.Fatalf("GET %s from %s: %s", url, h.Name, r.Stderr)
	}
	return r.Stdout
}

func peerConf(priv, addr, port, peerPub, allowed, endpoint, extra string) string {
	s := fmt.Sprintf("[Interface]\nAddress = %s\nPrivateKey = %s\n", addr, priv)
	if port != "" {
		s += "ListenPort = " + port + "\n"
	}
	s += extra
	s += fmt.Sprintf("\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n", peerPub, allowed)
	if endpoint != "" {
		s += "Endpoint = " + endpoint + "\n"
	}
	return s
}

// twoPeers is seed 1's topology: two hosts joined by a veth eth0,
// 192.0.2.1/24 and 192.0.2.2/24.
func twoPeers(t *testing.T) (a, b *testnet.Host) {
	a, b = testnet.NewHost(t, "wgq-a"), testnet.NewHost(t, "wgq-b")
	testnet.Connect(t, a, b, "eth0")
	a.MustRun("ip", "addr", "add", "192.0.2.1/24", "dev", "eth0")
	b.MustRun("ip", "addr", "add", "192.0.2.2/24", "dev", "eth0")
	return a, b
}

func diffState(t *testing.T, what, before, after string) {
	t.Helper()
	if before != after {
		t.Errorf("%s: state after down differs from before up:\n%s", what, difftest.Lines(before, after))
	}
}

// TestSeed1 is the demo: two peers, ping and HTTP through the tunnel, and
// down leaves each host as it was.
func TestSeed1(t *testing.T) {
	testnet.Require(t)
	a, b := twoPeers(t)
	privA, pubA := keyPair(t)
	privB, pubB := keyPair(t)
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privA, "10.0.0.1/24", "51820", pubB, "10.0.0.2/32", "192.0.2.2:51820", "")), 0o600)
	b.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privB, "10.0.0.2/24", "51820", pubA, "10.0.0.1/32", "192.0.2.1:51820", "")), 0o600)
	beforeA, beforeB := a.Snapshot(), b.Snapshot()

	mustQuick(t, b, "up", "wg0")
	start := time.Now()
	mustQuick(t, a, "up", "wg0")
	upTime := time.Since(start)
	if !pingUntil(a, "10.0.0.2", 20) {
		t.Fatal("no ping through the tunnel")
	}
	t.Logf("wg-quick up took %v; first ping answered %v after up started", upTime, time.Since(start))
	serveHello(t, b, "10.0.0.2:9090")
	if got := fetchHello(t, a, "http://10.0.0.2:9090/"); got != "hello, wireguard" {
		t.Fatalf("HTTP through the tunnel: %q", got)
	}
	// The reference's wg reads our embedded device.
	if _, err := os.Stat("/usr/bin/wg"); err == nil {
		out := a.MustRun("/usr/bin/wg", "show", "wg0")
		if !strings.Contains(out, "peer: "+pubB) || !strings.Contains(out, "latest handshake") {
			t.Errorf("wg show wg0:\n%s", out)
		}
	}
	for _, h := range []*testnet.Host{a, b} {
		for _, p := range h.PIDs() {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			if strings.Contains(string(cmdline), privA) || strings.Contains(string(cmdline), privB) {
				t.Errorf("a private key in the arguments of %d", p)
			}
		}
	}
	mustQuick(t, a, "down", "wg0")
	// Stop the server before comparing: it was not there before either.
	b.Sh("kill $(ss -ltnpH 'sport = :9090' | sed -n 's/.*pid=\\([0-9]*\\).*/\\1/p')")
	mustQuick(t, b, "down", "wg0")
	diffState(t, a.Name, beforeA, a.Snapshot())
	diffState(t, b.Name, beforeB, waitNoProcesses(b, beforeB))
}

// waitNoProcesses snapshots h until it matches want or a second passes
// (a process told to stop may take a moment to go).
func waitNoProcesses(h *testnet.Host, want string) string {
	var s string
	for range 20 {
		if s = h.Snapshot(); s == want {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// TestDaemonLifetime: the embedded device's daemon ends (and its interface
// with it) when its UAPI socket is removed, and when its interface is
// deleted by someone else; nothing of it is left either way.
func TestDaemonLifetime(t *testing.T) {
	testnet.Require(t)
	a, _ := twoPeers(t)
	priv, _ := keyPair(t)
	_, pub := keyPair(t)
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(priv, "10.0.0.1/24", "", pub, "10.0.0.2/32", "", "")), 0o600)
	before := a.Snapshot()
	for _, kill := range [][]string{{"rm", "/run/wireguard/wg0.sock"}, {"ip", "link", "delete", "wg0"}} {
		mustQuick(t, a, "up", "wg0")
		a.MustRun(kill[0], kill[1:]...)
		diffState(t, strings.Join(kill, " "), before, waitNoProcesses(a, before))
	}
}
