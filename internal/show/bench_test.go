package show

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// bigDevice is a device with n peers, each with a key, most with an
// endpoint, a preshared key, traffic, a handshake and two allowed IPs.
func bigDevice(n int) *conf.Device {
	d := &conf.Device{Name: "wg0", PrivateKey: privA, PublicKey: pubA, ListenPort: 51820}
	for i := 0; i < n; i++ {
		var k conf.Key
		binary.BigEndian.PutUint64(k[:], uint64(i)*0x9e3779b97f4a7c15)
		p := conf.DevicePeer{
			PublicKey: k, PresharedKey: psk, RxBytes: uint64(i) * 12345, TxBytes: uint64(i) * 777777,
			LastHandshake:       now.Add(-time.Duration(i%300) * time.Second),
			PersistentKeepalive: 25,
			AllowedIPs:          []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24), netip.MustParsePrefix(fmt.Sprintf("fd00::%x/128", i))},
		}
		if i%4 != 0 {
			p.Endpoint = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(1024+i))
		}
		d.Peers = append(d.Peers, p)
	}
	return d
}

func benchWrite(b *testing.B, f func(w *bufio.Writer, d *conf.Device)) {
	d := bigDevice(5000)
	w := bufio.NewWriterSize(io.Discard, 64<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f(w, d)
		w.Flush()
	}
}

func BenchmarkDump5000(b *testing.B) {
	benchWrite(b, func(w *bufio.Writer, d *conf.Device) { Dump(w, d, false) })
}

func BenchmarkPretty5000(b *testing.B) {
	benchWrite(b, func(w *bufio.Writer, d *conf.Device) { Pretty(w, d, Style{Now: now}) })
}

func BenchmarkPrettyColor5000(b *testing.B) {
	benchWrite(b, func(w *bufio.Writer, d *conf.Device) { Pretty(w, d, Style{Color: true, Now: now}) })
}

func BenchmarkFieldAllowedIPs5000(b *testing.B) {
	benchWrite(b, func(w *bufio.Writer, d *conf.Device) { Field(w, d, "allowed-ips", true) })
}

func BenchmarkShowconf5000(b *testing.B) {
	benchWrite(b, Showconf)
}

// BenchmarkShowconfViaConfig is the same text through conf's model.
func BenchmarkShowconfViaConfig5000(b *testing.B) {
	benchWrite(b, func(w *bufio.Writer, d *conf.Device) { w.Write(conf.ConfigOf(d).AppendFormat(nil)) })
}
