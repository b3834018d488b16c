package conf

import (
	"bytes"
	"crypto/ecdh"
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

// TestPublicKeyAgainstECDH: the public key of random private keys, clamped
// and not, with the extreme bits set, is crypto/ecdh's X25519 product with
// the base point (RFC 7748).
func TestPublicKeyAgainstECDH(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	keys := []Key{{}, {0: 0xff, 31: 0xff}}
	for i := range keys[1] {
		keys[1][i] = 0xff
	}
	for i := 0; i < 2000; i++ {
		var k Key
		r.Read(k[:])
		keys = append(keys, k)
	}
	for _, k := range keys {
		sk, err := ecdh.X25519().NewPrivateKey(k[:])
		if err != nil {
			t.Fatal(err)
		}
		if got, want := k.PublicKey(), sk.PublicKey().Bytes(); !bytes.Equal(got[:], want) {
			t.Fatalf("PublicKey(%x) = %x, crypto/ecdh says %x", k, got, want)
		}
	}
}
