package wgdev

// Kernel-path tests: wgdev against the kernel's wireguard module, and
// against the reference wg on the same devices. They need root and a
// kernel with the module, so they run in the test VM (make vmtest, which
// sets WGTOOLS_KERNEL_TESTS=1); elsewhere they skip. Each test runs in a
// network namespace of its own that ends with the test: its goroutine is
// locked to a thread that unshares its network namespace and is never
// unlocked, so the thread (and the namespace with every link in it) goes
// away when the test returns. Tests here must not start subtests or
// goroutines that touch devices: those would run on other threads.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
)

// kernelTestsEnv turns the kernel-path tests on.
const kernelTestsEnv = "WGTOOLS_KERNEL_TESTS"

// kernelNetns skips unless kernel-path tests were asked for, then moves
// the test's goroutine into a fresh network namespace with lo up.
func kernelNetns(t *testing.T) {
	t.Helper()
	if os.Getenv(kernelTestsEnv) == "" {
		t.Skip("kernel-path test: runs in the VM (make vmtest); to run it on a host whose kernel has the wireguard module, set " + kernelTestsEnv + "=1 as root")
	}
	if os.Geteuid() != 0 {
		t.Skip("kernel-path test: needs root")
	}
	runtime.LockOSThread() // never unlocked: the thread ends with the test
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatalf("unshare(CLONE_NEWNET): %v", err)
	}
	lo, err := vnl.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := vnl.LinkSetUp(lo); err != nil {
		t.Fatal(err)
	}
}

// needModule fails the test when the wireguard module is not loaded: in
// the kernel phase that is a broken VM, not a reason to skip.
func needModule(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/sys/module/wireguard"); err != nil {
		t.Fatalf("the wireguard module is not loaded (%v)", err)
	}
}

func addLink(t *testing.T, l vnl.Link) int {
	t.Helper()
	if err := vnl.LinkAdd(l); err != nil {
		t.Fatalf("adding %s link %s: %v", l.Type(), l.Attrs().Name, err)
	}
	got, err := vnl.LinkByName(l.Attrs().Name)
	if err != nil {
		t.Fatal(err)
	}
	return got.Attrs().Index
}

func addWG(t *testing.T, name string) int {
	t.Helper()
	return addLink(t, &vnl.Wireguard{LinkAttrs: vnl.LinkAttrs{Name: name}})
}

func addDummy(t *testing.T, name string) int {
	t.Helper()
	return addLink(t, &vnl.Dummy{LinkAttrs: vnl.LinkAttrs{Name: name}})
}

func linkUp(t *testing.T, name string) {
	t.Helper()
	l, err := vnl.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := vnl.LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
}

// keys is a deterministic source of keys for a test.
type keys struct{ r *rand.ChaCha8 }

func newKeys(seed byte) *keys { return &keys{rand.NewChaCha8([32]byte{seed})} }

// raw is 32 random bytes: any value is a valid X25519 public key.
func (k *keys) raw() conf.Key {
	var key conf.Key
	k.r.Read(key[:])
	return key
}

// private is a clamped private key.
func (k *keys) private() conf.Key {
	key := k.raw()
	key[0] &= 248
	key[31] = (key[31] & 127) | 64
	return key
}

func ptr[T any](v T) *T { return &v }

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func allowed(prefixes ...string) []conf.AllowedIP {
	out := make([]conf.AllowedIP, len(prefixes))
	for i, p := range prefixes {
		out[i] = conf.AllowedIP{Prefix: netip.MustParsePrefix(p)}
	}
	return out
}

