package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// The differential tests run Debian's wg (1.0.20210914) and ours side by
// side against the same devices and compare everything the two versions
// agree on. Where they may not agree (wg.md's D1-D5 and our deliberate
// differences), the commands are left out or the text is normalized, as
// each test says.

// referenceBinDir is a directory whose "wg" is Debian's, so that command
// lines (and usage texts, which print argv[0]) are the same for both.
func referenceBinDir(t *testing.T) string {
	t.Helper()
	ref := referenceWG()
	if ref == "" {
		t.Skip("Debian's wg is not installed at /usr/bin/wg (package wireguard-tools); nothing to compare with")
	}
	dir := t.TempDir()
	if err := os.Symlink(ref, filepath.Join(dir, "wg")); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	ourLocation = regexp.MustCompile(`(?m)^[^:\n]*\.conf:[0-9]+: `)
	keyEcho     = regexp.MustCompile("(?m)^Key is not the correct length or format(: `[^\n]*'| \\(argument [0-9]+\\)| \\(key file `[^\n]*'\\))$")
	quickHint   = regexp.MustCompile("(?m)^`[A-Za-z]+' is a wg-quick key: use `wg-quick strip' to remove wg-quick's keys\n")
)

// agreedStderr removes what differs on purpose in messages: our FILE:LINE:
// prefix, the line we add for a wg-quick file, the byte order mark's form,
// and the key that the reference echoes where we name its place.
func agreedStderr(s string) string {
	s = ourLocation.ReplaceAllString(s, "")
	s = quickHint.ReplaceAllString(s, "")
	// The byte order mark, which we show as its bytes.
	s = strings.ReplaceAll(s, "\ufeff", `\xef\xbb\xbf`)
	return keyEcho.ReplaceAllString(s, "Key is not the correct length or format")
}

// TestDifferentialShow compares every read-only command on real devices
// (a tunnel with a handshake, a device with several peers) and on the fake
// daemons.
func TestDifferentialShow(t *testing.T) {
	requireLab(t)
	refBin := referenceBinDir(t)
	ourBin := filepath.Dir(wgBin)
	a, _ := realTunnel(t)
	mustWG(t, a, "setconf wg1 full-hosts.conf")
	mustWG(t, a, "set wg1 peer "+p1+" allowed-ips 10.0.0.0/8,fd00::/8,192.168.1.7/32 endpoint [fe80::1%lo]:65535 peer "+p3+" endpoint [::ffff:198.51.100.9]:1")
	c := testnet.NewHost(t, "wgdc")
	stageFiles(t, c)
	startFakes(t, c)

	var cmds []string
	for _, f := range append([]string{""}, "dump", "public-key", "private-key", "listen-port", "fwmark", "peers", "preshared-keys", "endpoints", "allowed-ips", "latest-handshakes", "transfer", "persistent-keepalive", "bogus", "Public-Key") {
		for _, iface := range []string{"wg0", "wg1", "all"} {
			if iface == "all" && f == "endpoints" {
				continue // D3: 1.0.20210914 prints the interface once, not per peer
			}
			cmds = append(cmds, strings.TrimSpace("show "+iface+" "+f))
		}
	}
	cmds = append(cmds, "", "show", "show interfaces", "showconf wg0", "showconf wg1",
		"show nonexist", "showconf nonexist", "show a/b", "show nonexist dump", "show a b c", "show -h", "show --help",
		"show interfaces x", "showconf", "showconf a b", "--help", "help", "bogus", "--version extra")
	envs := []string{"", "WG_COLOR_MODE=always", "WG_HIDE_KEYS=never", "WG_COLOR_MODE=never WG_HIDE_KEYS=never"}
	compare := func(h *testnet.Host, ns, env, cmd string) {
		t.Helper()
		ref := wgShell(h, refBin, env, "wg "+cmd)
		our := wgShell(h, ourBin, env, "wg "+cmd)
		cc := captureCase{ns: ns}
		norm := func(s string) string {
			s = normalize(cc, cmd, s, true)
			if ns == "C" {
				s = maskAges(s)
			}
			return s
		}
		if ref.Code != our.Code || agreedStderr(ref.Stderr) != agreedStderr(our.Stderr) || norm(ref.Stdout) != norm(our.Stdout) {
			t.Errorf("%s: %s wg %s\n--- ours rc %d\n%s%s--- reference rc %d\n%s%s", h.Name, env, cmd, our.Code, our.Stdout, our.Stderr, ref.Code, ref.Stdout, ref.Stderr)
		}
	}
	n := 0
	for _, cmd := range cmds {
		for _, env := range envs {
			if env != "" && !strings.HasPrefix(cmd, "show") && cmd != "" {
				continue
			}
			compare(a, "A", env, cmd)
			n++
		}
	}
	for _, cmd := range []string{"", "show all", "show all dump", "show all peers", "show all allowed-ips", "show all persistent-keepalive", "show interfaces",
		"show fmt0", "show fmt1", "show empty0", "show badproto", "show err0", "show fmt0 dump", "show fmt1 dump", "show empty0 dump",
		"showconf fmt0", "showconf fmt1", "showconf empty0", "showconf badproto", "show fmt0 endpoints", "show fmt0 allowed-ips", "show fmt0 transfer"} {
		for _, env := range envs {
			compare(c, "C", env, cmd)
			n++
		}
	}
	t.Logf("%d command lines compared", n)
}

