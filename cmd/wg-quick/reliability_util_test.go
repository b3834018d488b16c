package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

// Shared by the reliability tests (issue 7): fixed keys, the full state of
// a host, the wg binary, and the test build of wg-quick with step hooks.

var update = flag.Bool("update", false, "rewrite the generated files (BADINPUT.md)")

// Known keys: the tests look for them (base64 and hex) in every output.
const (
	relPriv = "kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8="
	relPub  = "KhrmLGjKZpVhu+UsqqSiIEWfBTzVpPlf/51vBC/FTXA="
	// the peer
	relPeerPriv = "MFacJUr9QagO2MNwbZVpjcb5UFIixyGnJyMevGdvfV4="
	relPeerPub  = "Xt9quZAyypsVNY/hSlxiMWomz3XLP4tok86WEj9CuE8="
	relPSK      = "yqIu1+V9Je59NPVR4cjW9FaUZ+hDk9w5pI8ACuBBzlE="
	// a third key pair, for `wg set ... private-key` and a second peer
	relOtherPriv = "INf5LfyyDqYLP1i4xFZ5/wVhgJtiXRlhkCTfhheJ13Q="
	relOtherPub  = "jqpiImZJaNTgv/iVZjoLCjERwTqd2QwnzSOluXfJaWo="
)

// secretForms are the ways a key may show: base64, hex (UAPI), and a
// 20-character piece of the base64 (a key cut or wrapped in a message).
func secretForms(keys ...string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k)
		if raw, err := base64.StdEncoding.DecodeString(k); err == nil && len(raw) == 32 {
			out = append(out, hex.EncodeToString(raw))
		}
		if len(k) > 24 {
			out = append(out, k[2:22])
		}
	}
	return out
}

// leaked returns the first form of a secret found in s, or "".
func leaked(s string, secrets []string) string {
	for _, k := range secrets {
		if k != "" && strings.Contains(s, k) {
			return k
		}
	}
	return ""
}

// wgBin is our wg, built by binaries.
func wgBin(t testing.TB) string { return filepath.Join(binaries(t), "wg") }

// hookedQuick builds (once) wg-quick with the wgtesthooks tag, whose
// WG_QUICK_TEST_STEP_HOOK=kill:N|stop:N stops it after N steps (see
// internal/quick/testhook_on.go), into its own directory beside wg and the
// stub resolvconf, and returns its path.
func hookedQuick(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(binaries(t), "hooked")
	bin := filepath.Join(dir, "wg-quick")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := runGo("build", "-tags", "wgtesthooks", "-o", bin+".tmp", ".")
	if err != nil {
		t.Fatalf("building the hooked wg-quick: %v\n%s", err, out)
	}
	if err := os.Rename(bin+".tmp", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

var (
	ifIndex   = regexp.MustCompile(`(?m)^\d+: `)
	randPort  = regexp.MustCompile(`(?m)^listening port: \d+$|(?m)^ListenPort = \d+$`)
	resolvDir = "/run/resolvconf-state"
)

// fullState is the host's Snapshot, the stub resolvconf's records (the
// DNS wg-quick set) and, when an interface is named, its configuration as
// `wg showconf` prints it. Interface indexes are masked (a recreated
// interface gets a new one).
func fullState(t testing.TB, h *testnet.Host, ifaces ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(h.Snapshot())
	b.WriteString("### resolvconf records\n")
	for _, e := range dirEntries(h, resolvDir) {
		b.WriteString(e + ": " + h.ReadFile(resolvDir+"/"+e))
	}
	for _, i := range ifaces {
		r := h.Run(wgBin(t), "showconf", i)
		b.WriteString("### wg showconf " + i + "\n" + r.Stdout + r.Stderr)
	}
	return ifIndex.ReplaceAllString(b.String(), "N: ")
}

func dirEntries(h *testnet.Host, dir string) []string {
	entries, err := os.ReadDir(h.Path(dir))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// kernelModule reports whether the kernel has WireGuard (then a missing
// device is "No such device"; without it the generic netlink family is
// missing: "Protocol not supported").
func kernelModule() bool {
	_, err := os.Stat("/sys/module/wireguard")
	return err == nil
}

func noDeviceMsg() string {
	if kernelModule() {
		return "No such device"
	}
	return "Protocol not supported"
}

func runGo(args ...string) ([]byte, error) {
	return exec.Command("go", args...).CombinedOutput()
}

// hexOf is a base64 key in hex, the UAPI's form.
func hexOf(key string) string {
	raw, _ := base64.StdEncoding.DecodeString(key)
	return hex.EncodeToString(raw)
}

// runStdin runs a command in h with env and stdin (a minute at most).
func runStdin(t testing.TB, h *testnet.Host, env []string, stdin, name string, args ...string) testnet.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := h.Command(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := testnet.Result{Stdout: o.String(), Stderr: e.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v: timed out", name, args)
	}
	return r
}
