package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/testnet"
	"github.com/gowg/wgtools/internal/wgdev"
)

// FuzzCommandLine runs the whole of wg in process, as wireguard-tools'
// fuzz/cmd.c does: the arguments come from the fuzzer (NUL separated; the
// first, the program's name, is always "wg"), the interface of show, showconf, set, setconf, addconf and
// syncconf is replaced by a fake userspace device's (a UAPI socket in a
// temporary directory, answering get with a canned device and recording
// sets: nothing on the machine is changed), pubkey's stdin and the
// configuration file setconf reads come from the fuzzer too (as
// fuzz/setconf.c). The files read are two in a temporary directory: the
// fuzzed configuration, and a key file.
//
// Beyond not panicking, it checks: the status is 0 or 1; the device's
// private and preshared keys, and any private or preshared key written in
// the fuzzed file, are printed only where asked for (showconf, show
// private-key, preshared-keys, dump).
func FuzzCommandLine(f *testing.F) {
	tmpl, err := os.ReadFile(filepath.Join(refRoot, "wg-fake", "fmt0.get"))
	if err != nil {
		f.Fatal(err)
	}
	devSecrets := hexKeysAsBase64(string(tmpl), "private_key=", "preshared_key=")
	// The device's public keys are printed: a file that calls one of them
	// a private key does not make it secret.
	public := hexKeysAsBase64(string(tmpl), "public_key=")
	runDir := f.TempDir()
	// A name no kernel interface has: should a request ever miss the
	// socket, it cannot reach a real device.
	name := fmt.Sprintf("wgfz%d", os.Getpid()%1000000)
	clock := func() time.Time { return time.Unix(1795609343, 0) }
	fake := startFakeUAPI(f, filepath.Join(runDir, name+".sock"), string(tmpl), 0, clock)
	work := f.TempDir()
	if err := os.WriteFile(filepath.Join(work, "key"), []byte(aPriv+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	resolver := conf.ResolverFunc(func(host string) (netip.Addr, error) {
		if host == "peer.test" {
			return netip.MustParseAddr("192.0.2.7"), nil
		}
		return netip.Addr{}, &conf.ResolveError{Msg: "Name or service not known", Permanent: true}
	})

	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s.args), []byte(s.stdin), []byte(s.file))
	}
	f.Fuzz(func(t *testing.T, argv, stdin, file []byte) {
		args := fuzzArgs(argv, name, work)
		if args == nil {
			return
		}
		if err := os.WriteFile(filepath.Join(work, "conf"), file, 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		e := &env{
			prog: "wg", stdin: bytes.NewReader(stdin), stdout: &stdout, stderr: &stderr,
			lookupEnv: func(string) (string, bool) { return "", false },
			devices:   func() *wgdev.Client { return wgdev.NewWithRunDir(runDir) },
			now:       clock,
			resolver:  resolver,
		}
		code := run(e, args)
		fake.take()
		out := stdout.String() + stderr.String()
		if code != 0 && code != 1 {
			t.Fatalf("%q: status %d", args, code)
		}
		if asksForKeys(args) {
			return
		}
		for _, k := range append(devSecrets, fileSecrets(file, public)...) {
			if strings.Contains(out, k) {
				t.Fatalf("%q printed the key %q (of the device or the file):\n%s", args, k, out)
			}
		}
	})
}

// fuzzArgs is the argument vector of a fuzz input: NUL-separated words,
// empty ones dropped, at most 64; the interface argument replaced by the
// fake device's name; the files to read are dir's conf (the fuzzed file)
// and key (a private key).
func fuzzArgs(argv []byte, name, dir string) []string {
	var args []string
	for w := range bytes.SplitSeq(argv, []byte{0}) {
		if len(w) > 0 && len(args) < 64 {
			args = append(args, string(w))
		}
	}
	// The first word is the program's name, which is "wg": it is printed
	// in usage lines, and is nobody's input.
	if len(args) == 0 {
		args = []string{"wg"}
	}
	args[0] = "wg"
	if len(args) > 2 && slices.Contains([]string{"show", "showconf", "set", "setconf", "addconf", "syncconf"}, args[1]) {
		args[2] = name
		if args[1] != "show" && args[1] != "showconf" && args[1] != "set" && len(args) > 3 {
			args[3] = filepath.Join(dir, "conf")
		}
	}
	if len(args) > 1 && args[1] == "set" {
		for i := 3; i+1 < len(args); i++ {
			if args[i] == "private-key" || args[i] == "preshared-key" {
				if args[i+1] == "conf" {
					args[i+1] = filepath.Join(dir, "conf")
				} else {
					args[i+1] = filepath.Join(dir, "key")
				}
			}
		}
	}
	return args
}

