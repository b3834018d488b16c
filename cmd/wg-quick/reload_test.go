package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// Issue 14: wg-quick reload brings a running interface to its file
// without taking it down.

// reloadFiles are A's files in the order the tests reload them: each
// change made, then taken back.
func reloadFiles() []struct{ name, conf string } {
	base := "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53\n%EXTRA%\n" +
		"[Peer]\nPublicKey = {PEERPUB}\nPresharedKey = {PSK}\nAllowedIPs = %ALLOWED%\nEndpoint = 192.0.2.2:51820\n%PEERS%"
	f := func(extra, allowed, peers string) string {
		return fillKeys(strings.NewReplacer("%EXTRA%", extra, "%ALLOWED%", allowed, "%PEERS%", peers).Replace(base))
	}
	plain := f("", "10.0.0.2/32", "")
	return []struct{ name, conf string }{
		{"base", plain},
		{"peer-added", f("", "10.0.0.2/32", "\n[Peer]\nPublicKey = {OTHERPUB}\nAllowedIPs = 10.0.0.3/32, 10.7.0.0/16\n")},
		{"peer-removed", plain},
		{"address-added", strings.Replace(plain, "Address = 10.0.0.1/24\n", "Address = 10.0.0.1/24, 10.0.1.1/24, fd00::1/64\n", 1)},
		{"address-removed", plain},
		{"route-added", f("", "10.0.0.2/32, 192.168.7.0/24", "")},
		{"route-removed", plain},
		{"dns-added", strings.Replace(plain, "DNS = 10.0.0.53\n", "DNS = 10.0.0.53, 10.0.0.54, corp.test\n", 1)},
		{"dns-removed", plain},
		{"full-tunnel", f("", "0.0.0.0/0, ::/0", "")},
		{"split-tunnel", plain},
	}
}

// the server side (B) of the reload tests: A's peer, 10.0.0.2.
const reloadServer = "[Interface]\nPrivateKey = {PEERPRIV}\nListenPort = 51820\nAddress = 10.0.0.2/24\n\n" +
	"[Peer]\nPublicKey = {PUB}\nPresharedKey = {PSK}\nAllowedIPs = 10.0.0.1/32, 10.0.1.0/24\n"

var (
	procsBlock = regexp.MustCompile(`(?s)### processes\n.*?(### |\z)`)
	nsRecord   = regexp.MustCompile(`(?m)^src_valid_mark\.\d+$`)
)

// comparable is a host's full state without what differs between two
// hosts by nature (link-layer addresses, namespace ids, interface
// indexes, counters) and without its processes (the test's own streams).
func comparable(t *testing.T, h *testnet.Host) string {
	s := procsBlock.ReplaceAllString(fullState(t, h, "wg0"), "$1")
	// The record of src_valid_mark is named by the namespace's inode.
	return normState(nsRecord.ReplaceAllString(s, "src_valid_mark.NETNS"))
}

// freshUp is the comparable state of a fresh up of conf in a twin of A
// (the same addresses and routes), made once per file.
type freshUps struct {
	t     *testing.T
	twin  *testnet.Host
	cache map[string]string
}

func (f *freshUps) of(conf string) string {
	if s, ok := f.cache[conf]; ok {
		return s
	}
	f.twin.WriteFile(confPath, []byte(conf), 0o600)
	mustQuick(f.t, f.twin, "up", "wg0")
	s := comparable(f.t, f.twin)
	mustQuick(f.t, f.twin, "down", "wg0")
	f.cache[conf] = s
	return s
}

