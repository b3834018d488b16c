package conf

import (
	"fmt"
	"strings"
	"testing"
)

// bigConfig makes a config of about size bytes: peers with one /32 and one
// /128 each.
func bigConfig(size int) []byte {
	var b strings.Builder
	b.WriteString("[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nListenPort = 51820\n")
	for i := 0; b.Len() < size; i++ {
		var k Key
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.%d/32, fd00::%x/128\nEndpoint = 192.0.2.%d:%d\n",
			k, (i>>16)&255, (i>>8)&255, i&255, i, i&255, 1024+i%60000)
	}
	return []byte(b.String())
}

// longLineConfig has one AllowedIPs line of about size bytes.
func longLineConfig(size int) []byte {
	var b strings.Builder
	b.WriteString("[Interface]\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 10.0.0.0/32")
	for i := 1; b.Len() < size; i++ {
		fmt.Fprintf(&b, ", 10.%d.%d.%d/32", (i>>16)&255, (i>>8)&255, i&255)
	}
	b.WriteString("\n")
	return []byte(b.String())
}

func BenchmarkParse1MB(b *testing.B) {
	data := bigConfig(1 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("big.conf", data, fuzzOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseLine100KB(b *testing.B) {
	data := longLineConfig(100 << 10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("line.conf", data, fuzzOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat1MB(b *testing.B) {
	cfg, err := Parse("big.conf", bigConfig(1<<20), fuzzOptions())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = cfg.Format()
	}
}

// TestBigInputs checks the parser takes the sizes the benchmarks time.
func TestBigInputs(t *testing.T) {
	cfg, err := Parse("big.conf", bigConfig(1<<20), fuzzOptions())
	if err != nil || len(cfg.Peers) < 5000 {
		t.Fatalf("1 MB config: %v, %d peers", err, len(cfg.Peers))
	}
	cfg, err = Parse("line.conf", longLineConfig(100<<10), fuzzOptions())
	if err != nil || len(cfg.Peers[0].AllowedIPs) < 5000 {
		t.Fatalf("100 KB line: %v", err)
	}
}
