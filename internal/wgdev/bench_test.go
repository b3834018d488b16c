package wgdev

import (
	"bufio"
	"fmt"
	"net/netip"
	"strings"
	"testing"

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
