package main

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// The kill test (issue 7): `wg-quick up` is killed with SIGKILL after each
// step of its plan in turn (the test build's step hook, see
// internal/quick/testhook_on.go, makes the point exact), and then
//   - a `down` must leave the host as it was before the up, and
//   - (killed again at the same step) a new `up` must clean up and bring the
//     interface up exactly as an uninterrupted up does; its `down` must
//     leave the host as it was.
// States are compared whole (fullState): links, addresses, routes of every
// table, rules, nftables, iptables, sysctls, /run/wireguard (sockets,
// locks, records), processes (the embedded device's daemon), DNS records
// and the interface's configuration.

// killConfigs are the configurations killed at every step.
var killConfigs = []struct {
	name string
	// conf is A's wg0.conf; {PRIV}... as in the bad-input cases.
	conf string
	// v6 gives the veth IPv6 addresses too.
	v6 bool
}{
	{name: "v4", conf: "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53, example.test\n" +
		"PreUp = true\nPostUp = true\nPreDown = true\nPostDown = true\n\n" +
		"[Peer]\nPublicKey = {PEERPUB}\nPresharedKey = {PSK}\nAllowedIPs = 10.0.0.2/32, 192.168.1.0/24\nEndpoint = 192.0.2.2:51820\n"},
	{name: "v6", v6: true, conf: "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = fd00::1/64, fd00::100/128\nDNS = fd00::53\nMTU = 1400\n" +
		"PostUp = true\n\n" +
		"[Peer]\nPublicKey = {PEERPUB}\nAllowedIPs = fd00::2/128, fd00:1::/64\nEndpoint = [2001:db8:1::2]:51820\n"},
	{name: "full-tunnel", v6: true, conf: "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24, fd00::1/64\nDNS = 10.0.0.53\n" +
		"PostUp = true\n\n" +
		"[Peer]\nPublicKey = {PEERPUB}\nPresharedKey = {PSK}\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 192.0.2.2:51820\n"},
}

// killHost is A of twoPeers with default routes through B (and IPv6
// addresses when v6), and A's wg0.conf.
func killHost(t *testing.T, conf string, v6 bool) *testnet.Host {
	a, b := twoPeers(t)
	a.MustRun("ip", "route", "add", "default", "via", "192.0.2.2")
	if v6 {
		a.MustRun("ip", "addr", "add", "2001:db8:1::1/64", "dev", "eth0", "nodad")
		b.MustRun("ip", "addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad")
		a.MustRun("ip", "-6", "route", "add", "default", "via", "2001:db8:1::2")
	}
	a.WriteFile(confPath, []byte(fillKeys(conf)), 0o600)
	return a
}

// hookedRun runs the test build of wg-quick in h with the step hook set
// (hook "" for none) and reports whether SIGKILL ended it.
func hookedRun(t *testing.T, h *testnet.Host, hook string, args ...string) (r testnet.Result, killed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := quickEnv(t)
	if hook != "" {
		env = append(env, "WG_QUICK_TEST_STEP_HOOK="+hook)
	}
	cmd := h.Command(ctx, hookedQuick(t), args...)
	cmd.Env = env
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r = testnet.Result{Stdout: o.String(), Stderr: e.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			killed = true
		}
	} else if err != nil {
		t.Fatalf("wg-quick %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("wg-quick %v: timed out", args)
	}
	if k := leaked(r.Stdout+r.Stderr, secretForms(relPriv, relPSK)); k != "" {
		t.Errorf("wg-quick %v printed a key", args)
	}
	return r, killed
}

func TestKillAtEveryStep(t *testing.T) {
	testnet.Require(t)
	for _, c := range killConfigs {
		t.Run(c.name, func(t *testing.T) {
			a := killHost(t, c.conf, c.v6)
			before := fullState(t, a, "wg0")
			// The uninterrupted up: the state every recovered up must reach.
			r, _ := hookedRun(t, a, "", "up", "wg0")
			if r.Code != 0 {
				t.Fatalf("up: exit %d\n%s", r.Code, r.Stderr)
			}
			upState := fullState(t, a, "wg0")
			steps := strings.Count(r.Stderr, "[#] ")
			t.Logf("uninterrupted up:\n%s", r.Stderr)
			if r, _ := hookedRun(t, a, "", "down", "wg0"); r.Code != 0 {
				t.Fatalf("down: exit %d\n%s", r.Code, r.Stderr)
			}
			diffState(t, "down after an uninterrupted up", before, waitState(t, a, before))

			n := 0
			for ; n <= 2*steps+5; n++ {
				hook := "kill:" + itoa(n)
				r, killed := hookedRun(t, a, hook, "up", "wg0")
				if !killed {
					// Past the last step: the up ran to its end.
					if r.Code != 0 {
						t.Fatalf("up with %s: exit %d\n%s", hook, r.Code, r.Stderr)
					}
					if got := fullState(t, a, "wg0"); got != upState {
						t.Errorf("up with %s: not the state of an up:\n%s", hook, difftest.Lines(upState, got))
					}
					hookedRun(t, a, "", "down", "wg0")
					break
				}
				t.Logf("killed after %d steps; its trace ends %q", n, lastLine(r.Stderr))
				// Then down.
				d, _ := hookedRun(t, a, "", "down", "wg0")
				if d.Code != 0 || !strings.HasPrefix(d.Stderr, "[!] Cleaning up `wg0' after an interrupted run (up ") {
					t.Errorf("down after an up killed after %d steps: exit %d\n%s", n, d.Code, d.Stderr)
				}
				diffState(t, "down after an up killed after "+itoa(n)+" steps", before, waitState(t, a, before))

				// Killed again, then a new up, and down.
				if _, killed := hookedRun(t, a, hook, "up", "wg0"); !killed {
					t.Fatalf("up with %s was not killed the second time", hook)
				}
				u, _ := hookedRun(t, a, "", "up", "wg0")
				if u.Code != 0 || !strings.HasPrefix(u.Stderr, "[!] Cleaning up `wg0' after an interrupted run (up ") {
					t.Errorf("up after an up killed after %d steps: exit %d\n%s", n, u.Code, u.Stderr)
				}
				if got := waitState(t, a, upState); got != upState {
					t.Errorf("up after an up killed after %d steps: not the state of an up:\n%s", n, difftest.Lines(upState, got))
				}
				if d, _ := hookedRun(t, a, "", "down", "wg0"); d.Code != 0 {
					t.Errorf("down: exit %d\n%s", d.Code, d.Stderr)
				}
				diffState(t, "up and down after an up killed after "+itoa(n)+" steps", before, waitState(t, a, before))
			}
			if n < steps {
				t.Errorf("up was killed at %d points; its trace has %d steps", n, steps)
			}
			t.Logf("killed after each of %d points (0 to %d steps done); the trace has %d lines", n, n-1, steps)
		})
	}
}