// differentialSets are commands that change a device, in order; IF is the
// interface. They leave out what the versions do differently: +/- allowed
// IPs (D2), syncconf where the file omits a runtime preshared key or
// keepalive (D4), port numbers above 65535 (we refuse them).
var differentialSets = []string{
	"set IF listen-port 51998", "set IF listen-port domain", "set IF listen-port 0", "set IF listen-port 51997",
	"set IF fwmark 0x1234", "set IF fwmark 010", "set IF fwmark OFF", "set IF fwmark 0xffffffff", "set IF fwmark 0",
	"set IF private-key a.key", "set IF private-key /dev/null", "set IF private-key b.key",
	"set IF peer " + p1 + " preshared-key psk endpoint 10.99.0.2:51821 persistent-keepalive 25 allowed-ips '10.0.0.0/8, fd00::/8'",
	"set IF peer " + p1 + " allowed-ips 10.0.0.1/8,fd00::1/64,10.0.0.5,fd00::5",
	"set IF peer " + p1 + " allowed-ips 10.9.0.0/16,fd00::/8,1.0.0.0/8,10.1.0.0/16,10.9.0.0/16",
	"set IF peer " + p1 + " endpoint [fd99::2]:51821", "set IF peer " + p1 + " endpoint fd99::3:51821",
	"set IF peer " + p1 + " endpoint peer-b.test:51821", "set IF peer " + p1 + " endpoint localhost:7",
	"set IF peer " + p1 + " endpoint 10.99.0.2:domain", "set IF peer " + p1 + " endpoint [::ffff:1.2.3.4]:5",
	"set IF peer " + p1 + " endpoint [fe80::1%lo]:9",
	"set IF peer " + p1 + " persistent-keepalive off", "set IF peer " + p1 + " persistent-keepalive 65535",
	"set IF peer " + p1 + " preshared-key /dev/null",
	"set IF peer " + p2 + " allowed-ips 10.2.0.0/16 peer " + p3 + " allowed-ips 10.3.0.0/16 endpoint 10.99.0.2:3",
	"set IF peer " + p2 + " allowed-ips 10.20.0.0/16 peer " + p2 + " endpoint 10.99.0.2:4",
	"set IF peer " + p3 + " allowed-ips 10.2.0.0/16",
	"set IF peer " + p2 + " remove", "set IF peer " + bPub + " remove",
	"set IF peer " + p3 + " remove endpoint 10.99.0.2:9 allowed-ips 10.7.0.0/16",
	"set IF peer " + p1 + " allowed-ips ''",
	"set IF listen-port 51996 fwmark 7 private-key a.key peer " + p2 + " allowed-ips 0.0.0.0/0,::/0",
	"set IF peer " + aPub,
	// refused, nothing applied
	"set IF listen-port off", "set IF listen-port -1", "set IF listen-port ''", "set IF listen-port", "set IF fwmark 0X10",
	"set IF fwmark 4294967296", "set IF peer abc", "set IF peer", "set IF remove", "set IF bogus 1", "set IF Listen-Port 1",
	"set IF peer " + p1 + " listen-port 1", "set IF peer " + p1 + " persistent-keepalive 0x10",
	"set IF peer " + p1 + " endpoint 10.99.0.2", "set IF peer " + p1 + " endpoint [fd99::2:1", "set IF peer " + p1 + " endpoint ''",
	"set IF peer " + p1 + " allowed-ips 10.0.0.0/33", "set IF peer " + p1 + " allowed-ips 10.0.0/8", "set IF peer " + p1 + " allowed-ips 10.0.0.0/8,",
	"set IF private-key /nonexistent", "set IF private-key /run/spw", "set IF preshared-key psk",
	// config files
	"setconf IF full-hosts.conf", "addconf IF sync-p2.conf", "syncconf IF full-hosts.conf",
	"setconf IF iface-only.conf", "setconf IF dup-peer.conf", "setconf IF repeated-allowedips.conf",
	"setconf IF two-interface-sections.conf", "setconf IF case-insensitive.conf", "setconf IF dup-listenport.conf",
	"setconf IF aip-hostbits.conf", "setconf IF comment-only.conf", "setconf IF empty.conf",
	"setconf IF /dev/stdin < sync-p2.conf", "addconf IF full-hosts.conf", "syncconf IF empty.conf",
	"setconf IF weird-ws-semicolon.conf", "setconf IF bom.conf", "setconf IF peer-no-pubkey.conf", "setconf IF wgquick-address.conf",
	"setconf IF badkey-len.conf", "setconf IF /nonexistent.conf", "setconf IF", "addconf IF a b",
}

