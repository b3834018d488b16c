package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/testnet"
)

// BenchmarkUp1000Peers measures `wg-quick up` (and down) of an interface
// with 1000 peers, each with its own /32 (1000 routes) and its own
// endpoint address (1000 route lookups for the automatic MTU), on the
// embedded userspace device:
//
//	sudo go test -run '^$' -bench Up1000 -benchtime 5x ./cmd/wg-quick
func BenchmarkUp1000Peers(b *testing.B) {
	testnet.Require(b)
	h := testnet.NewHost(b, "wgq-bench")
	priv, err := conf.GeneratePrivateKey()
	if err != nil {
		b.Fatal(err)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "[Interface]\nAddress = 10.0.0.1/24\nListenPort = 51820\nPrivateKey = %s\n", priv)
	for i := range 1000 {
		k, _ := conf.GeneratePrivateKey()
		fmt.Fprintf(&s, "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.1.%d.%d/32\nEndpoint = 198.51.%d.%d:%d\n", k.PublicKey(), i/250, i%250+1, 100+i/250, i%250+1, 10000+i)
	}
	h.WriteFile("/etc/wireguard/wg0.conf", []byte(s.String()), 0o600)
	var up, down time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		mustQuick(b, h, "up", "wg0")
		up += time.Since(start)
		start = time.Now()
		mustQuick(b, h, "down", "wg0")
		down += time.Since(start)
	}
	b.ReportMetric(float64(up.Milliseconds())/float64(b.N), "ms/up")
	b.ReportMetric(float64(down.Milliseconds())/float64(b.N), "ms/down")
}
