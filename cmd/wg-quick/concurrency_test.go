package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// Concurrency (issue 7): two runs on one interface at the same moment have
// one winner; the loser fails with a clear message and does not touch the
// winner's interface.

const concConf = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24, fd00::1/64\n\n" +
	"[Peer]\nPublicKey = {PEERPUB}\nPresharedKey = {PSK}\nAllowedIPs = 10.0.0.2/32, 192.168.1.0/24\nEndpoint = 192.0.2.2:51820\n"

// ifaceState is the part of the host's state an up makes, read by one
// shell in the host (fast enough to take every round): the links, the
// addresses, the routes of every table, the rules, the interface's
// configuration, /run/wireguard and the processes. It waits (up to 3 s)
// for IPv6 duplicate address detection to end first: an address still
// tentative has no local route yet, which made a round differ.
func ifaceState(t *testing.T, h *testnet.Host) string {
	t.Helper()
	r := h.Sh("for i in $(seq 60); do [ -z \"$(ip -6 address show tentative)\" ] && break; sleep 0.05; done; " +
		"ip -d link; ip address; ip -4 route show table all; ip -6 route show table all; ip -4 rule; ip -6 rule; " +
		wgBin(t) + " showconf wg0 2>&1; ls -a /run/wireguard")
	procs := strings.Join(cmdlines(h), "\n")
	return ifIndex.ReplaceAllString(r.Stdout+r.Stderr, "N: ") + "### processes\n" + procs
}

// cmdlines are the command lines of the processes in h, sorted.
func cmdlines(h *testnet.Host) []string {
	var out []string
	for _, p := range h.PIDs() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if err == nil {
			out = append(out, strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " "))
		}
	}
	slices.Sort(out)
	return out
}

// gate lets commands start at the same moment: each waits for a shared
// flock on a file the test holds exclusively, so that releasing it wakes
// them all at once.
type gate struct {
	t    *testing.T
	h    *testnet.Host
	path string // as the host sees it
	f    *os.File
	ino  uint64
}