func prefixes(list ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, p := range list {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

// deviceDiff lists how got differs from want in what the device is told
// (keys, port, fwmark, peers in order with their settings); handshakes and
// counters are left out.
func deviceDiff(want, got *conf.Device) []string {
	var d []string
	add := func(f string, a ...any) {
		if len(d) < 20 {
			d = append(d, fmt.Sprintf(f, a...))
		}
	}
	if want.PrivateKey != got.PrivateKey {
		add("private key: want %s, got %s", want.PrivateKey, got.PrivateKey)
	}
	if want.PublicKey != got.PublicKey {
		add("public key: want %s, got %s", want.PublicKey, got.PublicKey)
	}
	if want.ListenPort != got.ListenPort {
		add("listen port: want %d, got %d", want.ListenPort, got.ListenPort)
	}
	if want.FwMark != got.FwMark {
		add("fwmark: want %#x, got %#x", want.FwMark, got.FwMark)
	}
	if len(want.Peers) != len(got.Peers) {
		add("peers: want %d, got %d", len(want.Peers), len(got.Peers))
	}
	for i := 0; i < len(want.Peers) && i < len(got.Peers); i++ {
		w, g := &want.Peers[i], &got.Peers[i]
		if w.PublicKey != g.PublicKey {
			add("peer %d: want key %s, got %s", i, w.PublicKey, g.PublicKey)
			continue
		}
		if w.PresharedKey != g.PresharedKey {
			add("peer %d (%s): preshared key differs", i, w.PublicKey)
		}
		if w.Endpoint != g.Endpoint {
			add("peer %d (%s): endpoint: want %v, got %v", i, w.PublicKey, w.Endpoint, g.Endpoint)
		}
		if w.PersistentKeepalive != g.PersistentKeepalive {
			add("peer %d (%s): keepalive: want %d, got %d", i, w.PublicKey, w.PersistentKeepalive, g.PersistentKeepalive)
		}
		if len(w.AllowedIPs) != len(g.AllowedIPs) {
			add("peer %d (%s): %d allowed IPs, got %d", i, w.PublicKey, len(w.AllowedIPs), len(g.AllowedIPs))
		}
		for j := 0; j < len(w.AllowedIPs) && j < len(g.AllowedIPs); j++ {
			if w.AllowedIPs[j] != g.AllowedIPs[j] {
				add("peer %d (%s): allowed IP %d: want %s, got %s", i, w.PublicKey, j, w.AllowedIPs[j], g.AllowedIPs[j])
				break
			}
		}
	}
	return d
}

func checkDevice(t *testing.T, what string, want, got *conf.Device) {
	t.Helper()
	if d := deviceDiff(want, got); len(d) > 0 {
		t.Errorf("%s:\n  %s", what, strings.Join(d, "\n  "))
	}
}

// device reads name through a fresh client and fails the test on error.
func device(t *testing.T, name string) *conf.Device {
	t.Helper()
	c := New()
	defer c.Close()
	d, err := c.Device(name)
	if err != nil {
		t.Fatalf("Device(%s): %v", name, err)
	}
	return d
}

func configure(t *testing.T, name string, cfg *conf.Config) {
	t.Helper()
	c := New()
	defer c.Close()
	if err := c.Configure(name, cfg); err != nil {
		t.Fatalf("Configure(%s): %v", name, err)
	}
}

// TestKernelNoModule runs in the VM's first phase, before the module is
// loadable: every request fails as the reference's do, with
// EPROTONOSUPPORT, and listing finds nothing.
func TestKernelNoModule(t *testing.T) {
	kernelNetns(t)
	if _, err := os.Stat("/sys/module/wireguard"); err == nil {
		t.Skip("the wireguard module is loaded; this test belongs to the VM's no-module phase")
	}
	c := New()
	defer c.Close()
	if _, err := c.Device("wg0"); !errors.Is(err, syscall.EPROTONOSUPPORT) {
		t.Errorf("Device without the module: %v, want EPROTONOSUPPORT", err)
	}
	if err := c.Configure("wg0", &conf.Config{}); !errors.Is(err, syscall.EPROTONOSUPPORT) {
		t.Errorf("Configure without the module: %v, want EPROTONOSUPPORT", err)
	}
	if names, err := c.Interfaces(); err != nil || len(names) != 0 {
		t.Errorf("Interfaces without the module: %q, %v; want none", names, err)
	}
	if err := vnl.LinkAdd(&vnl.Wireguard{LinkAttrs: vnl.LinkAttrs{Name: "wg0"}}); err == nil {
		t.Errorf("a wireguard link could be created: the module is not held back")
	}
}

// TestKernelMissingInterface: no such device (ENODEV), a link that is not
// a WireGuard device (the kernel says EOPNOTSUPP, which wg prints as
// "Operation not supported"), and names too long.
func TestKernelMissingInterface(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addDummy(t, "notwg0")
	c := New()
	defer c.Close()
	for name, want := range map[string]syscall.Errno{"nosuchwg": syscall.ENODEV, "notwg0": syscall.EOPNOTSUPP} {
		if _, err := c.Device(name); !errors.Is(err, want) {
			t.Errorf("Device(%s): %v, want %v", name, err, want)
		}
		if err := c.Configure(name, &conf.Config{Interface: conf.Interface{FwMark: ptr[uint32](1)}}); !errors.Is(err, want) {
			t.Errorf("Configure(%s): %v, want %v", name, err, want)
		}
	}
	if _, err := c.Device("sixteen-chars-xx"); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("Device of a 16-byte name: %v, want ENAMETOOLONG", err)
	}
}

// TestKernelInterfaces: kernel devices are listed in ifindex order, other
// links are not.
func TestKernelInterfaces(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wgz")
	addDummy(t, "dum0")
	addWG(t, "wga")
	addWG(t, "wgm")
	c := New()
	defer c.Close()
	names, err := c.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, " "); got != "wgz wga wgm" {
		t.Errorf("Interfaces: %q, want \"wgz wga wgm\" (ifindex order)", got)
	}
}