// waitState takes fullState until it is want or two seconds pass (a
// daemon whose interface was deleted takes a moment to exit).
func waitState(t *testing.T, h *testnet.Host, want string) string {
	t.Helper()
	var s string
	for range 20 {
		if s = fullState(t, h, "wg0"); s == want {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// TestKillDownAtEveryStep: `wg-quick down` killed after each step in turn;
// a second down brings the host back to its state before the up, and so
// does an up (which cleans up first) followed by a down.
func TestKillDownAtEveryStep(t *testing.T) {
	testnet.Require(t)
	a := killHost(t, killConfigs[0].conf, false)
	before := fullState(t, a, "wg0")
	if r, _ := hookedRun(t, a, "", "up", "wg0"); r.Code != 0 {
		t.Fatalf("up: exit %d\n%s", r.Code, r.Stderr)
	}
	upState := fullState(t, a, "wg0")
	n := 0
	for ; n < 50; n++ {
		hook := "kill:" + itoa(n)
		r, killed := hookedRun(t, a, hook, "down", "wg0")
		if !killed {
			if r.Code != 0 {
				t.Fatalf("down with %s: exit %d\n%s", hook, r.Code, r.Stderr)
			}
			diffState(t, "an uninterrupted down", before, waitState(t, a, before))
			break
		}
		t.Logf("down killed after %d steps; its trace ends %q", n, lastLine(r.Stderr))
		d, _ := hookedRun(t, a, "", "down", "wg0")
		if d.Code != 0 {
			t.Errorf("down after a down killed after %d steps: exit %d\n%s", n, d.Code, d.Stderr)
		}
		diffState(t, "down after a down killed after "+itoa(n)+" steps", before, waitState(t, a, before))
		// Up again; killed again at the same point; then up, and down.
		hookedRun(t, a, "", "up", "wg0")
		if _, killed := hookedRun(t, a, hook, "down", "wg0"); !killed {
			t.Fatalf("down with %s was not killed the second time", hook)
		}
		// Before down starts to remove (its PreDown hook, SaveConfig),
		// its record says so and nothing of ours has changed: the
		// interface is whole, and up finds it there.
		changing := strings.HasPrefix(lockRecord(t, a, "wg0"), "down ")
		u, _ := hookedRun(t, a, "", "up", "wg0")
		switch {
		case changing && (u.Code != 0 || !strings.HasPrefix(u.Stderr, "[!] Cleaning up `wg0' after an interrupted run (down ")):
			t.Errorf("up after a down killed after %d steps: exit %d\n%s", n, u.Code, u.Stderr)
		case !changing && (u.Code != 1 || u.Stderr != "wg-quick: `wg0' already exists\n"):
			t.Errorf("up after a down killed after %d steps, before it changed anything: exit %d\n%s", n, u.Code, u.Stderr)
		}
		if got := waitState(t, a, upState); got != upState {
			t.Errorf("up after a down killed after %d steps: not the state of an up:\n%s", n, difftest.Lines(upState, got))
		}
	}
	if n < 3 {
		t.Errorf("down was killed at %d points only", n)
	}
}

// lockRecord is the content of iface's lock file in h's /run/wireguard
// (IFACE.NETNS.lock, one namespace's), "" when there is none.
func lockRecord(t *testing.T, h *testnet.Host, iface string) string {
	t.Helper()
	var found []string
	for _, e := range dirEntries(h, "/run/wireguard") {
		if strings.HasPrefix(e, iface+".") && strings.HasSuffix(e, ".lock") {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return ""
	case 1:
		return h.ReadFile("/run/wireguard/" + found[0])
	}
	t.Fatalf("more than one lock file of %s: %q", iface, found)
	return ""
}
