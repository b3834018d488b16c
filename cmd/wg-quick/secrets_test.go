package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// The secrets test (issue 7): every subcommand and failure path is run
// with known private and preshared keys, and everything they print, every
// trace line and the command line of every process running meanwhile in
// the host (wg-quick, the embedded device's daemon, hooks, resolvconf) are
// searched for the keys, in base64, in hex and in part. Only `wg
// showconf`, `wg show IF private-key|preshared-keys|dump` (and `all`),
// `WG_HIDE_KEYS=never wg show`, `wg-quick strip` and the file `wg-quick
// save` writes may hold them, and they are checked to do so (the search
// would find them).

// spyScript records the command lines of every process in the host's
// network namespace (label first), for the hooks and resolvconf to call.
const spyScript = `#!/bin/sh
self=$(readlink /proc/self/ns/net)
{
	echo "== $1"
	for p in /proc/[0-9]*; do
		[ "$(readlink $p/ns/net 2>/dev/null)" = "$self" ] || continue
		tr '\0' ' ' < $p/cmdline 2>/dev/null; echo
	done
} >> /run/spy/cmdlines
`

// spyResolvconf records the command lines, then is the stub resolvconf.
const spyResolvconf = `#!/bin/sh
/run/spy/snap "resolvconf $*"
exec %s "$@"
`

type secretsRun struct {
	t       *testing.T
	h       *testnet.Host
	env     []string
	secrets []string
	n       int
}

// check runs a command line (sh) in the host and fails the test when its
// output shows a secret; allowed commands must show one.
func (s *secretsRun) check(allowed bool, script string) testnet.Result {
	s.t.Helper()
	s.n++
	r := runStdin(s.t, s.h, s.env, "", "sh", "-c", script)
	k := leaked(r.Stdout+r.Stderr, s.secrets)
	switch {
	case !allowed && k != "":
		s.t.Errorf("%s: the output shows a key (%q):\n%s%s", script, k, r.Stdout, r.Stderr)
	case allowed && k == "":
		s.t.Errorf("%s: it should show the keys, and does not:\n%s%s", script, r.Stdout, r.Stderr)
	}
	return r
}

