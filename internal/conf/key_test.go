package conf

import (
	"encoding/base64"
	"math/rand"
	"testing"
)

// TestParseKeyMatchesBase64: ParseKey accepts exactly the canonical
// standard-base64 spellings of 32 bytes, and decodes them as
// encoding/base64 does.
func TestParseKeyMatchesBase64(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	alphabet := base64Alphabet + "=-_ !"
	for i := 0; i < 200000; i++ {
		var raw [32]byte
		r.Read(raw[:])
		s := []byte(base64.StdEncoding.EncodeToString(raw[:]))
		if i%2 == 1 { // mutate one character
			s[r.Intn(len(s))] = alphabet[r.Intn(len(alphabet))]
		}
		k, err := ParseKey(string(s))
		dec, derr := base64.StdEncoding.Strict().DecodeString(string(s))
		want := derr == nil && len(dec) == 32 && s[43] == '=' && s[42] != '='
		if (err == nil) != want {
			t.Fatalf("%q: ParseKey error %v, strict base64 %v", s, err, derr)
		}
		if err == nil && string(k[:]) != string(dec) {
			t.Fatalf("%q: decoded differently", s)
		}
	}
}