// TestDifferentialSet applies the same commands with Debian's wg to a
// device in one host and with ours to the same device in a twin host,
// comparing each command's exit code and messages and the device state
// after it.
func TestDifferentialSet(t *testing.T) {
	requireLab(t)
	refBin := referenceBinDir(t)
	ourBin := filepath.Dir(wgBin)
	hosts := [2]*testnet.Host{testnet.NewHost(t, "wgdr"), testnet.NewHost(t, "wgdo")}
	for _, h := range hosts {
		stageFiles(t, h)
		h.BindFile("/etc/hosts", []byte(labHosts))
		h.StartUserspaceDevice(wireguardGo, "wg0")
	}
	state := func(h *testnet.Host) string {
		return normalize(captureCase{ns: "A"}, "showconf", mustWG(t, h, "showconf wg0"), false)
	}
	for _, cmd := range differentialSets {
		cmd = strings.ReplaceAll(cmd, "IF", "wg0")
		ref := wgShell(hosts[0], refBin, "", "wg "+cmd)
		our := wgShell(hosts[1], ourBin, "", "wg "+cmd)
		if ref.Code != our.Code || agreedStderr(ref.Stderr) != agreedStderr(our.Stderr) || ref.Stdout != our.Stdout {
			t.Errorf("wg %s\n--- ours rc %d\n%s%s--- reference rc %d\n%s%s", cmd, our.Code, our.Stdout, our.Stderr, ref.Code, ref.Stdout, ref.Stderr)
		}
		if r, o := state(hosts[0]), state(hosts[1]); r != o {
			t.Errorf("after wg %s, the devices differ\n--- ours\n%s--- reference\n%s", cmd, o, r)
		}
	}
	t.Logf("%d commands compared", len(differentialSets))
}

// TestDifferentialUAPI sends the same commands with both tools to the
// recording fake daemon and compares the request bytes.
func TestDifferentialUAPI(t *testing.T) {
	requireLab(t)
	refBin := referenceBinDir(t)
	ourBin := filepath.Dir(wgBin)
	c := testnet.NewHost(t, "wgdu")
	stageFiles(t, c)
	c.BindFile("/etc/hosts", []byte(labHosts))
	rec := startFakes(t, c)["rec0"]
	n, sent := 0, 0
	for _, cmd := range differentialSets {
		if strings.HasPrefix(cmd, "syncconf") {
			continue // D4: upstream adds preshared_key/keepalive resets
		}
		cmd = strings.ReplaceAll(cmd, "IF", "rec0")
		ref := wgShell(c, refBin, "", "wg "+cmd)
		refReq, _ := rec.take()
		our := wgShell(c, ourBin, "", "wg "+cmd)
		ourReq, _ := rec.take()
		if ref.Code != our.Code || refReq != ourReq {
			t.Errorf("wg %s\n--- ours rc %d\n%s%s--- reference rc %d\n%s%s", cmd, our.Code, ourReq, our.Stderr, ref.Code, refReq, ref.Stderr)
		}
		n++
		if refReq != "" {
			sent++
		}
	}
	// Two empty requests are equal too: the commands that are not meant
	// to fail (47 of the 77) must have reached the daemon for the
	// comparison to mean something.
	if sent < 45 {
		t.Errorf("only %d of %d commands sent a request to the recording daemon", sent, n)
	}
	t.Logf("%d requests compared (%d of them not empty)", n, sent)
}