// TestKernelRoundTrip sets every field through wgdev and reads it back.
func TestKernelRoundTrip(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wg0")
	dumIndex := addDummy(t, "dum0")
	k := newKeys(1)
	priv, psk := k.private(), k.raw()
	p := []conf.Key{k.raw(), k.raw(), k.raw(), k.raw(), k.raw(), k.raw()}
	cfg := &conf.Config{
		Interface: conf.Interface{PrivateKey: &priv, ListenPort: ptr[uint16](51820), FwMark: ptr[uint32](0xca6c)},
		Peers: []conf.Peer{
			{PublicKey: p[0], PresharedKey: &psk, Endpoint: ptr(ap("192.0.2.1:51820")), PersistentKeepalive: ptr[uint16](25),
				ReplaceAllowedIPs: true, AllowedIPs: allowed("10.0.0.2/32", "10.1.0.0/16", "fd00::2/128", "10.9.9.9/8")},
			{PublicKey: p[1], Endpoint: ptr(ap("[2001:db8::1]:1")), AllowedIPs: allowed("0.0.0.0/0", "::/0")},
			{PublicKey: p[2], Endpoint: ptr(ap("[::ffff:198.51.100.9]:65535"))},
			{PublicKey: p[3], Endpoint: ptr(ap("[fe80::1%dum0]:51821")), PersistentKeepalive: ptr[uint16](65535)},
			{PublicKey: p[4], Endpoint: ptr(ap("[fe80::2%" + strconv.Itoa(dumIndex) + "]:7"))},
			{PublicKey: p[5], AllowedIPs: allowed("10.0.0.2/32")}, // moves 10.0.0.2/32 away from p[0]
		},
	}
	configure(t, "wg0", cfg)
	want := &conf.Device{
		Name: "wg0", PrivateKey: priv, PublicKey: priv.PublicKey(), ListenPort: 51820, FwMark: 0xca6c,
		Peers: []conf.DevicePeer{
			{PublicKey: p[0], PresharedKey: psk, Endpoint: ap("192.0.2.1:51820"), PersistentKeepalive: 25,
				AllowedIPs: prefixes("10.1.0.0/16", "fd00::2/128", "10.0.0.0/8")},
			{PublicKey: p[1], Endpoint: ap("[2001:db8::1]:1"), AllowedIPs: prefixes("0.0.0.0/0", "::/0")},
			{PublicKey: p[2], Endpoint: ap("[::ffff:198.51.100.9]:65535")},
			{PublicKey: p[3], Endpoint: ap("[fe80::1%dum0]:51821"), PersistentKeepalive: 65535},
			{PublicKey: p[4], Endpoint: ap("[fe80::2%dum0]:7")},
			{PublicKey: p[5], AllowedIPs: prefixes("10.0.0.2/32")},
		},
	}
	got := device(t, "wg0")
	checkDevice(t, "after Configure", want, got)
	if got.Peers[0].ProtocolVersion != 1 {
		t.Errorf("protocol version %d, want 1", got.Peers[0].ProtocolVersion)
	}

	// Changing some fields leaves the others; zero values clear.
	configure(t, "wg0", &conf.Config{
		Interface: conf.Interface{FwMark: ptr[uint32](0)},
		Peers: []conf.Peer{
			{PublicKey: p[0], PresharedKey: new(conf.Key), PersistentKeepalive: ptr[uint16](0), AllowedIPs: allowed("192.0.2.0/24")},
			{PublicKey: p[1], ReplaceAllowedIPs: true},
			{PublicKey: p[2], Remove: true},
		},
	})
	want.FwMark = 0
	want.Peers[0].PresharedKey = conf.Key{}
	want.Peers[0].PersistentKeepalive = 0
	want.Peers[0].AllowedIPs = append(want.Peers[0].AllowedIPs, netip.MustParsePrefix("192.0.2.0/24"))
	want.Peers[1].AllowedIPs = nil
	want.Peers = append(want.Peers[:2], want.Peers[3:]...)
	checkDevice(t, "after a partial change", want, device(t, "wg0"))
}

