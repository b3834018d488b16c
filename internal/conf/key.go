package conf

import (
	"encoding/base64"
	"encoding/hex"
	"errors"

	"filippo.io/edwards25519"
	"golang.org/x/sys/unix"
)

// KeyLen is the length of a WireGuard key in bytes.
const KeyLen = 32

// Key is a Curve25519 private or public key, or a preshared key.
// The zero Key means "no key" wherever wg treats an all-zero key so.
type Key [KeyLen]byte

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

var errKeyFormat = errors.New("Key is not the correct length or format")

// base64Value maps a character to its value in the standard base64
// alphabet, or -1.
var base64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base64Alphabet); i++ {
		t[base64Alphabet[i]] = int8(i)
	}
	return t
}()

// ParseKey decodes a key the way wireguard-tools' key_from_base64 does:
// exactly 44 characters, the last one '=', the others from the standard
// base64 alphabet, and the padding bits of the last data character zero (so
// every key has exactly one accepted spelling).
func ParseKey(s string) (Key, error) { return parseKey(s) }

// parseKey is ParseKey for a string or bytes (a key file's buffer, which
// is wiped after: converting it to a string would leave a copy behind).
func parseKey[T string | []byte](s T) (Key, error) {
	var k Key
	if len(s) != 44 || s[43] != '=' {
		return k, errKeyFormat
	}
	var v [43]byte
	for i := 0; i < 43; i++ {
		x := base64Value[s[i]]
		if x < 0 {
			return Key{}, errKeyFormat
		}
		v[i] = byte(x)
	}
	if v[42]&3 != 0 {
		return Key{}, errKeyFormat
	}
	for i, j := 0, 0; i < 40; i, j = i+4, j+3 {
		n := uint(v[i])<<18 | uint(v[i+1])<<12 | uint(v[i+2])<<6 | uint(v[i+3])
		k[j], k[j+1], k[j+2] = byte(n>>16), byte(n>>8), byte(n)
	}
	n := uint(v[40])<<12 | uint(v[41])<<6 | uint(v[42])
	k[30], k[31] = byte(n>>10), byte(n>>2)
	return k, nil
}

// ParseHexKey decodes the 64-hex-digit form used by the UAPI protocol.
func ParseHexKey(s string) (Key, error) {
	var k Key
	if len(s) != 2*KeyLen {
		return k, errKeyFormat
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return Key{}, errKeyFormat
	}
	return k, nil
}

// String returns the base64 form (44 characters).
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// Hex returns the lowercase hexadecimal form used by the UAPI protocol.
func (k Key) Hex() string { return hex.EncodeToString(k[:]) }

// IsZero reports whether every byte of k is zero.
func (k Key) IsZero() bool {
	var acc byte
	for _, b := range k {
		acc |= b
	}
	return acc == 0
}

// PublicKey derives the public key of the private key k: the X25519
// product of the clamped scalar and the base point, as wg does. It is
// computed on edwards25519's generator and mapped to the Montgomery
// u-coordinate (RFC 7748 4.1), which is X25519's base point product:
// filippo.io/edwards25519 does it without crypto/ecdh's FIPS module, whose
// start-up work every wg process would pay. ScalarMult builds its small
// table on the stack; ScalarBaseMult would fill a 30 KiB one first.
func (k Key) PublicKey() Key {
	var pub Key
	var s edwards25519.Scalar
	if _, err := s.SetBytesWithClamping(k[:]); err != nil {
		// Only a wrong length errors, and a Key has the right one.
		return pub
	}
	var p edwards25519.Point
	p.ScalarMult(&s, edwards25519.NewGeneratorPoint())
	copy(pub[:], p.BytesMontgomery())
	s = edwards25519.Scalar{}
	p = edwards25519.Point{}
	return pub
}

// Wipe overwrites the key with zeros.
func (k *Key) Wipe() {
	for i := range k {
		k[i] = 0
	}
}

func clamp(k *Key) {
	k[0] &= 248
	k[31] = (k[31] & 127) | 64
}

// GeneratePrivateKey returns a new random, clamped private key.
func GeneratePrivateKey() (Key, error) {
	k, err := GeneratePresharedKey()
	if err != nil {
		return k, err
	}
	clamp(&k)
	return k, nil
}

// GeneratePresharedKey returns 32 random bytes, from getrandom(2) as wg
// takes them. (crypto/rand would do the same, but its first use in a
// process arms a one-minute timer to warn of a blocked read, which starts
// the runtime's poller and a thread: a tenth of wg genkey's own time.)
func GeneratePresharedKey() (Key, error) {
	var k Key
	for n := 0; n < len(k); {
		m, err := unix.Getrandom(k[n:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Key{}, err
		}
		n += m
	}
	return k, nil
}
