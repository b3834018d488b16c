package wgdev

import (
	"bufio"
	"errors"
	"math/rand"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
)

func mustKey(s string) conf.Key {
	k, err := conf.ParseKey(s)
	if err != nil {
		panic(s)
	}
	return k
}

// TestSyncconfAgainstCapture rebuilds the capture's syncconf request
// (uapi-syncconf-sync-p2: the daemon served fmt0.get, the file was
// sync-p2.conf) with upstream's D4 lines added: removals of the peers the
// file lacks come first, in descending key order.
func TestSyncconfAgainstCapture(t *testing.T) {
	get, err := os.ReadFile(filepath.Join(refDir, "wg-fake", "fmt0.get"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("{now-65}", "1", "{now-3661}", "1", "{now-66795000}", "1").Replace(string(get))
	runtime, err := ParseUAPIGet(bufio.NewReader(strings.NewReader(text+"errno=0\n\n")), "rec0")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(refDir, "wg-conf", "sync-p2.conf"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := conf.Parse("sync-p2.conf", data, &conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	SyncconfSemantics(cfg, runtime)
	want, err := os.ReadFile(filepath.Join(refDir, "wg", "uapi-syncconf-sync-p2.uapi"))
	if err != nil {
		t.Fatal(err)
	}
	p2 := "public_key=4eba95ae58408a27671e9745dec99520ad216576b48ce7547de45250429c4b57\n"
	wantS := strings.Replace(string(want), p2, p2+"preshared_key="+strings.Repeat("0", 64)+"\npersistent_keepalive_interval=0\n", 1)
	if got := FormatUAPISet(cfg); got != wantS {
		t.Errorf("request\n--- got\n%s--- want\n%s", got, wantS)
	}
}

func TestSyncconfSemantics(t *testing.T) {
	k1, k2, k3 := mustKey("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="), mustKey("TrqVrlhAiidnHpdF3smVIK0hZXa0jOdUfeRSUEKcS1c="), mustKey("gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=")
	ka := uint16(7)
	// No peers in the file: setconf's wholesale replacement, device not
	// consulted.
	cfg := &conf.Config{}
	SyncconfSemantics(cfg, nil)
	if !cfg.ReplacePeers || cfg.Interface.PrivateKey == nil || *cfg.Interface.ListenPort != 0 || *cfg.Interface.FwMark != 0 {
		t.Errorf("empty file: %+v", cfg)
	}
	// A device without peers: replacement too, nothing else added.
	cfg = &conf.Config{Peers: []conf.Peer{{PublicKey: k1}}}
	SyncconfSemantics(cfg, &conf.Device{})
	if !cfg.ReplacePeers || len(cfg.Peers) != 1 || cfg.Peers[0].PresharedKey != nil {
		t.Errorf("empty device: %+v", cfg)
	}
	// Both: removals first (descending keys), the file's peers updated
	// with their omitted preshared key and keepalive cleared.
	cfg = &conf.Config{Peers: []conf.Peer{{PublicKey: k2, PersistentKeepalive: &ka}, {PublicKey: k2}}}
	SyncconfSemantics(cfg, &conf.Device{Peers: []conf.DevicePeer{{PublicKey: k1}, {PublicKey: k2}, {PublicKey: k3}}})
	if cfg.ReplacePeers || len(cfg.Peers) != 4 {
		t.Fatalf("%+v", cfg)
	}
	if !cfg.Peers[0].Remove || cfg.Peers[0].PublicKey != k1 || !cfg.Peers[1].Remove || cfg.Peers[1].PublicKey != k3 {
		t.Errorf("removals: %v %v", cfg.Peers[0].PublicKey, cfg.Peers[1].PublicKey)
	}
	if p := cfg.Peers[2]; p.Remove || *p.PersistentKeepalive != 7 || !p.PresharedKey.IsZero() {
		t.Errorf("kept peer: %+v", p)
	}
	if p := cfg.Peers[3]; *p.PersistentKeepalive != 0 || p.PresharedKey == nil {
		t.Errorf("kept peer, second section: %+v", p)
	}
}

// serveOnce answers one connection on a unix socket in dir with reply
// after reading one line.
func serveOnce(t *testing.T, path, reply string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err == nil && line != "" {
				c.Write([]byte(reply))
			}
			c.Close()
		}
	}()
}

// TestLongNameUserspaceFirst: as wg does, a long name's UAPI socket is
// used when there is one (the name shown is cut to 15 bytes); without one
// the name is refused with ENAMETOOLONG before the kernel is asked.
func TestLongNameUserspaceFirst(t *testing.T) {
	dir := t.TempDir()
	c := NewWithRunDir(dir)
	defer c.Close()
	if _, err := c.Device("abcdefghijklmnopqrstuvwxyz"); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("no socket: %v, want ENAMETOOLONG", err)
	}
	serveOnce(t, filepath.Join(dir, "abcdefghijklmnopq.sock"), "listen_port=7\nerrno=0\n\n")
	d, err := c.Device("abcdefghijklmnopq")
	if err != nil || d.Name != "abcdefghijklmno" || d.ListenPort != 7 {
		t.Errorf("socket: %+v %v", d, err)
	}
}

// TestSetErrnoAfterCutWrite: a daemon that fails early answers and hangs
// up before reading a long request; its errno is what is reported, not
// the broken pipe.
func TestSetErrnoAfterCutWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.sock")
	serveOnce(t, path, "errno=-98\n\n")
	cfg := &conf.Config{}
	for i := 0; i < 20000; i++ {
		cfg.Peers = append(cfg.Peers, conf.Peer{PublicKey: testKey(i)})
	}
	if err := uapiSet(path, cfg, nil); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("got %v, want EADDRINUSE", err)
	}
}

