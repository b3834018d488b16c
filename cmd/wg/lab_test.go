package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

// The lab reproduces the capture's (testdata/reference/cases-wg.sh and
// /work/shared/spec/tools/wg-lab.sh): hosts A and B joined by a veth, each
// with real userspace devices (Debian's wireguard-go, as the capture used),
// and host C without devices, where fake UAPI daemons serve canned replies.
// Every host has /run/spw holding the configs and key files, and the
// capture's /etc/hosts where the capture had one.

// The capture's keys.
const (
	aPriv = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
	aPub  = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
	bPriv = "IA3aTT+u7rRWI2OP1MycDIhCFcDfKFIs14PiYwHiHHE="
	bPub  = "hovNQNxiBRgUQSLQSOVoRur7Nn7RFZuGK++FKdvMA3Q="
	psk   = "WODgwnfwxLSAfEuoeFN8kez1wh24j97D+c9HuCALWnI="
	p1    = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
	p2    = "TrqVrlhAiidnHpdF3smVIK0hZXa0jOdUfeRSUEKcS1c="
	p3    = "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="
)

const (
	wireguardGo = "/usr/bin/wireguard-go"
	labHosts    = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.99.0.2 peer-b.test\n"
	basePath    = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// refRoot is testdata/reference (absolute: some tests change directory).
var refRoot = absPath("../../testdata/reference")

// requireLab skips t, saying why, when the lab cannot be built here.
func requireLab(t *testing.T) {
	t.Helper()
	testnet.Require(t)
	if _, err := os.Stat(wireguardGo); err != nil {
		t.Skip("needs Debian's wireguard-go at " + wireguardGo + " (the capture's userspace device; package wireguard-go)")
	}
}

// stageFiles puts the capture's configs and keys in the host's /run/spw,
// readable by root only, as the capture (run under umask 077) had them.
func stageFiles(t *testing.T, h *testnet.Host) {
	t.Helper()
	confs, _ := filepath.Glob(filepath.Join(refRoot, "wg-conf", "*.conf"))
	if len(confs) < 30 {
		t.Fatalf("only %d configs under %s", len(confs), refRoot)
	}
	for _, c := range confs {
		data, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		h.WriteFile("/run/spw/"+filepath.Base(c), data, 0o600)
	}
	h.WriteFile("/run/spw/a.key", []byte(aPriv+"\n"), 0o600)
	h.WriteFile("/run/spw/b.key", []byte(bPriv+"\n"), 0o600)
	h.WriteFile("/run/spw/psk", []byte(psk+"\n"), 0o600)
}

// wgIn runs a wg (ours unless bin says otherwise) inside h with the
// minimal environment plus env, in /run/spw under umask 077, as the
// capture ran its commands.
func wgShell(h *testnet.Host, binDir, env, cmdline string) testnet.Result {
	e := []string{"PATH=" + binDir + ":" + basePath}
	e = append(e, strings.Fields(env)...)
	return h.RunEnv(e, "sh", "-c", "umask 077 && cd /run/spw && "+cmdline)
}

func mustWG(t *testing.T, h *testnet.Host, args string) string {
	t.Helper()
	r := wgShell(h, filepath.Dir(wgBin), "", "wg "+args)
	if r.Code != 0 {
		t.Fatalf("%s: wg %s: rc %d\n%s%s", h.Name, args, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// realTunnel brings up section 2 of the capture: wg0 in A and B with a
// completed handshake between them, and a fresh wg1 in A listening on
// 51999. It returns A and B.
func realTunnel(t *testing.T) (a, b *testnet.Host) {
	t.Helper()
	a, b = testnet.NewHost(t, "wga"), testnet.NewHost(t, "wgb")
	testnet.Connect(t, a, b, "veth0")
	a.MustRun("ip", "addr", "add", "10.99.0.1/24", "dev", "veth0")
	b.MustRun("ip", "addr", "add", "10.99.0.2/24", "dev", "veth0")
	a.MustRun("ip", "addr", "add", "fd99::1/64", "dev", "veth0", "nodad")
	b.MustRun("ip", "addr", "add", "fd99::2/64", "dev", "veth0", "nodad")
	for _, h := range []*testnet.Host{a, b} {
		stageFiles(t, h)
		h.BindFile("/etc/hosts", []byte(labHosts))
	}
	a.StartUserspaceDevice(wireguardGo, "wg0")
	b.StartUserspaceDevice(wireguardGo, "wg0")
	a.StartUserspaceDevice(wireguardGo, "wg1")
	mustWG(t, b, "set wg0 private-key /run/spw/b.key listen-port 51821 peer "+aPub+" preshared-key /run/spw/psk allowed-ips 10.100.0.1/32,fd00:100::1/128 endpoint 10.99.0.1:51820")
	mustWG(t, a, "set wg0 private-key /run/spw/a.key listen-port 51820 peer "+bPub+" preshared-key /run/spw/psk allowed-ips 10.100.0.2/32,fd00:100::2/128 endpoint 10.99.0.2:51821 persistent-keepalive 25")
	a.MustRun("ip", "addr", "add", "10.100.0.1/24", "dev", "wg0")
	a.MustRun("ip", "link", "set", "wg0", "up")
	b.MustRun("ip", "addr", "add", "10.100.0.2/24", "dev", "wg0")
	b.MustRun("ip", "link", "set", "wg0", "up")
	// The persistent keepalive starts a handshake as soon as wg0 is up (the
	// capture also pinged; this machine may have no ping).
	waitHandshake(t, a, "wg0")
	mustWG(t, a, "set wg1 listen-port 51999")
	return a, b
}

// waitHandshake waits (at most 20 s) until every peer of iface has a
// handshake.
func waitHandshake(t *testing.T, h *testnet.Host, iface string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := mustWG(t, h, "show "+iface+" latest-handshakes")
		if out != "" && !strings.Contains(out, "\t0\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s: no handshake within 20 s: %q", h.Name, iface, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fakeSpec is one of the capture's fake daemons (ns C), in the order the
// capture started them.
type fakeSpec struct {
	name, get string
	errno     int
}

var captureFakes = []fakeSpec{
	{"fmt0", "fmt0", 0}, {"fmt1", "fmt1", 0}, {"empty0", "empty", 0},
	{"badproto", "badproto", 0}, {"rec0", "fmt0", 0}, {"err0", "empty", -22},
}

// startFakes starts the capture's fake daemons in h.
func startFakes(t *testing.T, h *testnet.Host) map[string]*fakeUAPI {
	t.Helper()
	return startFakesIn(t, h.Path("/run/wireguard"), nil)
}

// startFakesIn starts the capture's fake daemons with their sockets in
// dir (as the test process sees it), on clock (nil: the real time).
func startFakesIn(t *testing.T, dir string, clock func() time.Time) map[string]*fakeUAPI {
	t.Helper()
	fakes := map[string]*fakeUAPI{}
	for _, f := range captureFakes {
		tmpl, err := os.ReadFile(filepath.Join(refRoot, "wg-fake", f.get+".get"))
		if err != nil {
			t.Fatal(err)
		}
		fakes[f.name] = startFakeUAPI(t, filepath.Join(dir, f.name+".sock"), string(tmpl), f.errno, clock)
	}
	return fakes
}

// kernelHasWireGuard reports whether this kernel has the wireguard module
// (then a missing device is "No such device", not "Protocol not
// supported").
func kernelHasWireGuard() bool {
	_, err := os.Stat("/sys/module/wireguard")
	return err == nil
}

// referenceWG is Debian's wg where installed ("" otherwise).
func referenceWG() string {
	if p, err := exec.LookPath("/usr/bin/wg"); err == nil {
		return p
	}
	return ""
}
