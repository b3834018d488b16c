package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// Issue 13 §2: state under /run is kept per network namespace. Hosts here
// have a /run each; these tests give two hosts one /var/run/wireguard, as
// `ip netns exec` leaves namespaces that share the machine's /run.

// sharedRun makes a and b see one directory as /run/wireguard.
func sharedRun(t *testing.T, a, b *testnet.Host) {
	dir := t.TempDir()
	for _, h := range []*testnet.Host{a, b} {
		h.MustRun("mount", "--bind", dir, "/run/wireguard")
	}
}

// TestSharedRunUserspace: a userspace device is named by its socket in
// /var/run/wireguard, so a second namespace sharing that directory cannot
// have a userspace device of the same name (the reference's limit too):
// its up says so and leaves nothing, and the first namespace's device is
// not touched. The lock is not what stops it (each namespace has its own).
func TestSharedRunUserspace(t *testing.T) {
	testnet.Require(t)
	if kernelModule() {
		t.Skip("the kernel has WireGuard: no userspace device is made")
	}
	a, b := twoPeers(t)
	sharedRun(t, a, b)
	conf := fillKeys("[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.1/24\n\n[Peer]\nPublicKey = {PEERPUB}\nAllowedIPs = 10.0.0.2/32\n")
	a.WriteFile(confPath, []byte(conf), 0o600)
	b.WriteFile(confPath, []byte(conf), 0o600)
	mustQuick(t, a, "up", "wg0")
	aUp := fullState(t, a, "wg0")
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			before := fullState(t, b)
			r, _ := im.run(t, b, time.Minute, nil, "up", "wg0")
			t.Logf("%s up in B: exit %d\n%s", im.name, r.Code, r.Stderr)
			if r.Code == 0 {
				t.Fatalf("up in B succeeded")
			}
			if im.name == "ours" && !strings.Contains(r.Stderr, "wg-quick: `wg0' cannot be a userspace device in this network namespace: /var/run/wireguard/wg0.sock serves the `wg0' of another namespace that shares /var/run/wireguard (pid ") {
				t.Errorf("up in B: no clear message:\n%s", r.Stderr)
			}
			if got := waitStateOn(t, b, before); got != before {
				t.Errorf("B changed:\n%s", difftest.Lines(before, got))
			}
			if got := fullState(t, a, "wg0"); got != aUp {
				t.Errorf("A's wg0 changed:\n%s", difftest.Lines(aUp, got))
			}
		})
	}
	mustQuick(t, a, "down", "wg0")
}

// waitStateOn takes fullState (no interface) until it is want or two
// seconds pass.
func waitStateOn(t *testing.T, h *testnet.Host, want string) string {
	t.Helper()
	var s string
	for range 20 {
		if s = fullState(t, h); s == want {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// TestSrcValidMarkMixed (issue 13 §2): our full-tunnel up, the reference's
// down (which leaves src_valid_mark at 1 and our record behind), then our
// up and down: the sysctl ends as it was before the first up; and a record
// that no longer matches the system (the value set back by hand since) is
// dropped with a warning by the next down, never applied.
func TestSrcValidMarkMixed(t *testing.T) {
	testnet.Require(t)
	if _, err := os.Stat(refQuickBin); err != nil {
		t.Skipf("the reference wg-quick (%s) is not installed", refQuickBin)
	}
	ref := impls(t)[1]
	svm := func(h *testnet.Host) string {
		return strings.TrimSpace(h.MustRun("sysctl", "-n", "net.ipv4.conf.all.src_valid_mark"))
	}
	t.Run("ours-reference-ours", func(t *testing.T) {
		a := killHost(t, killConfigs[2].conf, true)
		if v := svm(a); v != "0" {
			t.Fatalf("src_valid_mark %s before", v)
		}
		before := fullState(t, a, "wg0")
		mustQuick(t, a, "up", "wg0")
		if r, _ := ref.run(t, a, time.Minute, nil, "down", "wg0"); r.Code != 0 {
			t.Fatalf("reference down: exit %d\n%s", r.Code, r.Stderr)
		}
		if v := svm(a); v != "1" {
			t.Fatalf("src_valid_mark %s after the reference's down (it leaves 1)", v)
		}
		mustQuick(t, a, "up", "wg0")
		mustQuick(t, a, "down", "wg0")
		if v := svm(a); v != "0" {
			t.Errorf("src_valid_mark %s at the end, 0 before the first up", v)
		}
		if got := waitState(t, a, before); got != before {
			t.Errorf("the host changed:\n%s", difftest.Lines(before, got))
		}
	})
	t.Run("record-no-longer-matches", func(t *testing.T) {
		a := killHost(t, killConfigs[2].conf, true)
		mustQuick(t, a, "up", "wg0")
		if r, _ := ref.run(t, a, time.Minute, nil, "down", "wg0"); r.Code != 0 {
			t.Fatalf("reference down: exit %d\n%s", r.Code, r.Stderr)
		}
		// Set by hand to 2 (loose mode) since: the record's 1 is gone.
		a.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=2")
		// A split tunnel's up and down: its down looks at the record.
		a.WriteFile(confPath, []byte(fillKeys(killConfigs[0].conf)), 0o600)
		mustQuick(t, a, "up", "wg0")
		r := mustQuick(t, a, "down", "wg0")
		if !strings.Contains(r.Stderr, "[!] net.ipv4.conf.all.src_valid_mark is 2, not the 1 wg-quick set for wg0: leaving it, and dropping the record of its former value 0\n") ||
			strings.Contains(r.Stderr, "src_valid_mark=") {
			t.Errorf("down:\n%s", r.Stderr)
		}
		if v := svm(a); v != "2" {
			t.Errorf("src_valid_mark %s, want the 2 set by hand", v)
		}
		if ls := a.MustRun("ls", "/run/wireguard"); strings.Contains(ls, "src_valid_mark") {
			t.Errorf("the record stayed: %s", ls)
		}
	})
}
