package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// doctorRun runs our `wg-quick doctor ARGS...` in h.
func doctorRun(t *testing.T, h *testnet.Host, args ...string) testnet.Result {
	t.Helper()
	return wgQuick(t, h, append([]string{"doctor"}, args...)...)
}

// startPings sends an echo request a second from h to dst, in the
// background, for 20 seconds at most (stopped at the end of the test).
func startPings(t *testing.T, h *testnet.Host, dst string) {
	t.Helper()
	self, _ := os.Executable()
	h.StartEnv([]string{"WGTEST_HELLO=pings", "PATH=" + basePath}, self, dst)
}

// fixCommands are the commands of doctor's text output (its "run:" lines).
func fixCommands(out string) []string {
	var cmds []string
	for _, line := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(line, "  run:  "); ok {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// mustHold checks that text holds each of wants.
func mustHold(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		mustContain(t, what, text, w)
	}
}

// TestDoctorSeed2 is the seed's second scenario: peer1 reaches a LAN host
// behind peer2. peer2 is a host whose FORWARD policy drops (as Docker
// leaves it, the seed's second post), with IP forwarding off and no
// masquerade. While peer1 pings the LAN host, doctor on peer2 names IP
// forwarding, the forward rules and the masquerade with the commands; on
// peer1 it finds nothing wrong with peer1's side. After the commands
// doctor printed are run as printed, ping and HTTP reach the LAN host and
// doctor finds nothing on either side.
func TestDoctorSeed2(t *testing.T) {
	testnet.Require(t)
	a, b := twoPeers(t)
	lan := testnet.NewHost(t, "wgq-lan")
	testnet.Connect(t, b, lan, "lan0")
	b.MustRun("ip", "addr", "add", "192.168.1.10/24", "dev", "lan0")
	lan.MustRun("ip", "addr", "add", "192.168.1.123/24", "dev", "lan0")
	b.MustRun("iptables", "-P", "FORWARD", "DROP")
	privA, pubA := keyPair(t)
	privB, pubB := keyPair(t)
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privA, "10.0.0.1/24", "51820", pubB, "10.0.0.2/32, 192.168.1.0/24", "192.0.2.2:51820", "")), 0o600)
	b.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(privB, "10.0.0.2/24", "51820", pubA, "10.0.0.1/32", "192.0.2.1:51820", "")), 0o600)
	mustQuick(t, b, "up", "wg0")
	mustQuick(t, a, "up", "wg0")
	if !pingUntil(a, "10.0.0.2", 20) {
		t.Fatal("no ping to peer2 through the tunnel")
	}
	startPings(t, a, "192.168.1.123")

	r := doctorRun(t, b, "wg0")
	t.Logf("doctor on peer2 before the fix (exit %d):\n%s", r.Code, r.Stdout)
	if r.Code != 1 {
		t.Fatalf("doctor on peer2: exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	mustHold(t, "doctor on peer2", r.Stdout,
		"[forwarding-off]", "net.ipv4.ip_forward = 0", "to 192.168.1.123 came out of wg0",
		"  run:  sysctl -w net.ipv4.ip_forward=1\n",
		"[forward-chain-drops]", "iptables chain FORWARD: policy drop",
		"  run:  iptables -I FORWARD -i wg0 -o lan0 -j ACCEPT\n",
		"  run:  iptables -I FORWARD -i lan0 -o wg0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
		"[no-way-back]", "  run:  iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o lan0 -j MASQUERADE\n",
		"PostUp = iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o lan0 -j MASQUERADE")
	if strings.Contains(r.Stdout, "[reach-no-answer]") {
		t.Errorf("doctor on peer2 sees its own replies as unanswered:\n%s", r.Stdout)
	}
	ra := doctorRun(t, a, "wg0")
	t.Logf("doctor on peer1 before the fix (exit %d):\n%s", ra.Code, ra.Stdout)
	if ra.Code != 0 || !strings.Contains(ra.Stdout, "wg0: no problem found\n") {
		t.Fatalf("doctor on peer1: exit %d, want 0 and no problem\n%s%s", ra.Code, ra.Stdout, ra.Stderr)
	}
	mustHold(t, "doctor on peer1", ra.Stdout, "[reach-no-answer] 192.168.1.123/32", "peer "+pubB)

	cmds := fixCommands(r.Stdout)
	if len(cmds) != 4 {
		t.Fatalf("doctor printed %d commands, want 4:\n%s", len(cmds), r.Stdout)
	}
	for _, c := range cmds {
		if res := b.Sh(c); res.Code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", c, res.Code, res.Stdout, res.Stderr)
		}
	}
	if !pingUntil(a, "192.168.1.123", 20) {
		t.Fatal("no ping to the LAN host after doctor's fix")
	}
	serveHello(t, lan, "192.168.1.123:9090")
	if got := fetchHello(t, a, "http://192.168.1.123:9090/"); got != "hello, wireguard" {
		t.Fatalf("HTTP to the LAN host after doctor's fix: %q", got)
	}
	for _, h := range []*testnet.Host{b, a} {
		if r := doctorRun(t, h, "wg0"); r.Code != 0 || r.Stdout != "wg0: no problem found\n" {
			t.Errorf("doctor on %s after the fix: exit %d\n%s%s", h.Name, r.Code, r.Stdout, r.Stderr)
		}
	}
}