// TestKernelPrivateKey: no public key without a private key; a zero key
// (what wg reads from /dev/null) removes it; a peer whose key is the
// device's own public key is ignored; setting a private key whose public
// key is a peer's removes that peer.
func TestKernelPrivateKey(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wg0")
	k := newKeys(2)
	if d := device(t, "wg0"); !d.PrivateKey.IsZero() || !d.PublicKey.IsZero() {
		t.Errorf("fresh device: private %s public %s, want none", d.PrivateKey, d.PublicKey)
	}
	priv, other := k.private(), k.private()
	configure(t, "wg0", &conf.Config{Interface: conf.Interface{PrivateKey: &priv}})
	if d := device(t, "wg0"); d.PrivateKey != priv || d.PublicKey != priv.PublicKey() {
		t.Errorf("after setting a key: private %s public %s", d.PrivateKey, d.PublicKey)
	}
	configure(t, "wg0", &conf.Config{Peers: []conf.Peer{{PublicKey: priv.PublicKey()}, {PublicKey: other.PublicKey()}}})
	d := device(t, "wg0")
	if len(d.Peers) != 1 || d.Peers[0].PublicKey != other.PublicKey() {
		t.Errorf("a peer with the device's own key was not ignored: %d peers", len(d.Peers))
	}
	configure(t, "wg0", &conf.Config{Interface: conf.Interface{PrivateKey: &other}})
	if d := device(t, "wg0"); len(d.Peers) != 0 {
		t.Errorf("the peer whose key became the device's own is still there")
	}
	configure(t, "wg0", &conf.Config{Interface: conf.Interface{PrivateKey: new(conf.Key)}})
	if d := device(t, "wg0"); !d.PrivateKey.IsZero() || !d.PublicKey.IsZero() {
		t.Errorf("after a zero key: private %s public %s, want none", d.PrivateKey, d.PublicKey)
	}
	// An unclamped key is stored clamped (as wireguard-go does too).
	raw := k.raw()
	raw[0] |= 7
	raw[31] |= 128
	clamped := raw
	clamped[0] &= 248
	clamped[31] = (clamped[31] & 127) | 64
	configure(t, "wg0", &conf.Config{Interface: conf.Interface{PrivateKey: &raw}})
	if d := device(t, "wg0"); d.PrivateKey != clamped || d.PublicKey != clamped.PublicKey() {
		t.Errorf("unclamped key: read back %s, want %s (clamped)", d.PrivateKey, clamped)
	}
}

// TestKernelSetconfSemantics: what setconf's file omits is reset, and
// peers not in it go; a port of 0 is random once the device is up.
func TestKernelSetconfSemantics(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wg0")
	k := newKeys(3)
	priv, a, b := k.private(), k.raw(), k.raw()
	configure(t, "wg0", &conf.Config{
		Interface: conf.Interface{PrivateKey: &priv, ListenPort: ptr[uint16](40000), FwMark: ptr[uint32](7)},
		Peers:     []conf.Peer{{PublicKey: a, AllowedIPs: allowed("10.0.0.1/32")}},
	})
	cfg := &conf.Config{Peers: []conf.Peer{{PublicKey: b, ReplaceAllowedIPs: true, AllowedIPs: allowed("10.0.0.2/32")}}}
	SetconfSemantics(cfg)
	configure(t, "wg0", cfg)
	want := &conf.Device{Peers: []conf.DevicePeer{{PublicKey: b, AllowedIPs: prefixes("10.0.0.2/32")}}}
	checkDevice(t, "after setconf on a down device", want, device(t, "wg0"))

	linkUp(t, "wg0")
	if d := device(t, "wg0"); d.ListenPort == 0 {
		t.Errorf("up device with port 0: still 0, want a random port")
	}
}

