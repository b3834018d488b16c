package conf

import (
	"math/rand"
	"net/netip"
	"strings"
	"testing"
)

// checkParseAddr compares ParseAddr, from a string and from bytes, with
// netip.ParseAddr (which takes zones, and ParseAddr none).
func checkParseAddr(t *testing.T, s string) {
	got, ok := ParseAddr(s)
	gotB, okB := ParseAddr([]byte(s))
	want, err := netip.ParseAddr(s)
	if err == nil && want.Zone() != "" {
		err = errZone
	}
	if ok != (err == nil) || (ok && got != want) || okB != ok || gotB != got {
		t.Fatalf("%q: ParseAddr %v %v (bytes %v %v), netip.ParseAddr %v %v", s, got, ok, gotB, okB, want, err)
	}
}

var errZone = &Error{Msg: "zone"}

// TestParseAddr checks ParseAddr against netip.ParseAddr on random strings
// of the characters addresses are made of, and on the written forms of
// random addresses.
func TestParseAddr(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	const alphabet = "0123456789abcdefABCDEF:.:::..%x"
	for range 300000 {
		b := make([]byte, r.Intn(46))
		for j := range b {
			b[j] = alphabet[r.Intn(len(alphabet))]
		}
		checkParseAddr(t, string(b))
	}
	for range 30000 {
		var x [16]byte
		r.Read(x[:])
		for j := range x {
			if r.Intn(3) == 0 {
				x[j] = 0
			}
		}
		for _, a := range []netip.Addr{netip.AddrFrom16(x), netip.AddrFrom4([4]byte(x[:4]))} {
			for _, s := range []string{a.String(), a.StringExpanded(), FormatAddr(a), strings.ToUpper(a.String())} {
				checkParseAddr(t, s)
			}
		}
	}
	for _, s := range []string{"", "::", ":::", "1::", "::1", "1:", ":1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:8::",
		"::1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:1.2.3.4", "::1.2.3.4.5", "::12345", "::0000", "1.2.3.4", "01.2.3.4",
		"1.2.3", "1.2.3.4.", "256.1.1.1", "fe80::1%eth0", "1.2.3.4%x", "::a.1.2.3"} {
		checkParseAddr(t, s)
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"::ffff:1.2.3.4", "1.2.3.4", "1:2:3:4:5:6:7::", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(checkParseAddr)
}