// TestZoneNames: link-local endpoints show their zone as an interface
// name where one has that index, as getnameinfo does; other addresses keep
// the number.
func TestZoneNames(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no loopback interface here")
	}
	idx := netip.MustParseAddr("fe80::1").WithZone(strconv.Itoa(lo.Index))
	if got := zoneName(idx).Zone(); got != "lo" {
		t.Errorf("fe80::1%%%d: zone %q, want lo", lo.Index, got)
	}
	if got := zoneName(netip.MustParseAddr("ff02::1").WithZone(strconv.Itoa(lo.Index))).Zone(); got != "lo" {
		t.Errorf("ff02::1: zone %q, want lo", got)
	}
	if got := zoneName(netip.MustParseAddr("2001:db8::1").WithZone(strconv.Itoa(lo.Index))).Zone(); got != strconv.Itoa(lo.Index) {
		t.Errorf("2001:db8::1: zone %q, want the number", got)
	}
	if got := zoneName(netip.MustParseAddr("fe80::1").WithZone("999999")).Zone(); got != "999999" {
		t.Errorf("unknown index: zone %q", got)
	}
}

// recordSet serves one set request at path and hands what it read to got
// (up to the blank line that ends it), answering errno=0.
func recordSet(t *testing.T, path string, got chan<- string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var b strings.Builder
		for {
			line, err := r.ReadString('\n')
			b.WriteString(line)
			if err != nil || line == "\n" {
				break
			}
		}
		c.Write([]byte("errno=0\n\n"))
		got <- b.String()
	}()
}

// TestSyncStreamed: syncconf of a file read as a stream (its peers in a
// conf.PeerList, sent by uapiSet as they come) sends, byte for byte, the
// request SyncconfSemantics makes of the whole file, for random files and
// devices: some peers in both, some in one only, with and without
// preshared keys and keepalives; and setconf likewise.
func TestSyncStreamed(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	keys := make([]conf.Key, 300)
	for i := range keys {
		r.Read(keys[i][:])
	}
	for round := range 40 {
		file := &conf.Config{}
		var list conf.PeerList
		for range r.Intn(3) * r.Intn(200) {
			p := conf.Peer{PublicKey: keys[r.Intn(len(keys))], ReplaceAllowedIPs: true,
				AllowedIPs: []conf.AllowedIP{{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(r.Intn(256)), byte(r.Intn(256)), 1}), 32)}}}
			if r.Intn(2) == 0 {
				psk := keys[r.Intn(len(keys))]
				p.PresharedKey = &psk
			}
			if r.Intn(2) == 0 {
				ka := uint16(r.Intn(100))
				p.PersistentKeepalive = &ka
			}
			file.Peers = append(file.Peers, p)
			list.Add(&p)
		}
		device := &conf.Device{}
		for range r.Intn(3) * r.Intn(200) {
			device.Peers = append(device.Peers, conf.DevicePeer{PublicKey: keys[r.Intn(len(keys))]})
		}
		for _, cmd := range []string{"syncconf", "setconf"} {
			whole := &conf.Config{Peers: slices.Clone(file.Peers)}
			head := &conf.Config{}
			more := list.All()
			if cmd == "syncconf" {
				SyncconfSemantics(whole, device)
				s := NewSync(list.All(), list.Len())
				for _, p := range device.Peers {
					s.DevicePeer(p.PublicKey)
				}
				more = s.Apply(head, more)
			} else {
				SetconfSemantics(whole)
				SetconfSemantics(head)
			}
			path := filepath.Join(t.TempDir(), "s.sock")
			got := make(chan string, 1)
			recordSet(t, path, got)
			if err := uapiSet(path, head, more); err != nil {
				t.Fatal(err)
			}
			if g, w := <-got, FormatUAPISet(whole); g != w {
				t.Fatalf("round %d, %s (%d file peers, %d device peers): streamed request differs:\n--- got\n%.2000s\n--- want\n%.2000s", round, cmd, len(file.Peers), len(device.Peers), g, w)
			}
		}
	}
}

// TestUAPINoTimeout: like the reference's, the client waits for a daemon
// as long as it takes to answer (a daemon applying 20,000 peers on a
// loaded machine takes more than a minute): the socket has no receive or
// send timeout (the one it had, 30 s a read, failed such a setconf with
// "Protocol error").
func TestUAPINoTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := dialUAPI(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, opt := range []struct {
		name string
		opt  int
	}{{"SO_RCVTIMEO", unix.SO_RCVTIMEO}, {"SO_SNDTIMEO", unix.SO_SNDTIMEO}} {
		tv, err := unix.GetsockoptTimeval(c.fd, unix.SOL_SOCKET, opt.opt)
		if err != nil {
			t.Fatal(err)
		}
		if tv.Sec != 0 || tv.Usec != 0 {
			t.Errorf("%s is %d.%06d s, want none (the reference waits)", opt.name, tv.Sec, tv.Usec)
		}
	}
}