// TestKernelRemoveAllowedIPs: the '-' entries (removal) are emulated by
// reading the peer's list and replacing it.
func TestKernelRemoveAllowedIPs(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wg0")
	k := newKeys(4)
	a, b := k.raw(), k.raw()
	configure(t, "wg0", &conf.Config{Peers: []conf.Peer{
		{PublicKey: a, AllowedIPs: allowed("10.0.0.1/32", "10.0.0.2/32", "fd00::1/128", "10.0.0.3/32")},
		{PublicKey: b, AllowedIPs: allowed("10.9.0.0/16")},
	}})
	configure(t, "wg0", &conf.Config{Peers: []conf.Peer{{PublicKey: a, AllowedIPs: []conf.AllowedIP{
		{Prefix: netip.MustParsePrefix("10.0.0.2/32"), Remove: true},
		{Prefix: netip.MustParsePrefix("10.0.0.4/32")},
		{Prefix: netip.MustParsePrefix("fd00::1/128"), Remove: true},
		{Prefix: netip.MustParsePrefix("10.7.0.0/16"), Remove: true}, // not there: nothing happens
	}}}})
	want := &conf.Device{Peers: []conf.DevicePeer{
		{PublicKey: a, AllowedIPs: prefixes("10.0.0.1/32", "10.0.0.3/32", "10.0.0.4/32")},
		{PublicKey: b, AllowedIPs: prefixes("10.9.0.0/16")},
	}}
	checkDevice(t, "after removals", want, device(t, "wg0"))
}

// TestKernelUpdateOnly: an update-only peer changes an existing peer and
// never creates one.
func TestKernelUpdateOnly(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wg0")
	k := newKeys(5)
	a, b := k.raw(), k.raw()
	configure(t, "wg0", &conf.Config{Peers: []conf.Peer{{PublicKey: a}}})
	configure(t, "wg0", &conf.Config{Peers: []conf.Peer{
		{PublicKey: a, UpdateOnly: true, PersistentKeepalive: ptr[uint16](5)},
		{PublicKey: b, UpdateOnly: true, PersistentKeepalive: ptr[uint16](5)},
	}})
	want := &conf.Device{Peers: []conf.DevicePeer{{PublicKey: a, PersistentKeepalive: 5}}}
	checkDevice(t, "after update-only", want, device(t, "wg0"))
}

// manyPeers is a configuration with n peers, each with an endpoint, a
// keepalive and two allowed IPs, and its expected device state.
func manyPeers(k *keys, n int) (*conf.Config, *conf.Device) {
	priv := k.private()
	cfg := &conf.Config{Interface: conf.Interface{PrivateKey: &priv, ListenPort: ptr[uint16](51000)}}
	want := &conf.Device{PrivateKey: priv, PublicKey: priv.PublicKey(), ListenPort: 51000}
	for i := 0; i < n; i++ {
		pub := k.raw()
		v4 := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		v6 := netip.AddrFrom16([16]byte{0xfd, 0, 14: byte(i >> 8), 15: byte(i)})
		ep := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(1000+i))
		cfg.Peers = append(cfg.Peers, conf.Peer{PublicKey: pub, Endpoint: &ep, PersistentKeepalive: ptr(uint16(i % 100)),
			ReplaceAllowedIPs: true, AllowedIPs: []conf.AllowedIP{{Prefix: netip.PrefixFrom(v4, 32)}, {Prefix: netip.PrefixFrom(v6, 128)}}})
		want.Peers = append(want.Peers, conf.DevicePeer{PublicKey: pub, Endpoint: ep, PersistentKeepalive: uint16(i % 100),
			AllowedIPs: []netip.Prefix{netip.PrefixFrom(v4, 32), netip.PrefixFrom(v6, 128)}})
	}
	return cfg, want
}

// bigPeer is a peer with n allowed IPs (half /32s, half /128s).
func bigPeer(pub conf.Key, n int) (conf.Peer, conf.DevicePeer) {
	p := conf.Peer{PublicKey: pub, ReplaceAllowedIPs: true}
	d := conf.DevicePeer{PublicKey: pub}
	for i := 0; i < n; i++ {
		var pr netip.Prefix
		if i%2 == 0 {
			pr = netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16 + byte(i>>17), byte(i >> 9), byte(i >> 1)}), 32)
		} else {
			pr = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 0xaa, 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)}), 128)
		}
		p.AllowedIPs = append(p.AllowedIPs, conf.AllowedIP{Prefix: pr})
		d.AllowedIPs = append(d.AllowedIPs, pr)
	}
	return p, d
}

// getMessages is how many netlink messages the kernel's answer to a get
// took.
func getMessages(t *testing.T, name string) int {
	t.Helper()
	k, err := openKernel()
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.WGDEVICE_A_IFNAME, name)
	attrs, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := k.execute(unix.WG_CMD_GET_DEVICE, netlink.Request|netlink.Dump, attrs)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