func newGate(t *testing.T, h *testnet.Host) *gate {
	g := &gate{t: t, h: h, path: "/run/gate"}
	f, err := os.OpenFile(h.Path(g.path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	g.f, g.ino = f, st.Ino
	return g
}

func (g *gate) close() {
	if err := unix.Flock(int(g.f.Fd()), unix.LOCK_EX); err != nil {
		g.t.Fatal(err)
	}
}

// waiters counts the blocked lock requests on the gate (/proc/locks lists
// them with "->").
func (g *gate) waiters() int {
	data, _ := os.ReadFile("/proc/locks")
	n := 0
	suffix := fmt.Sprintf(":%d ", g.ino)
	for l := range strings.SplitSeq(string(data), "\n") {
		if strings.Contains(l, "->") && strings.Contains(l, suffix) {
			n++
		}
	}
	return n
}

// open waits (five seconds at most) until n commands wait at the gate,
// then lets them all go.
func (g *gate) open(n int) {
	for range 500 {
		if g.waiters() >= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if w := g.waiters(); w < n {
		g.t.Fatalf("%d commands wait at the gate, not %d", w, n)
	}
	unix.Flock(int(g.f.Fd()), unix.LOCK_UN)
}

// started is a wg-quick run behind the gate.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr strings.Builder
}

func (g *gate) start(args ...string) *started {
	s := &started{}
	all := append([]string{"-s", g.path, quickBin(g.t)}, args...)
	s.cmd = g.h.Command(context.Background(), "flock", all...)
	s.cmd.Env = quickEnv(g.t)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	return s
}

func quickBin(t *testing.T) string { return binaries(t) + "/wg-quick" }

func (s *started) wait(t *testing.T) testnet.Result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		t.Fatalf("%v did not end", s.cmd.Args)
	}
	r := testnet.Result{Stdout: s.stdout.String(), Stderr: s.stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if k := leaked(r.Stdout+r.Stderr, secretForms(relPriv, relPSK)); k != "" {
		t.Errorf("%v printed a key", s.cmd.Args)
	}
	return r
}

var busyMsg = regexp.MustCompile("^wg-quick: `wg0' is busy: wg-quick (up|down|save) \\(pid [0-9]+\\) is changing it\n$")

const rounds = 50

// TestOneWinnerUpUp: 50 rounds of two ups of one interface let go at the
// same moment: exactly one brings it up; the other fails at once ("busy",
// or "already exists" when it came second), and the interface is exactly
// as one up makes it.
func TestOneWinnerUpUp(t *testing.T) {
	testnet.Require(t)
	a := killHost(t, concConf, true)
	before := fullState(t, a, "wg0")
	mustQuick(t, a, "up", "wg0")
	upState := ifaceState(t, a)
	mustQuick(t, a, "down", "wg0")
	g := newGate(t, a)
	busy := 0
	for round := range rounds {
		g.close()
		runs := []*started{g.start("up", "wg0"), g.start("up", "wg0")}
		g.open(2)
		won := 0
		for _, s := range runs {
			r := s.wait(t)
			switch {
			case r.Code == 0:
				won++
			case r.Code == 1 && busyMsg.MatchString(r.Stderr):
				busy++
			case r.Code == 1 && r.Stderr == "wg-quick: `wg0' already exists\n":
			default:
				t.Errorf("round %d: the loser says (exit %d):\n%s", round, r.Code, r.Stderr)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d winners", round, won)
		}
		if got := ifaceState(t, a); got != upState {
			t.Fatalf("round %d: the interface is not as one up makes it:\n%s", round, difftest.Lines(upState, got))
		}
		mustQuick(t, a, "down", "wg0")
	}
	t.Logf("%d rounds: one winner each; %d losers found the lock held (the others came after the winner)", rounds, busy)
	diffState(t, "after the rounds", before, waitState(t, a, before))
}

// TestOneWinnerUpDown: 50 rounds of up and down of an interface that is
// up, let go at the same moment. Whatever the order, each run either does
// its whole job or fails with a clear message, and the interface ends
// exactly up or exactly down: down then up (both succeed: up), up first
// (it fails: already exists) then down (down), or one of them busy.
func TestOneWinnerUpDown(t *testing.T) {
	testnet.Require(t)
	a := killHost(t, concConf, true)
	before := fullState(t, a, "wg0")
	downState := ifaceState(t, a)
	mustQuick(t, a, "up", "wg0")
	upState := ifaceState(t, a)
	g := newGate(t, a)
	outcomes := map[string]int{}
	for round := range rounds {
		g.close()
		up, down := g.start("up", "wg0"), g.start("down", "wg0")
		g.open(2)
		ru, rd := up.wait(t), down.wait(t)
		upOK, downOK := ru.Code == 0, rd.Code == 0
		if !upOK && !(ru.Code == 1 && (busyMsg.MatchString(ru.Stderr) || ru.Stderr == "wg-quick: `wg0' already exists\n")) {
			t.Errorf("round %d: up failed (exit %d):\n%s", round, ru.Code, ru.Stderr)
		}
		if !downOK && !(rd.Code == 1 && busyMsg.MatchString(rd.Stderr)) {
			t.Errorf("round %d: down failed (exit %d):\n%s", round, rd.Code, rd.Stderr)
		}
		if upOK && !downOK {
			t.Errorf("round %d: up succeeded on an interface that was up and stayed up:\nup: %s\ndown: %s", round, ru.Stderr, rd.Stderr)
		}
		want, name := upState, "up"
		if downOK && !upOK {
			want, name = downState, "down"
		}
		outcomes[fmt.Sprintf("up %s, down %s: %s", okWord(upOK, ru.Stderr), okWord(downOK, rd.Stderr), name)]++
		got := ifaceState(t, a)
		for i := 0; got != want && i < 20; i++ { // a daemon may take a moment to exit
			time.Sleep(50 * time.Millisecond)
			got = ifaceState(t, a)
		}
		if got != want {
			t.Fatalf("round %d: the interface is not exactly %s:\n%s", round, name, difftest.Lines(want, got))
		}
		if name == "down" {
			mustQuick(t, a, "up", "wg0")
		}
	}
	for o, n := range outcomes {
		t.Logf("%2d× %s", n, o)
	}
	mustQuick(t, a, "down", "wg0")
	diffState(t, "after the rounds", before, waitState(t, a, before))
}

func okWord(ok bool, stderr string) string {
	switch {
	case ok:
		return "ok"
	case strings.Contains(stderr, "is busy"):
		return "busy"
	}
	return "failed (" + strings.TrimSpace(stderr) + ")"
}

// TestLoserDoesNotTouch: an up stopped (SIGSTOP, by the test build's step
// hook) after each step in turn holds the lock; a second up, a down and a
// save meanwhile fail with "busy" naming it, and change nothing; the
// stopped up, continued, finishes as an up does.
func TestLoserDoesNotTouch(t *testing.T) {
	testnet.Require(t)
	a := killHost(t, concConf, true)
	before := fullState(t, a, "wg0")
	mustQuick(t, a, "up", "wg0")
	upState := ifaceState(t, a)
	mustQuick(t, a, "down", "wg0")
	for n := 0; ; n++ {
		cmd := a.Command(context.Background(), hookedQuick(t), "up", "wg0")
		cmd.Env = append(quickEnv(t), "WG_QUICK_TEST_STEP_HOOK=stop:"+itoa(n))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !waitStopped(cmd) {
			// It ended without stopping: n is past its last step.
			if err := cmd.Wait(); err != nil {
				t.Fatalf("up with stop:%d: %v\n%s", n, err, stderr.String())
			}
			mustQuick(t, a, "down", "wg0")
			if n < 3 {
				t.Fatalf("up stopped at %d points only", n)
			}
			t.Logf("up stopped after each of 0 to %d steps", n-1)
			break
		}
		held := ifaceState(t, a)
		for _, verb := range []string{"up", "down", "save"} {
			r := wgQuick(t, a, verb, "wg0")
			want := fmt.Sprintf("wg-quick: `wg0' is busy: wg-quick up (pid %d) is changing it\n", cmd.Process.Pid)
			if r.Code != 1 || r.Stderr != want {
				t.Errorf("%s while up is stopped after %d steps: exit %d\n%s", verb, n, r.Code, r.Stderr)
			}
			if got := ifaceState(t, a); got != held {
				t.Errorf("%s while up is stopped after %d steps changed the host:\n%s", verb, n, difftest.Lines(held, got))
			}
		}
		cmd.Process.Signal(syscall.SIGCONT)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("the stopped up, continued: %v\n%s", err, stderr.String())
		}
		if got := ifaceState(t, a); got != upState {
			t.Errorf("the continued up (stopped after %d steps) is not a whole up:\n%s\nits trace:\n%s", n, difftest.Lines(upState, got), stderr.String())
		}
		mustQuick(t, a, "down", "wg0")
	}
	diffState(t, "at the end", before, waitState(t, a, before))
}

// waitStopped waits (ten seconds at most) until the process is stopped
// (true) or has ended (false).
func waitStopped(cmd *exec.Cmd) bool {
	for range 1000 {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if err != nil {
			return false
		}
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
			switch s[i+2] {
			case 'T', 't':
				return true
			case 'Z', 'X':
				return false
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