func TestSecrets(t *testing.T) {
	testnet.Require(t)
	a, b := twoPeers(t)
	a.MustRun("ip", "route", "add", "default", "via", "192.0.2.2")
	privA, _ := keyPair(t)
	privB, pubB := keyPair(t)
	privC, pubC := keyPair(t)
	psk, _ := keyPair(t) // any 32 random bytes make a preshared key
	psk2, _ := keyPair(t)
	_ = b
	s := &secretsRun{t: t, h: a, secrets: secretForms(privA, privB, privC, psk, psk2)}

	a.WriteFile("/run/spy/snap", []byte(spyScript), 0o755)
	a.WriteFile("/run/spy/resolvconf", []byte(fmt.Sprintf(spyResolvconf, binaries(t)+"/stubbin/resolvconf")), 0o755)
	s.env = append(quickEnv(t), "PATH=/run/spy:"+binaries(t)+"/stubbin:"+binaries(t)+":"+basePath)
	conf := "[Interface]\nPrivateKey = " + privA + "\nListenPort = 51820\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53\n" +
		"PreUp = /run/spy/snap preup\n" +
		"PostUp = wg set %i peer " + pubB + " preshared-key <(echo " + psk + ") && /run/spy/snap postup\n" +
		"PreDown = /run/spy/snap predown\nPostDown = /run/spy/snap postdown\n\n" +
		"[Peer]\nPublicKey = " + pubB + "\nPresharedKey = " + psk + "\nAllowedIPs = 10.0.0.2/32, 192.168.1.0/24\nEndpoint = 192.0.2.2:51820\n"
	a.WriteFile(confPath, []byte(conf), 0o600)
	for name, data := range map[string]string{"privC": privC, "psk2": psk2, "privA": privA, "bad": privC[:30] + "!" + privC[31:]} {
		a.WriteFile("/run/keys/"+name, []byte(data+"\n"), 0o600)
	}
	a.WriteFile("/run/keys/open", []byte(privC+"\n"), 0o644)
	a.WriteFile("/run/keys/inpeer.conf", []byte("[Peer]\nPublicKey = "+pubC+"\nPrivateKey = "+privC+"\n"), 0o600)
	a.WriteFile("/run/keys/add.conf", []byte("[Peer]\nPublicKey = "+pubC+"\nPresharedKey = "+psk2+"\nAllowedIPs = 10.0.0.3/32\n"), 0o600)

	up := s.check(false, "wg-quick up wg0")
	if !strings.Contains(up.Stderr, "[#] wg set wg0 peer "+pubB+" preshared-key <(echo (hidden)) && /run/spy/snap postup\n") || up.Code != 0 {
		t.Errorf("up: exit %d\n%s", up.Code, up.Stderr)
	}
	// While up: the daemon's command line.
	s.check(false, "/run/spy/snap running")

	// wg, every read-only form; the forms that print keys must show them.
	for _, args := range []string{"", "show", "show all", "show wg0", "show interfaces", "show wg0 public-key", "show wg0 listen-port",
		"show wg0 fwmark", "show wg0 peers", "show wg0 endpoints", "show wg0 allowed-ips", "show wg0 latest-handshakes",
		"show wg0 transfer", "show wg0 persistent-keepalive", "show all peers", "show all public-key", "show nosuch private-key",
		"show wg0 bogus", "showconf nosuch"} {
		s.check(false, "wg "+args)
	}
	for _, args := range []string{"showconf wg0", "show wg0 private-key", "show wg0 preshared-keys", "show wg0 dump",
		"show all dump", "show all private-key", "show all preshared-keys"} {
		s.check(true, "wg "+args)
	}
	s.check(true, "WG_HIDE_KEYS=never wg show wg0")
	s.check(true, "wg-quick strip wg0")

	// wg set and the conf commands, good and bad.
	for _, script := range []string{
		"wg set wg0 private-key /run/keys/privC listen-port 51821",
		"wg set wg0 peer " + pubB + " preshared-key /run/keys/psk2",
		"wg set wg0 private-key /run/keys/open", // world-readable: a warning, no key
		"wg set wg0 private-key /run/keys/bad",
		"wg set wg0 private-key " + privC, // the key given instead of a file
		"wg set wg0 peer " + psk2[:43],    // a cut preshared key where a public key goes
		"wg set wg0 peer " + pubB + " " + psk2,
		"wg set wg0 private-key /run/keys/privA listen-port 51820",
		"wg-quick strip wg0 > /run/keys/stripped.conf && wg syncconf wg0 /run/keys/stripped.conf",
		"wg addconf wg0 /run/keys/add.conf",
		"wg setconf wg0 /run/keys/inpeer.conf",
		"wg setconf wg0 /run/keys/stripped.conf",
		"wg genkey >/dev/null; wg genpsk >/dev/null",
		"wg pubkey < /run/keys/privA",
		"wg pubkey < /run/keys/bad",
		"wg-quick up wg0",   // already exists
		"wg-quick save wg0", // writes keys to the file, prints none
	} {
		r := s.check(false, script)
		if strings.Contains(script, "/run/keys/open") && r.Stderr != "Warning: `/run/keys/open' is world accessible\n" {
			t.Errorf("%s: %q, want the world-accessible warning", script, r.Stderr)
		}
	}
	if mode := fileMode(t, a, confPath); mode != 0o600 {
		t.Errorf("the saved configuration has mode %o", mode)
	}
	if saved := a.ReadFile(confPath); !strings.Contains(saved, privA) || !strings.Contains(saved, psk) {
		t.Errorf("the saved configuration lacks the keys:\n%s", saved)
	}
	s.check(false, "wg-quick down wg0")
	for _, script := range []string{"wg-quick down wg0", "wg-quick save wg0", "wg show wg0", "wg showconf wg0"} {
		s.check(false, script)
	}

	// Failures during up: a hook that fails (rollback), a bad key in the
	// file, SIGTERM during a hook.
	failing := strings.Replace(a.ReadFile(confPath), "PreDown = ", "PostUp = echo bye; exit 3\nPreDown = ", 1)
	a.WriteFile(confPath, []byte(failing), 0o600)
	if r := s.check(false, "wg-quick up wg0"); r.Code != 3 || !strings.Contains(r.Stderr, "[#] ip link delete dev wg0") {
		t.Errorf("failing PostUp: exit %d\n%s", r.Code, r.Stderr)
	}
	a.WriteFile(confPath, []byte(strings.Replace(conf, privA, privA[:43], 1)), 0o600)
	s.secrets = append(s.secrets, privA[:43])
	s.check(false, "wg-quick up wg0")
	a.WriteFile(confPath, []byte(strings.Replace(conf, "PreDown = ", "PostUp = /run/spy/snap sleeping; exec sleep 30\nPreDown = ", 1)), 0o600)
	s.check(false, "wg-quick up wg0 & p=$!; while ! grep -q '== sleeping' /run/spy/cmdlines; do sleep 0.05; done; kill -TERM $p; wait $p; echo exit $?")

	// Every process command line recorded by the hooks and resolvconf.
	cmdlines := a.ReadFile("/run/spy/cmdlines")
	for _, label := range []string{"== preup", "== postup", "== resolvconf -a wg0", "== running", "== predown", "== resolvconf -d wg0", "== postdown", "== sleeping"} {
		if !strings.Contains(cmdlines, label) {
			t.Errorf("no record %q of the processes", label)
		}
	}
	for _, want := range []string{"__userspace-device wg0", "wg-quick up wg0", "bash -O extglob", "resolvconf -a wg0"} {
		if !strings.Contains(cmdlines, want) {
			t.Errorf("the process records lack %q:\n%s", want, cmdlines)
		}
	}
	if k := leaked(cmdlines, s.secrets); k != "" {
		t.Errorf("a process's command line holds a key (%q):\n%s", k, cmdlines)
	}
	t.Logf("%d commands; %d process snapshots, %d command lines searched", s.n, strings.Count(cmdlines, "== "), strings.Count(cmdlines, "\n"))
}

func fileMode(t *testing.T, h *testnet.Host, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(h.Path(path))
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestGenkeyFile: `wg genkey > FILE` leaves FILE to its owner: with umask
// 077 as made, with umask 022 after the reference's warning (the key is
// not printed elsewhere).
func TestGenkeyFile(t *testing.T) {
	testnet.Require(t)
	h := testnet.NewHost(t, "wggk")
	env := quickEnv(t)
	for _, c := range []struct {
		umask, warning string
	}{
		{"077", ""},
		{"022", "Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n"},
	} {
		for _, verb := range []string{"genkey", "genpsk"} {
			path := "/run/" + verb + c.umask
			r := runStdin(t, h, env, "", "sh", "-c", "umask "+c.umask+"; wg "+verb+" > "+path)
			if r.Code != 0 || r.Stderr != c.warning || r.Stdout != "" {
				t.Errorf("umask %s; wg %s > file: exit %d, stderr %q", c.umask, verb, r.Code, r.Stderr)
			}
			if m := fileMode(t, h, path); m != 0o600 {
				t.Errorf("umask %s; wg %s > file: mode %o", c.umask, verb, m)
			}
			if k := strings.TrimSpace(h.ReadFile(path)); len(k) != 44 {
				t.Errorf("wg %s wrote %q", verb, k)
			}
		}
	}
}