// TestKernelManyPeers: thousands of peers go out in several set messages
// and come back in several get messages, in order.
func TestKernelManyPeers(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wg0")
	cfg, want := manyPeers(newKeys(6), 3000)
	if n := len(planSet(cfg, messageBudget)); n < 2 {
		t.Fatalf("3000 peers planned into %d message; the test would not exercise splitting", n)
	}
	configure(t, "wg0", cfg)
	checkDevice(t, "3000 peers", want, device(t, "wg0"))
	if n := getMessages(t, "wg0"); n < 2 {
		t.Errorf("the kernel answered in %d message; the continuation path was not exercised", n)
	}
}

// TestKernelManyAllowedIPs: one peer with tens of thousands of allowed IPs,
// between two small peers, is split across set messages (continuations
// repeat the peer without replace flags) and merged back on get.
func TestKernelManyAllowedIPs(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wg0")
	k := newKeys(7)
	a, z := k.raw(), k.raw()
	big, bigWant := bigPeer(k.raw(), 24000)
	cfg := &conf.Config{Peers: []conf.Peer{
		{PublicKey: a, AllowedIPs: allowed("10.0.0.1/32")},
		big,
		{PublicKey: z, AllowedIPs: allowed("10.0.0.2/32")},
	}}
	if n := len(planSet(cfg, messageBudget)); n < 5 {
		t.Fatalf("24000 allowed IPs planned into %d messages", n)
	}
	configure(t, "wg0", cfg)
	want := &conf.Device{Peers: []conf.DevicePeer{
		{PublicKey: a, AllowedIPs: prefixes("10.0.0.1/32")}, bigWant, {PublicKey: z, AllowedIPs: prefixes("10.0.0.2/32")},
	}}
	checkDevice(t, "24000 allowed IPs", want, device(t, "wg0"))
	if n := getMessages(t, "wg0"); n < 5 {
		t.Errorf("the kernel answered in %d messages; want several", n)
	}
	// Replacing the big list with a small one, then removing from a big
	// list (read, then replace in several messages).
	configure(t, "wg0", &conf.Config{Peers: []conf.Peer{{PublicKey: big.PublicKey, AllowedIPs: []conf.AllowedIP{
		{Prefix: bigWant.AllowedIPs[1], Remove: true},
	}}}})
	bigWant.AllowedIPs = append(bigWant.AllowedIPs[:1:1], bigWant.AllowedIPs[2:]...)
	want.Peers[1] = bigWant
	checkDevice(t, "after removing one of 24000", want, device(t, "wg0"))
}

// TestKernelPortInUse: a taken port fails with EADDRINUSE.
func TestKernelPortInUse(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	addWG(t, "wg0")
	addWG(t, "wg1")
	linkUp(t, "wg0")
	linkUp(t, "wg1")
	configure(t, "wg0", &conf.Config{Interface: conf.Interface{ListenPort: ptr[uint16](51820)}})
	c := New()
	defer c.Close()
	if err := c.Configure("wg1", &conf.Config{Interface: conf.Interface{ListenPort: ptr[uint16](51820)}}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second device on the same port: %v, want EADDRINUSE", err)
	}
}

// referenceWG is the reference wg carried into the VM.
func referenceWG(t *testing.T) string {
	t.Helper()
	p := os.Getenv("WGTOOLS_REFERENCE_WG")
	if p == "" {
		p = "/usr/bin/wg"
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("reference wg not found at %s (install wireguard-tools)", p)
	}
	return p
}

