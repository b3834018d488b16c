package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
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
	confs, _ := filepath.Glob(filepath.Join(refRoot, "wg-conf", "*.conf"))
	for _, c := range confs {
		data, _ := os.ReadFile(c)
		os.WriteFile(filepath.Join(work, filepath.Base(c)), data, 0o600)
	}
	for name, key := range map[string]string{"a.key": aPriv, "b.key": bPriv, "psk": psk} {
		os.WriteFile(filepath.Join(work, name), []byte(key+"\n"), 0o600)
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
		args, ok := splitWords(c.cmd)
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

// splitWords splits a captured command line as sh would: blanks separate
// words, single quotes group.
func splitWords(s string) ([]string, bool) {
	var words []string
	var cur strings.Builder
	inWord, inQuote := false, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case inQuote && ch == '\'':
			inQuote = false
		case inQuote:
			cur.WriteByte(ch)
		case ch == '\'':
			inQuote, inWord = true, true
		case ch == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, !inQuote
}
