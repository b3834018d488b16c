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

// TestPublicKeyRFC7748 checks the public keys of section 6.1's Alice and
// Bob.
func TestPublicKeyRFC7748(t *testing.T) {
	for priv, pub := range map[string]string{
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a": "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	} {
		k, err := ParseHexKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.PublicKey().Hex(); got != pub {
			t.Errorf("PublicKey(%s) = %s, want %s", priv, got, pub)
		}
	}
}

// TestAppendBase64 checks keys are written as encoding/base64 writes them.
func TestAppendBase64(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	for i := 0; i < 20000; i++ {
		var k Key
		r.Read(k[:])
		if i == 0 {
			k = Key{}
		}
		if got, want := k.String(), base64.StdEncoding.EncodeToString(k[:]); got != want {
			t.Fatalf("%x: %s, want %s", k, got, want)
		}
	}
}