// asksForKeys reports whether the command is one that prints keys.
func asksForKeys(args []string) bool {
	if len(args) > 1 && args[1] == "showconf" {
		return true
	}
	return len(args) > 3 && args[1] == "show" && slices.Contains([]string{"private-key", "preshared-keys", "dump"}, args[3])
}

// hexKeysAsBase64 finds the keys of a UAPI reply on lines starting with
// one of prefixes, as base64 and hex (zero keys left out).
func hexKeysAsBase64(reply string, prefixes ...string) []string {
	var out []string
	for l := range strings.SplitSeq(reply, "\n") {
		for _, p := range prefixes {
			if h, ok := strings.CutPrefix(l, p); ok && strings.Trim(h, "0") != "" {
				k, err := conf.ParseHexKey(h)
				if err == nil {
					out = append(out, k.String(), h)
				}
			}
		}
	}
	return out
}

var secretLine = regexp.MustCompile(`(?i)^(private|preshared)[a-z]*key[a-z]*=`)

// fileSecrets are the keys given as values of the fuzzed file's lines
// whose name is a private or preshared key, as wg's parser reads them
// (comments cut, whitespace removed), but for the public keys listed.
func fileSecrets(file []byte, public []string) []string {
	var out []string
	for l := range strings.SplitSeq(string(file), "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		l = strings.Map(func(r rune) rune {
			if r == ' ' || (r >= '\t' && r <= '\r') {
				return -1
			}
			return r
		}, l)
		if loc := secretLine.FindStringIndex(l); loc != nil {
			v := l[loc[1]:]
			if _, err := conf.ParseKey(v); err == nil && !slices.Contains(public, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

type fuzzSeed struct{ args, stdin, file string }

// fuzzSeeds are the captured wg command lines (testdata/reference/wg,
// those without shell syntax) and a few with a file or stdin.
func fuzzSeeds(t testing.TB) []fuzzSeed {
	cmds, err := filepath.Glob(filepath.Join(refRoot, "wg", "*.cmd"))
	if err != nil || len(cmds) < 280 {
		t.Fatalf("only %d captured command lines under %s (%v)", len(cmds), refRoot, err)
	}
	plain := regexp.MustCompile(`^wg [^;|&<>$]*$`)
	var seeds []fuzzSeed
	full, err := os.ReadFile(filepath.Join(refRoot, "wg-conf", "full.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		data, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		cmd, ok := strings.CutPrefix(line, "cmd: ")
		if !ok || !plain.MatchString(cmd) {
			continue
		}
		words, ok := testnet.ShellWords(cmd)
		if !ok {
			continue
		}
		seeds = append(seeds, fuzzSeed{args: strings.Join(words, "\x00"), file: string(full)})
	}
	seeds = append(seeds,
		fuzzSeed{args: "wg\x00pubkey", stdin: aPriv + "\n"},
		fuzzSeed{args: "wg\x00setconf\x00x\x00conf", file: "[Interface]\nPrivateKey = " + aPriv + "\n[Peer]\nPublicKey = " + p1 + "\nPrivateKey = " + bPriv + "\nAllowedIPs = 10.0.0.0/8\n"},
		fuzzSeed{args: "wg\x00syncconf\x00x\x00conf", file: "[Peer]\nPublicKey = " + p1 + "\nPresharedKey = " + psk + "\nEndpoint = peer.test:51820\nAllowedIPs = +10.0.0.0/8,-fd00::/8\n"},
		fuzzSeed{args: "wg\x00set\x00x\x00private-key\x00key\x00peer\x00" + p1 + "\x00preshared-key\x00key\x00endpoint\x00[fd00::1]:1\x00allowed-ips\x00-10.0.0.0/8"},
		fuzzSeed{args: "wg\x00show\x00x\x00dump"},
		fuzzSeed{args: "wg\x00showconf\x00x"},
	)
	return seeds
}

// The keys of fmt0.get are those of the capture's lab; the check above
// relies on finding them.
func TestFuzzSecretsFound(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join(refRoot, "wg-fake", "fmt0.get"))
	if err != nil {
		t.Fatal(err)
	}
	keys := hexKeysAsBase64(string(tmpl), "private_key=", "preshared_key=")
	if len(keys) < 4 {
		t.Fatalf("keys of fmt0.get: %q", keys)
	}
	if _, err := hex.DecodeString(keys[1]); err != nil {
		t.Errorf("not hex: %q", keys[1])
	}
	if got := fileSecrets([]byte("[Peer]\nPrivate Key = "+aPriv+" # x\npresharedkey=short\nPrivateKey="+p1+"\n"), []string{p1}); !slices.Equal(got, []string{aPriv}) {
		t.Errorf("fileSecrets: %q", got)
	}
}
