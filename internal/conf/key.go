package conf

import (
	"encoding/hex"
	"errors"
	"unsafe"

	"filippo.io/edwards25519/field"
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
func (k Key) String() string {
	var buf [44]byte
	return string(k.AppendBase64(buf[:0]))
}

// AppendBase64 appends the key's standard base64 form (44 characters, the
// last one '='), as encoding/base64's StdEncoding writes it. wg needs no
// other base64, and encoding/base64's package variables cost every wg
// process its start-up work.
func (k *Key) AppendBase64(b []byte) []byte {
	for i := 0; i < 30; i += 3 {
		n := uint(k[i])<<16 | uint(k[i+1])<<8 | uint(k[i+2])
		b = append(b, base64Alphabet[n>>18], base64Alphabet[n>>12&63], base64Alphabet[n>>6&63], base64Alphabet[n&63])
	}
	n := uint(k[30])<<8 | uint(k[31])
	return append(b, base64Alphabet[n>>10], base64Alphabet[n>>4&63], base64Alphabet[n<<2&63], '=')
}

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

// PublicKey derives the public key of the private key k: X25519 of the
// clamped scalar and the base point u = 9, as wg computes it, by RFC 7748's
// Montgomery ladder (section 5) on filippo.io/edwards25519's field
// arithmetic. crypto/ecdh would start the FIPS module's self-checks in
// every wg process, and edwards25519's point arithmetic computes its
// constants when the process starts and needs 8 KiB of stack; the ladder
// needs neither (tested against crypto/ecdh and RFC 7748's vectors).
func (k Key) PublicKey() Key {
	s := k
	clamp(&s)
	var x1, x2, z2, x3, z3, a, aa, b, bb, e, c, d, da, cb field.Element
	x1.SetBytes(basePoint[:])
	x2.One()
	z2.Zero()
	x3.Set(&x1)
	z3.One()
	swap := 0
	for t := 254; t >= 0; t-- {
		bit := int(s[t/8]>>(t%8)) & 1
		swap ^= bit
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = bit
		a.Add(&x2, &z2)
		aa.Square(&a)
		b.Subtract(&x2, &z2)
		bb.Square(&b)
		e.Subtract(&aa, &bb)
		c.Add(&x3, &z3)
		d.Subtract(&x3, &z3)
		da.Multiply(&d, &a)
		cb.Multiply(&c, &b)
		x3.Add(&da, &cb)
		x3.Square(&x3)
		z3.Subtract(&da, &cb)
		z3.Square(&z3)
		z3.Multiply(&z3, &x1)
		x2.Multiply(&aa, &bb)
		z2.Mult32(&e, 121665)
		z2.Add(&z2, &aa)
		z2.Multiply(&z2, &e)
	}
	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)
	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	var pub Key
	copy(pub[:], x2.Bytes())
	s.Wipe()
	for _, v := range []*field.Element{&x2, &z2, &x3, &z3, &a, &aa, &b, &bb, &e, &c, &d, &da, &cb} {
		v.Zero()
	}
	return pub
}

// basePoint is X25519's base point, u = 9.
var basePoint = [32]byte{9}

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
		m, err := getrandom(k[n:])
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

// getrandom is getrandom(2) called directly. unix.Getrandom goes through
// the vDSO's getrandom, whose per-thread state the runtime maps and
// allocates at its first use: four page faults, about as many as the rest
// of wg genkey's own work, for 32 bytes.
func getrandom(b []byte) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_GETRANDOM, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
