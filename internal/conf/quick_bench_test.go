package conf

import (
	"fmt"
	"strings"
	"testing"
)

// quickConfig is a wg-quick file with n peers, each a /32 and every other
// one a /128 too, with the wg-quick keys of a server.
func quickConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nListenPort = 51820\nAddress = 10.64.0.1/16, fd64::1/64\nMTU = 1420\nPostUp = true\n")
	for i := range n {
		var k Key
		k[0], k[1], k[2] = byte(i), byte(i>>8), 7
		fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.65.%d.%d/32", k, i/250, i%250+1)
		if i%2 == 0 {
			fmt.Fprintf(&b, ", fd65::%x/128", i+1)
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// BenchmarkParseQuick5000 reads a wg-quick file with 5000 peers (what
// wg-quick up does before anything else).
func BenchmarkParseQuick5000(b *testing.B) {
	data := quickConfig(5000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseQuick("/etc/wireguard/wg0.conf", data, fuzzOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormatSaved5000 writes the file wg-quick save writes for 5000
// peers.
func BenchmarkFormatSaved5000(b *testing.B) {
	f, err := ParseQuick("/etc/wireguard/wg0.conf", quickConfig(5000), fuzzOptions())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = f.Config.FormatSaved()
	}
}
