package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/testnet"
	"github.com/gowg/wgtools/internal/wgdev"
)

// TestFakeCasesInProcess replays, without root, the captured cases that
// ran against the fake daemons with one plain wg command (section 5 of the
// capture: show, showconf, set and setconf against fmt0, fmt1, empty0,
// badproto, rec0, err0): our wg runs in this process with a run directory
// of its own, and daemon and wg share one fixed clock, so handshake ages
// are compared exactly. The listing cases (show all, show interfaces)
// would also see this machine's kernel interfaces; TestGoldenReplay covers
// them in a host of their own.
func TestFakeCasesInProcess(t *testing.T) {
	fixed := time.Unix(1795609343, 0)
	clock := func() time.Time { return fixed }
	runDir := t.TempDir()
	fakes := startFakesIn(t, runDir, clock)

	work := t.TempDir()
	confs, err := filepath.Glob(filepath.Join(refRoot, "wg-conf", "*.conf"))
	if err != nil || len(confs) < 30 {
		t.Fatalf("only %d configs under %s (%v)", len(confs), refRoot, err)
	}
	for _, c := range confs {
		data, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, filepath.Base(c)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, key := range map[string]string{"a.key": aPriv, "b.key": bPriv, "psk": psk} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(work)
	// The capture's /etc/hosts in ns C named peer-b.test.
	resolver := conf.ResolverFunc(func(host string) (netip.Addr, error) {
		if host == "peer-b.test" {
			return netip.MustParseAddr("10.99.0.2"), nil
		}
		return netip.Addr{}, &conf.ResolveError{Msg: "Name or service not known", Permanent: true}
	})

	plain := regexp.MustCompile(`^wg [^;|&<>$]*$`)
	n := 0
	for _, cc := range captureOrder(t) {
		c := loadCase(t, cc.name)
		if cc.section != 5 || !plain.MatchString(c.cmd) || readdirOrder(cc.name) != "" {
			continue
		}
		n++
		args, ok := testnet.ShellWords(c.cmd)
		if !ok {
			t.Fatalf("%s: cannot split %q", cc.name, c.cmd)
		}
		envs := map[string]string{}
		for _, kv := range strings.Fields(c.env) {
			k, v, _ := strings.Cut(kv, "=")
			envs[k] = v
		}
		var stdout, stderr bytes.Buffer
		e := &env{
			prog: "wg", stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
			lookupEnv: func(k string) (string, bool) { v, ok := envs[k]; return v, ok },
			devices:   func() *wgdev.Client { return wgdev.NewWithRunDir(runDir) },
			now:       clock,
			resolver:  resolver,
		}
		for _, f := range fakes {
			f.take()
		}
		rc := run(e, args)
		got := expectation{stdout: stdout.String(), stderr: stderr.String(), rc: rc}
		got.uapi, _ = fakes["rec0"].take()
		want := expectedFor(t, cc.name)
		if why := compareCase(cc, c.cmd, want, got, false); why != "" {
			t.Errorf("case %s (%s): %s\n--- got rc %d\n%s%s%s--- want rc %d\n%s%s%s", cc.name, c.cmd, why,
				got.rc, got.stdout, got.stderr, got.uapi, want.rc, want.stdout, want.stderr, want.uapi)
		}
	}
	if n < 40 {
		t.Fatalf("only %d cases", n)
	}
	t.Logf("%d cases compared", n)
}

// TestSubcommandEdges checks behaviours the capture has no case for, in
// process, against a run directory of the test's own.
func TestSubcommandEdges(t *testing.T) {
	runDir := t.TempDir()
	empty, err := os.ReadFile(filepath.Join(refRoot, "wg-fake", "empty.get"))
	if err != nil {
		t.Fatal(err)
	}
	short := startFakeUAPI(t, filepath.Join(runDir, "abcdefghijklmno.sock"), string(empty), 0, nil)
	work := t.TempDir()
	for _, f := range []string{"sync-p2.conf", "empty.conf"} {
		data, err := os.ReadFile(filepath.Join(refRoot, "wg-conf", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	noDevice := conf.ErrnoString(syscall.EPROTONOSUPPORT) // no wireguard module
	if kernelHasWireGuard() {
		noDevice = "No such device"
	}
	run1 := func(args ...string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		e := &env{
			prog: "wg", stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
			lookupEnv: func(string) (string, bool) { return "", false },
			devices:   func() *wgdev.Client { return wgdev.NewWithRunDir(runDir) },
			now:       time.Now,
		}
		rc := run(e, append([]string{"wg"}, args...))
		return stdout.String(), stderr.String(), rc
	}
	for _, c := range []struct {
		args   []string
		stderr string
		rc     int
	}{
		// syncconf reads the device only when the file has peers.
		{[]string{"syncconf", "nonexist", filepath.Join(work, "sync-p2.conf")}, "Unable to retrieve current interface configuration: " + noDevice + "\n", 1},
		{[]string{"syncconf", "nonexist", filepath.Join(work, "empty.conf")}, "Unable to modify interface: " + noDevice + "\n", 1},
		// A directory is refused, not read as an empty configuration.
		{[]string{"setconf", "nonexist", work}, "fopen: Is a directory\n", 1},
		{[]string{"addconf", "nonexist", "/nonexistent/x.conf"}, "fopen: No such file or directory\n", 1},
		// Names of 16 bytes or more: refused for reading, cut for writing.
		{[]string{"show", "abcdefghijklmnop"}, "Unable to access interface: File name too long\n", 1},
		{[]string{"showconf", "abcdefghijklmnop"}, "Unable to access interface: File name too long\n", 1},
		{[]string{"show", "abcdefghijklmnop", "bogus"}, "Unable to access interface: File name too long\n", 1},
		{[]string{"set", "abcdefghijklmnopqrstuvwxyz", "listen-port", "7"}, "", 0},
		{[]string{"setconf", "abcdefghijklmnopqrstuvwxyz", filepath.Join(work, "empty.conf")}, "", 0},
	} {
		_, stderr, rc := run1(c.args...)
		if stderr != c.stderr || rc != c.rc {
			t.Errorf("wg %s: rc %d, stderr %q; want rc %d, %q", strings.Join(c.args, " "), rc, stderr, c.rc, c.stderr)
		}
	}
	sets, _ := short.take()
	if want := "set=1\nlisten_port=7\n\nset=1\nprivate_key=" + strings.Repeat("0", 64) + "\nlisten_port=0\nfwmark=0\nreplace_peers=true\n\n"; sets != want {
		t.Errorf("requests to the cut name:\n%s--- want\n%s", sets, want)
	}
}

// TestShowAllClockAfterRead: `wg show all` counts each interface's
// handshake ages from after reading that interface, as the reference does
// (its ago() reads the clock while printing), not from one moment before
// reading them all. Here the clock moves 10 seconds each time a daemon
// answers, so ages counted from before would be 10 and 20 seconds short.
func TestShowAllClockAfterRead(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join(refRoot, "wg-fake", "fmt0.get"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	cur := time.Unix(1795609343, 0)
	advance := func() time.Time { mu.Lock(); defer mu.Unlock(); cur = cur.Add(10 * time.Second); return cur }
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return cur }
	runDir := t.TempDir()
	for _, name := range []string{"a0", "b0"} {
		startFakeUAPI(t, filepath.Join(runDir, name+".sock"), string(tmpl), 0, advance)
	}
	var stdout, stderr bytes.Buffer
	e := &env{
		prog: "wg", stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		lookupEnv: func(k string) (string, bool) {
			return map[string]string{"WG_COLOR_MODE": "never"}[k], k == "WG_COLOR_MODE"
		},
		devices: func() *wgdev.Client { return wgdev.NewWithRunDir(runDir) },
		now:     now,
	}
	if rc := run(e, []string{"wg", "show", "all"}); rc != 0 || stderr.Len() > 0 {
		t.Fatalf("wg show all: exit %d, %s", rc, stderr.String())
	}
	out := stdout.String()
	if n := strings.Count(out, "latest handshake: 1 minute, 5 seconds ago\n"); n != 2 || !strings.Contains(out, "interface: b0") {
		t.Errorf("%d interfaces with the handshake 65 seconds old, want 2:\n%s", n, out)
	}
}