// ref runs the reference wg (in this test's namespace: exec forks from
// the locked thread) and returns its standard output.
func ref(t *testing.T, wg string, args ...string) string {
	t.Helper()
	cmd := exec.Command(wg, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "WG_COLOR_MODE=never", "WG_HIDE_KEYS=never"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("wg %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// parseDump reads `wg show IF dump` into a Device.
func parseDump(t *testing.T, name, dump string) *conf.Device {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(dump, "\n"), "\n")
	d := &conf.Device{Name: name}
	key := func(s string) conf.Key {
		if s == "(none)" {
			return conf.Key{}
		}
		k, err := conf.ParseKey(s)
		if err != nil {
			t.Fatalf("dump key %q: %v", s, err)
		}
		return k
	}
	f := strings.Split(lines[0], "\t")
	if len(f) != 4 {
		t.Fatalf("dump interface line %q", lines[0])
	}
	d.PrivateKey, d.PublicKey = key(f[0]), key(f[1])
	port, _ := strconv.ParseUint(f[2], 10, 16)
	d.ListenPort = uint16(port)
	if f[3] != "off" {
		m, err := strconv.ParseUint(strings.TrimPrefix(f[3], "0x"), 16, 32)
		if err != nil {
			t.Fatalf("dump fwmark %q", f[3])
		}
		d.FwMark = uint32(m)
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != 8 {
			t.Fatalf("dump peer line %q", l)
		}
		p := conf.DevicePeer{PublicKey: key(f[0]), PresharedKey: key(f[1])}
		if f[2] != "(none)" {
			ep, err := netip.ParseAddrPort(f[2])
			if err != nil {
				t.Fatalf("dump endpoint %q: %v", f[2], err)
			}
			p.Endpoint = ep
		}
		if f[3] != "(none)" {
			for _, s := range strings.Split(f[3], ",") {
				p.AllowedIPs = append(p.AllowedIPs, netip.MustParsePrefix(s))
			}
		}
		if f[7] != "off" {
			ka, _ := strconv.ParseUint(f[7], 10, 16)
			p.PersistentKeepalive = uint16(ka)
		}
		d.Peers = append(d.Peers, p)
	}
	return d
}

// richConfig is a configuration using every field, many peers and a peer
// with many allowed IPs; with its expected device state.
func richConfig(k *keys, peers, bigIPs int) (*conf.Config, *conf.Device) {
	cfg, want := manyPeers(k, peers)
	psk := k.raw()
	cfg.Interface.FwMark = ptr[uint32](0x1234)
	want.FwMark = 0x1234
	cfg.Peers[0].PresharedKey = &psk
	want.Peers[0].PresharedKey = psk
	for i, ep := range []string{"[2001:db8::5]:51820", "[::ffff:198.51.100.9]:1", "[fe80::1%dum0]:51821"} {
		e := ap(ep)
		cfg.Peers[i+1].Endpoint = &e
		want.Peers[i+1].Endpoint = e
	}
	big, bigWant := bigPeer(k.raw(), bigIPs)
	cfg.Peers = append(cfg.Peers, big)
	want.Peers = append(want.Peers, bigWant)
	return cfg, want
}

// TestKernelReferenceReadsWgdev: after configuring with wgdev, the
// reference's dump and showconf describe the same state.
func TestKernelReferenceReadsWgdev(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	wg := referenceWG(t)
	addWG(t, "wg0")
	addDummy(t, "dum0")
	cfg, want := richConfig(newKeys(8), 2000, 20000)
	configure(t, "wg0", cfg)
	checkDevice(t, "reference dump after wgdev's Configure", want, parseDump(t, "wg0", ref(t, wg, "show", "wg0", "dump")))

	sc, err := conf.Parse("showconf", []byte(ref(t, wg, "showconf", "wg0")), nil)
	if err != nil {
		t.Fatalf("parsing the reference's showconf: %v", err)
	}
	got := configDevice(sc)
	got.PublicKey = want.PublicKey // showconf has no public key
	checkDevice(t, "reference showconf after wgdev's Configure", want, got)
	// And our own writer prints what the reference prints.
	if ours, theirs := conf.ConfigOf(device(t, "wg0")).Format(), ref(t, wg, "showconf", "wg0"); ours != theirs {
		t.Errorf("showconf text differs from the reference's (ours %d bytes, theirs %d)", len(ours), len(theirs))
	}
}

// configDevice is the device state a parsed showconf describes.
func configDevice(c *conf.Config) *conf.Device {
	d := &conf.Device{}
	if c.Interface.PrivateKey != nil {
		d.PrivateKey = *c.Interface.PrivateKey
	}
	if c.Interface.ListenPort != nil {
		d.ListenPort = *c.Interface.ListenPort
	}
	if c.Interface.FwMark != nil {
		d.FwMark = *c.Interface.FwMark
	}
	for _, p := range c.Peers {
		dp := conf.DevicePeer{PublicKey: p.PublicKey}
		if p.PresharedKey != nil {
			dp.PresharedKey = *p.PresharedKey
		}
		if p.Endpoint != nil {
			dp.Endpoint = *p.Endpoint
		}
		if p.PersistentKeepalive != nil {
			dp.PersistentKeepalive = *p.PersistentKeepalive
		}
		for _, a := range p.AllowedIPs {
			dp.AllowedIPs = append(dp.AllowedIPs, a.Prefix)
		}
		d.Peers = append(d.Peers, dp)
	}
	return d
}

// TestKernelWgdevReadsReference: after the reference's setconf, wgdev
// reads the state the reference's dump shows and the file asked for.
func TestKernelWgdevReadsReference(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	wg := referenceWG(t)
	addWG(t, "wg0")
	addDummy(t, "dum0")
	cfg, want := richConfig(newKeys(9), 2000, 20000)
	file := t.TempDir() + "/wg0.conf"
	if err := os.WriteFile(file, []byte(cfg.Format()), 0o600); err != nil {
		t.Fatal(err)
	}
	ref(t, wg, "setconf", "wg0", file)
	got := device(t, "wg0")
	checkDevice(t, "wgdev after the reference's setconf, against the file", want, got)
	checkDevice(t, "wgdev after the reference's setconf, against the reference's dump", parseDump(t, "wg0", ref(t, wg, "show", "wg0", "dump")), got)

	// And the reverse of a removal: the reference's `wg set ... remove`
	// and a private key from /dev/null, read by wgdev.
	ref(t, wg, "set", "wg0", "private-key", "/dev/null", "peer", want.Peers[0].PublicKey.String(), "remove")
	want.PrivateKey, want.PublicKey = conf.Key{}, conf.Key{}
	want.Peers = want.Peers[1:]
	checkDevice(t, "wgdev after the reference's set", want, device(t, "wg0"))
}

// TestKernelHandshake: two devices in one namespace complete a handshake
// over loopback (started by a persistent keepalive, so no routes are
// needed); wgdev reads the handshake time, the counters, the protocol
// version and the endpoint the responder learned, as the reference does.
func TestKernelHandshake(t *testing.T) {
	kernelNetns(t)
	needModule(t)
	wg := referenceWG(t)
	addWG(t, "wga")
	addWG(t, "wgb")
	k := newKeys(10)
	ka, kb := k.private(), k.private()
	configure(t, "wga", &conf.Config{
		Interface: conf.Interface{PrivateKey: &ka, ListenPort: ptr[uint16](51820)},
		Peers: []conf.Peer{{PublicKey: kb.PublicKey(), Endpoint: ptr(ap("127.0.0.1:51821")),
			PersistentKeepalive: ptr[uint16](1), AllowedIPs: allowed("10.0.0.2/32")}},
	})
	configure(t, "wgb", &conf.Config{
		Interface: conf.Interface{PrivateKey: &kb, ListenPort: ptr[uint16](51821)},
		Peers:     []conf.Peer{{PublicKey: ka.PublicKey(), AllowedIPs: allowed("10.0.0.1/32")}},
	})
	before := time.Now().Add(-time.Second)
	linkUp(t, "wga")
	linkUp(t, "wgb")
	var a, b *conf.Device
	for i := 0; i < 100; i++ { // at most 20 s: TCG is slow
		a, b = device(t, "wga"), device(t, "wgb")
		if !a.Peers[0].LastHandshake.IsZero() && !b.Peers[0].LastHandshake.IsZero() {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if a.Peers[0].LastHandshake.IsZero() || b.Peers[0].LastHandshake.IsZero() {
		t.Fatalf("no handshake: initiator %v, responder %v", a.Peers[0].LastHandshake, b.Peers[0].LastHandshake)
	}
	// Quiet the link, so that both readers see the same counters.
	configure(t, "wga", &conf.Config{Peers: []conf.Peer{{PublicKey: kb.PublicKey(), PersistentKeepalive: ptr[uint16](0)}}})
	time.Sleep(1500 * time.Millisecond)
	for _, name := range []string{"wga", "wgb"} {
		d := device(t, name)
		p := d.Peers[0]
		if hs := p.LastHandshake; hs.Before(before) || hs.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: handshake time %v is not around now", name, hs)
		}
		if p.RxBytes == 0 || p.TxBytes == 0 {
			t.Errorf("%s: counters rx %d tx %d after a handshake", name, p.RxBytes, p.TxBytes)
		}
		if p.ProtocolVersion != 1 {
			t.Errorf("%s: protocol version %d", name, p.ProtocolVersion)
		}
		f := strings.Split(strings.Split(ref(t, wg, "show", name, "dump"), "\n")[1], "\t")
		if got := fmt.Sprintf("%s %d %d %d", conf.FormatEndpoint(p.Endpoint), p.LastHandshake.Unix(), p.RxBytes, p.TxBytes); got != strings.Join([]string{f[2], f[4], f[5], f[6]}, " ") {
			t.Errorf("%s: wgdev reads endpoint, handshake, rx, tx as %q; the reference's dump says %q", name, got, strings.Join([]string{f[2], f[4], f[5], f[6]}, " "))
		}
	}
	// The responder learned the initiator's endpoint from its packets.
	if got := device(t, "wgb").Peers[0].Endpoint; got != ap("127.0.0.1:51820") {
		t.Errorf("responder's endpoint for the initiator: %v, want 127.0.0.1:51820", got)
	}
}
