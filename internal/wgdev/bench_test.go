package wgdev

import (
	"bufio"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// bigUAPIConfig is a set request's model with n peers.
func bigUAPIConfig(n int) *conf.Config {
	cfg := &conf.Config{}
	for i := 0; i < n; i++ {
		ka := uint16(25)
		ep := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(1024+i))
		cfg.Peers = append(cfg.Peers, conf.Peer{PublicKey: testKey(i), PresharedKey: &conf.Key{1}, Endpoint: &ep, PersistentKeepalive: &ka, ReplaceAllowedIPs: true,
			AllowedIPs: []conf.AllowedIP{{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}, {Prefix: netip.MustParsePrefix(fmt.Sprintf("fd00::%x/128", i))}}})
	}
	return cfg
}

// bigUAPIGet is a get reply for n peers, as wireguard-go writes it.
func bigUAPIGet(n int) string {
	var b strings.Builder
	b.WriteString("private_key=" + strings.Repeat("11", 32) + "\nlisten_port=51820\n")
	for i := 0; i < n; i++ {
		k := testKey(i)
		fmt.Fprintf(&b, "public_key=%s\npreshared_key=%s\nprotocol_version=1\nendpoint=192.0.2.%d:%d\nlast_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\ntx_bytes=%d\nrx_bytes=%d\npersistent_keepalive_interval=25\nallowed_ip=10.%d.%d.0/24\nallowed_ip=fd00::%x/128\n",
			k.Hex(), strings.Repeat("22", 32), i%256, 1024+i, i*777, i*12345, (i>>8)&255, i&255, i)
	}
	b.WriteString("errno=0\n\n")
	return b.String()
}

func BenchmarkParseUAPIGet5000(b *testing.B) {
	text := bigUAPIGet(5000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseUAPIGet(bufio.NewReaderSize(strings.NewReader(text), 64<<10), "wg0"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatUAPISet5000(b *testing.B) {
	cfg := bigUAPIConfig(5000)
	b.ReportAllocs()
	for b.Loop() {
		FormatUAPISet(cfg)
	}
}

func BenchmarkEncodeSet5000(b *testing.B) {
	cfg := bigUAPIConfig(5000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeSet("wg0", cfg, messageBudget); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseKernelDump20000: the kernel path's read of a device with
// 20,000 peers (endpoint, handshake, keepalive, two allowed IPs each), as
// a dump's messages of 50 peers: what `wg show dump` and `wg syncconf`
// parse on a kernel device (docs/performance.md, kernel path).
func BenchmarkParseKernelDump20000(b *testing.B) {
	hs := time.Unix(1700000000, 0)
	var msgs [][]byte
	var chunk []conf.DevicePeer
	for i := range 20000 {
		chunk = append(chunk, conf.DevicePeer{PublicKey: testKey(i), PersistentKeepalive: 25, LastHandshake: hs,
			Endpoint: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(1024+i)),
			AllowedIPs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24),
				netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 200, byte(i >> 8), byte(i)}), 32)}})
		if len(chunk) == 50 {
			msgs = append(msgs, getReply(b, len(msgs) == 0, chunk))
			chunk = nil
		}
	}
	size := 0
	for _, m := range msgs {
		size += len(m)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		dev := &conf.Device{}
		for _, m := range msgs {
			if err := parseDeviceMessage(m, dev); err != nil {
				b.Fatal(err)
			}
		}
		if len(dev.Peers) != 20000 {
			b.Fatalf("%d peers", len(dev.Peers))
		}
	}
}

// BenchmarkEncodeSet20000: the kernel path's set request for 20,000 peers.
func BenchmarkEncodeSet20000(b *testing.B) {
	cfg := bigUAPIConfig(20000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeSet("wg0", cfg, messageBudget); err != nil {
			b.Fatal(err)
		}
	}
}