// TestReloadKeepsStream: a TCP stream through the tunnel keeps flowing
// (no reset, every byte counted at both ends) while reload adds and
// removes a peer, an address, an AllowedIP route and a DNS server and
// turns the split tunnel into a full one and back. After each reload the
// state is a fresh up's of the same file, and a second reload prints
// nothing.
func TestReloadKeepsStream(t *testing.T) {
	testnet.Require(t)
	a, b := twoPeers(t)
	a.MustRun("ip", "route", "add", "default", "via", "192.0.2.2")
	a.MustRun("ip", "addr", "add", "2001:db8:1::1/64", "dev", "eth0", "nodad")
	b.MustRun("ip", "addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad")
	a.MustRun("ip", "-6", "route", "add", "default", "via", "2001:db8:1::2")
	b.WriteFile(confPath, []byte(fillKeys(reloadServer)), 0o600)
	mustQuick(t, b, "up", "wg0")
	files := reloadFiles()
	a.WriteFile(confPath, []byte(files[0].conf), 0o600)
	mustQuick(t, a, "up", "wg0")
	fresh := &freshUps{t: t, twin: killHost(t, files[0].conf, true), cache: map[string]string{}}

	// The stream: B receives on 10.0.0.2:5001, A sends until /run/stop.
	self, _ := os.Executable()
	env := []string{"PATH=" + basePath}
	server := b.Command(context.Background(), self, "10.0.0.2:5001")
	server.Env = append(env, "WGTEST_HELLO=stream-serve")
	var serverOut, serverErr bytes.Buffer
	stdout, _ := server.StdoutPipe()
	server.Stderr = &serverErr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })
	line := make([]byte, 10)
	if n, err := stdout.Read(line); err != nil || string(line[:n]) != "listening\n" {
		t.Fatalf("the stream's receiver: %v %q", err, line[:n])
	}
	client := a.Command(context.Background(), self, "10.0.0.2:5001", "/run/stop")
	client.Env = append(env, "WGTEST_HELLO=stream-send")
	var clientOut, clientErr bytes.Buffer
	client.Stdout, client.Stderr = &clientOut, &clientErr
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Process.Kill(); client.Wait() })
	time.Sleep(500 * time.Millisecond)

	for _, f := range files[1:] {
		a.WriteFile(confPath, []byte(f.conf), 0o600)
		r := wgQuick(t, a, "reload", "wg0")
		t.Logf("reload to %s: exit %d\n%s", f.name, r.Code, r.Stderr)
		if r.Code != 0 || r.Stderr == "" {
			t.Errorf("reload to %s: exit %d, no change printed?\n%s", f.name, r.Code, r.Stderr)
		}
		if again := wgQuick(t, a, "reload", "wg0"); again.Code != 0 || again.Stderr != "" {
			t.Errorf("second reload to %s: exit %d\n%s", f.name, again.Code, again.Stderr)
		}
		got, want := comparable(t, a), fresh.of(f.conf)
		if got != want {
			t.Errorf("after the reload to %s, the state is not a fresh up's (- fresh up, + reload):\n%s", f.name, difftest.Lines(want, got))
		}
		time.Sleep(300 * time.Millisecond) // the stream goes on meanwhile
	}
	a.WriteFile("/run/stop", nil, 0o644)
	cerr := client.Wait()
	serverOut.ReadFrom(stdout)
	server.Wait()
	t.Logf("stream: %s%s / %s%s", clientOut.String(), clientErr.String(), serverOut.String(), serverErr.String())
	if cerr != nil || !strings.HasPrefix(clientOut.String(), "sent ") || !strings.HasPrefix(serverOut.String(), "received ") {
		t.Errorf("the stream broke: %v\nsender: %s%s\nreceiver: %s%s", cerr, clientOut.String(), clientErr.String(), serverOut.String(), serverErr.String())
	}
	mustQuick(t, a, "down", "wg0")
}

// TestReloadBadFileChangesNothing: a reload whose new file has an error
// says so and changes nothing.
func TestReloadBadFileChangesNothing(t *testing.T) {
	testnet.Require(t)
	files := reloadFiles()
	a := killHost(t, files[0].conf, true)
	mustQuick(t, a, "up", "wg0")
	before := fullState(t, a, "wg0")
	for _, bad := range []string{
		strings.Replace(files[9].conf, "Address = 10.0.0.1/24", "Address = 10.0.0.300/24", 1),
		strings.Replace(files[9].conf, "AllowedIPs = 0.0.0.0/0, ::/0", "AllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = many", 1),
		strings.Replace(files[9].conf, "PrivateKey = ", "PrivateKey = x", 1),
	} {
		a.WriteFile(confPath, []byte(bad), 0o600)
		r := wgQuick(t, a, "reload", "wg0")
		if r.Code != 1 || !strings.HasPrefix(r.Stderr, "wg-quick: /etc/wireguard/wg0.conf:") {
			t.Errorf("reload of a bad file: exit %d\n%s", r.Code, r.Stderr)
		}
		if after := fullState(t, a, "wg0"); after != before {
			t.Errorf("the bad file changed the host:\n%s", difftest.Lines(before, after))
		}
	}
	a.WriteFile(confPath, []byte(files[0].conf), 0o600)
	mustQuick(t, a, "down", "wg0")
	// Not up: a clear message, nothing changed.
	before = fullState(t, a, "wg0")
	if r := wgQuick(t, a, "reload", "wg0"); r.Code != 1 || r.Stderr != "wg-quick: `wg0' is not up: bring it up with `wg-quick up wg0'\n" {
		t.Errorf("reload of an interface that is not up: exit %d\n%s", r.Code, r.Stderr)
	}
	if after := fullState(t, a, "wg0"); after != before {
		t.Errorf("reload changed the host:\n%s", difftest.Lines(before, after))
	}
}

