package wgdev

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseUAPIGet feeds arbitrary bytes as a daemon's "get" reply (as
// wireguard-tools' fuzz/uapi.c does): no panic, and a reply that parses
// has only well-formed allowed IPs.
func FuzzParseUAPIGet(f *testing.F) {
	for _, name := range []string{"fmt0", "fmt1", "empty", "badproto"} {
		b, err := os.ReadFile(filepath.Join(refDir, "wg-fake", name+".get"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append(bytes.ReplaceAll(b, []byte("{now"), []byte("{1")), "errno=0\n\n"...))
	}
	f.Add([]byte("public_key=" + string(bytes.Repeat([]byte("ab"), 32)) + "\nallowed_ip=10.0.0.0/8\nallowed_ip=::/0\nendpoint=[fe80::1%1]:1\nerrno=0\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseUAPIGet(bufio.NewReaderSize(bytes.NewReader(data), 16), "x")
		if err != nil {
			return
		}
		for _, p := range d.Peers {
			for _, a := range p.AllowedIPs {
				if !a.IsValid() || a.Addr().Zone() != "" {
					t.Fatalf("allowed IP %v from %q", a, data)
				}
			}
		}
	})
}
