package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

// oneHost is a host with a veth to a second one (192.0.2.1 -> .2) and a
// wg0.conf whose [Interface] gets extra.
func oneHost(t *testing.T, extra string) (a, b *testnet.Host) {
	a, b = twoPeers(t)
	a.MustRun("ip", "route", "add", "default", "via", "192.0.2.2")
	priv, _ := keyPair(t)
	_, pub := keyPair(t)
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(peerConf(priv, "10.0.0.1/24", "", pub, "10.0.0.2/32, 192.168.1.0/24", "192.0.2.2:51820", "DNS = 10.0.0.53\n"+extra)), 0o600)
	return a, b
}

// TestRollback: a failing up leaves the host exactly as it found it.
func TestRollback(t *testing.T) {
	testnet.Require(t)
	for _, c := range []struct {
		name   string
		extra  string
		setup  func(a *testnet.Host)
		code   int
		expect string // in stderr
	}{
		{name: "preup-fails", extra: "PreUp = false\n", code: 1, expect: "[#] false\n[#] ip link delete dev wg0\n"},
		{name: "postup-fails", extra: "PostUp = echo about to fail; exit 7\nPostDown = echo should-not-run\n", code: 7,
			expect: "[#] echo about to fail; exit 7\n[#] resolvconf -d wg0 -f\n[#] ip link delete dev wg0\n"},
		{name: "route-exists", setup: func(a *testnet.Host) {
			a.MustRun("ip", "route", "add", "192.168.1.0/24", "via", "192.0.2.2")
		}, code: 2, expect: "[#] ip -4 route add 192.168.1.0/24 dev wg0\nRTNETLINK answers: File exists\n[#] resolvconf -d wg0 -f\n[#] ip link delete dev wg0\n"},
		{name: "mtu-unusable", setup: func(a *testnet.Host) {
			// The route to the endpoint says mtu 100: 100-80 is below the minimum.
			a.MustRun("ip", "route", "add", "192.0.2.2/32", "dev", "eth0", "mtu", "100")
		}, code: 2, expect: "[#] ip link set mtu 20 up dev wg0\nError: mtu less than device minimum.\n[#] ip link delete dev wg0\n"},
		{name: "address-refused", extra: "Address = 10.0.0.300/24\n", code: 1, expect: "Address is not an IP address"},
		// IPv6 off on the interface only (by a PreUp): the IPv6 address
		// cannot be added. (Off on the whole host, it is skipped:
		// TestIPv6DisabledTunnel.)
		{name: "ipv6-disabled", extra: "Address = fd00::1/64\nPreUp = sysctl -q net.ipv6.conf.%i.disable_ipv6=1\n", code: 2, expect: "[#] ip -6 address add fd00::1/64 dev wg0\nError: ipv6: IPv6 is disabled on this device.\n[#] ip link delete dev wg0\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, _ := oneHost(t, c.extra)
			if c.setup != nil {
				c.setup(a)
			}
			before := a.Snapshot()
			r := wgQuick(t, a, "up", "wg0")
			if r.Code != c.code || !strings.Contains(r.Stderr, c.expect) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant it to contain:\n%s", r.Code, c.code, r.Stderr, c.expect)
			}
			if strings.Contains(r.Stdout+r.Stderr, "should-not-run") && !strings.Contains(r.Stderr, "PostDown") {
				t.Errorf("PostDown ran on rollback")
			}
			diffState(t, c.name, before, a.Snapshot())
		})
	}
}

// startUp starts `wg-quick up wg0` in a and returns once its trace shows
// line; the command and the rest of its stderr are returned.
func startUp(t *testing.T, a *testnet.Host, line string) (*execCmd, *strings.Builder, <-chan struct{}) {
	t.Helper()
	cmd := a.Command(context.Background(), filepath.Join(binaries(t), "wg-quick"), "up", "wg0")
	cmd.Env = quickEnv(t)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	var mu sync.Mutex
	seen := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			mu.Lock()
			all.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if sc.Text() == line {
				once.Do(func() { close(seen) })
			}
		}
	}()
	select {
	case <-seen:
	case <-done:
		t.Fatalf("up ended before %q:\n%s", line, all.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("up did not reach %q", line)
	}
	return cmd, &all, done
}

type execCmd = exec.Cmd

// TestSignalDuringUp: SIGTERM while a PostUp hook runs stops the hook,
// undoes everything, and exits 143.
func TestSignalDuringUp(t *testing.T) {
	testnet.Require(t)
	a, _ := oneHost(t, "PostUp = sleep 30\n")
	before := a.Snapshot()
	cmd, stderr, done := startUp(t, a, "[#] sleep 30")
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	<-done
	if cmd.ProcessState.ExitCode() != 143 || time.Since(start) > 15*time.Second {
		t.Errorf("exit %v after %v", err, time.Since(start))
	}
	want := "[!] Interrupted by SIGTERM: undoing what was done.\n[#] resolvconf -d wg0 -f\n[#] ip link delete dev wg0\n"
	if !strings.HasSuffix(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant it to end with:\n%s", stderr.String(), want)
	}
	diffState(t, "after SIGTERM", before, waitNoProcesses(a, before))
}