// TestKillReloadAtEveryStep: reload (split to a full tunnel with another
// address and DNS, and back) is killed after each of its steps in turn;
// the next reload finishes it (the state of an uninterrupted reload), and
// after another kill at the same step a down leaves the host as it was
// before the up.
func TestKillReloadAtEveryStep(t *testing.T) {
	testnet.Require(t)
	files := reloadFiles()
	from := files[0].conf
	to := strings.Replace(files[9].conf, "Address = 10.0.0.1/24\nDNS = 10.0.0.53\n", "Address = 10.0.0.1/24, fd00::1/64\nDNS = 10.0.0.54\n", 1)
	for _, c := range []struct{ name, from, to string }{{"split-to-full", from, to}, {"full-to-split", to, from}} {
		t.Run(c.name, func(t *testing.T) {
			a := killHost(t, c.from, true)
			before := fullState(t, a, "wg0")
			if r, _ := hookedRun(t, a, "", "up", "wg0"); r.Code != 0 {
				t.Fatalf("up: %d\n%s", r.Code, r.Stderr)
			}
			a.WriteFile(confPath, []byte(c.to), 0o600)
			r, _ := hookedRun(t, a, "", "reload", "wg0")
			if r.Code != 0 {
				t.Fatalf("reload: %d\n%s", r.Code, r.Stderr)
			}
			reloaded := fullState(t, a, "wg0")
			steps := strings.Count(r.Stderr, "[#] ")
			t.Logf("uninterrupted reload:\n%s", r.Stderr)
			a.WriteFile(confPath, []byte(c.from), 0o600)
			if r, _ := hookedRun(t, a, "", "reload", "wg0"); r.Code != 0 {
				t.Fatalf("reload back: %d\n%s", r.Code, r.Stderr)
			}
			n := 0
			for ; n <= steps+2; n++ {
				hook := "kill:" + itoa(n)
				a.WriteFile(confPath, []byte(c.to), 0o600)
				r, killed := hookedRun(t, a, hook, "reload", "wg0")
				if !killed {
					if r.Code != 0 {
						t.Fatalf("reload with %s: %d\n%s", hook, r.Code, r.Stderr)
					}
					break
				}
				// The next reload finishes it.
				f, _ := hookedRun(t, a, "", "reload", "wg0")
				if f.Code != 0 || !strings.HasPrefix(f.Stderr, "[!] Finishing the interrupted reload of `wg0' (reload ") {
					t.Errorf("reload after a reload killed after %d steps: exit %d\n%s", n, f.Code, f.Stderr)
				}
				if got := waitState(t, a, reloaded); got != reloaded {
					t.Errorf("reload after a reload killed after %d steps: not the state of a reload:\n%s", n, difftest.Lines(reloaded, got))
				}
				// Back, killed again, then down.
				a.WriteFile(confPath, []byte(c.from), 0o600)
				if r, _ := hookedRun(t, a, "", "reload", "wg0"); r.Code != 0 {
					t.Fatalf("reload back: %d\n%s", r.Code, r.Stderr)
				}
				a.WriteFile(confPath, []byte(c.to), 0o600)
				if _, killed := hookedRun(t, a, hook, "reload", "wg0"); !killed {
					t.Fatalf("reload with %s was not killed the second time", hook)
				}
				if d, _ := hookedRun(t, a, "", "down", "wg0"); d.Code != 0 {
					t.Errorf("down after a reload killed after %d steps: exit %d\n%s", n, d.Code, d.Stderr)
				}
				diffState(t, "down after a reload killed after "+itoa(n)+" steps", before, waitState(t, a, before))
				a.WriteFile(confPath, []byte(c.from), 0o600)
				if r, _ := hookedRun(t, a, "", "up", "wg0"); r.Code != 0 {
					t.Fatalf("up: %d\n%s", r.Code, r.Stderr)
				}
			}
			if n < steps {
				t.Errorf("reload was killed at %d points; its trace has %d steps", n, steps)
			}
			hookedRun(t, a, "", "down", "wg0")
			diffState(t, "the end", before, waitState(t, a, before))
		})
	}
}