// TestKilledUpRecovery: an up killed (SIGKILL) half-way leaves its record;
// down cleans up after it, and so does the next up.
func TestKilledUpRecovery(t *testing.T) {
	testnet.Require(t)
	a, _ := oneHost(t, "PostUp = sleep 30\n")
	before := a.Snapshot()
	for _, next := range []string{"down", "up"} {
		cmd, _, done := startUp(t, a, "[#] sleep 30")
		sleeper := hookSleep(t, a)
		cmd.Process.Kill()
		cmd.Wait()
		<-done
		// The hook (bash, sleep) outlives wg-quick: end its process
		// group, as a service manager ends what is left of a unit.
		killGroup(t, sleeper)
		if !strings.Contains(a.Run("ls", "/run/wireguard").Stdout, "wg0.lock") {
			t.Fatalf("no record of the killed up")
		}
		if next == "down" {
			r := mustQuick(t, a, "down", "wg0")
			if !strings.Contains(r.Stderr, "[!] Cleaning up `wg0' after an interrupted run (up ") || !strings.Contains(r.Stderr, "[#] ip link delete dev wg0\n[#] resolvconf -d wg0 -f\n") {
				t.Errorf("down after a killed up:\n%s", r.Stderr)
			}
			diffState(t, "down after a killed up", before, waitNoProcesses(a, before))
			continue
		}
		a.WriteFile("/etc/wireguard/wg0.conf", []byte(strings.Replace(a.ReadFile("/etc/wireguard/wg0.conf"), "PostUp = sleep 30\n", "", 1)), 0o600)
		r := mustQuick(t, a, "up", "wg0")
		if !strings.Contains(r.Stderr, "[!] Cleaning up `wg0' after an interrupted run (up ") {
			t.Errorf("up after a killed up:\n%s", r.Stderr)
		}
		mustQuick(t, a, "down", "wg0")
		diffState(t, "up and down after a killed up", before, waitNoProcesses(a, before))
	}
}

// hookSleep waits (up to five seconds) for the "sleep 30" of a hook to run
// in h and returns its PID.
func hookSleep(t *testing.T, h *testnet.Host) int {
	t.Helper()
	for range 100 {
		for _, pid := range h.PIDs() {
			cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if err == nil && string(cmdline) == "sleep\x0030\x00" {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the hook's sleep does not run")
	return 0
}

// killGroup kills the process group of pid (a hook's bash and sleep run
// in a group of their own when wg-quick has no terminal).
func killGroup(t *testing.T, pid int) {
	t.Helper()
	pgid, err := syscall.Getpgid(pid)
	if err != nil || pgid <= 1 || pgid == syscall.Getpgrp() {
		t.Fatalf("process group of %d: %d %v", pid, pgid, err)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
}

// TestOneWinner: two ups of one interface at once: one brings it up, the
// other fails at once without touching it.
func TestOneWinner(t *testing.T) {
	testnet.Require(t)
	a, _ := oneHost(t, "")
	for round := range 5 {
		var wg sync.WaitGroup
		results := make([]testnet.Result, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = wgQuick(t, a, "up", "wg0")
			}()
		}
		wg.Wait()
		won := 0
		for _, r := range results {
			switch {
			case r.Code == 0:
				won++
			case r.Code == 1 && (strings.HasPrefix(r.Stderr, "wg-quick: `wg0' is busy: ") || r.Stderr == "wg-quick: `wg0' already exists\n"):
			default:
				t.Errorf("round %d: the loser says (exit %d):\n%s", round, r.Code, r.Stderr)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d winners", round, won)
		}
		mustQuick(t, a, "down", "wg0")
	}
}

// TestDownDeletesRules: down deletes the policy rules of a full tunnel
// (found from the interface's fwmark and its /0 allowed IP), for both
// families, and leaves other rules alone, whoever added them: here the
// interface is brought up with Table = off and the rules are added by hand.
func TestDownDeletesRules(t *testing.T) {
	testnet.Require(t)
	a, _ := twoPeers(t)
	priv, _ := keyPair(t)
	_, pub := keyPair(t)
	conf := peerConf(priv, "10.0.0.2/32", "", pub, "0.0.0.0/0, ::/0", "192.0.2.2:51820", "FwMark = 51820\n")
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(strings.Replace(conf, "[Interface]\n", "[Interface]\nTable = off\n", 1)), 0o600)
	a.MustRun("ip", "rule", "add", "from", "192.0.2.0/24", "table", "100")
	before := a.Snapshot()
	mustQuick(t, a, "up", "wg0")
	for _, fam := range []string{"-4", "-6"} {
		a.MustRun("ip", fam, "rule", "add", "not", "fwmark", "51820", "table", "51820")
		a.MustRun("ip", fam, "rule", "add", "table", "main", "suppress_prefixlength", "0")
	}
	a.WriteFile("/etc/wireguard/wg0.conf", []byte(conf), 0o600)
	r := mustQuick(t, a, "down", "wg0")
	want := "[#] ip -4 rule delete table 51820\n[#] ip -4 rule delete table main suppress_prefixlength 0\n" +
		"[#] ip -6 rule delete table 51820\n[#] ip -6 rule delete table main suppress_prefixlength 0\n[#] ip link delete dev wg0\n"
	if r.Stderr != want {
		t.Errorf("down:\n%s\nwant:\n%s", r.Stderr, want)
	}
	diffState(t, "after down", before, a.Snapshot())
}
