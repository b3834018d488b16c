package wgdev

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// attrBuilder appends netlink attributes (header: length and type in host
// byte order, payload padded to 4 bytes) to one buffer, so that a set
// request for thousands of peers costs a few allocations rather than
// several per attribute.
type attrBuilder struct{ b []byte }

const nlaNested = 1 << 15 // NLA_F_NESTED

func (e *attrBuilder) header(typ uint16, payload int) {
	e.b = binary.NativeEndian.AppendUint16(e.b, uint16(4+payload))
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
}

func (e *attrBuilder) pad() {
	for len(e.b)%4 != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *attrBuilder) bytes(typ uint16, v []byte) {
	e.header(typ, len(v))
	e.b = append(e.b, v...)
	e.pad()
}

func (e *attrBuilder) str(typ uint16, v string) {
	e.header(typ, len(v)+1)
	e.b = append(e.b, v...)
	e.b = append(e.b, 0)
	e.pad()
}

func (e *attrBuilder) u8(typ uint16, v uint8) {
	e.header(typ, 1)
	e.b = append(e.b, v)
	e.pad()
}

func (e *attrBuilder) u16(typ uint16, v uint16) {
	e.header(typ, 2)
	e.b = binary.NativeEndian.AppendUint16(e.b, v)
	e.pad()
}

func (e *attrBuilder) u32(typ uint16, v uint32) {
	e.header(typ, 4)
	e.b = binary.NativeEndian.AppendUint32(e.b, v)
}

// start opens a nested attribute; end closes it, writing its length.
func (e *attrBuilder) start(typ uint16) int {
	off := len(e.b)
	e.header(typ|nlaNested, 0)
	return off
}

func (e *attrBuilder) end(off int) {
	binary.NativeEndian.PutUint16(e.b[off:], uint16(len(e.b)-off))
}

// attrReader walks the netlink attributes of one buffer in place, the
// reading side of attrBuilder: mdlayher/netlink's AttributeDecoder copies
// every attribute's payload and allocates a decoder for every nested one,
// a dozen allocations a peer on a dump of thousands (BenchmarkParseKernelDump20000).
// It reads what AttributeDecoder reads, the same way: the type without
// its two flag bits, a zero length as an empty attribute (skipped by a
// header's worth), a length of 1 to 3 or past the buffer as malformed.
type attrReader struct {
	b   []byte // what is left after the current attribute
	typ uint16
	val []byte // the current attribute's payload (in b's array: not a copy)
	err error
}

// errAttr is a malformed attribute or a payload of the wrong size.
var errAttr = errors.New("malformed netlink attribute")

const attrTypeMask = 0x3fff // without NLA_F_NESTED and NLA_F_NET_BYTEORDER

func newAttrReader(b []byte) *attrReader { return &attrReader{b: b} }

// next moves to the next attribute; false at the end or at a malformed
// one (err).
func (r *attrReader) next() bool {
	if r.err != nil || len(r.b) == 0 {
		return false
	}
	if len(r.b) < 4 {
		r.err = errAttr
		return false
	}
	l := int(binary.NativeEndian.Uint16(r.b))
	switch {
	case l > len(r.b), l > 0 && l < 4:
		r.err = errAttr
		return false
	case l == 0:
		r.val = r.b[4:4]
		l = 4
	default:
		r.val = r.b[4:l:l]
	}
	r.typ = binary.NativeEndian.Uint16(r.b[2:]) & attrTypeMask
	r.b = r.b[min((l+3)&^3, len(r.b)):]
	return true
}

// nested is a reader of the current attribute's payload.
func (r *attrReader) nested() *attrReader { return &attrReader{b: r.val} }

func (r *attrReader) sized(n int) []byte {
	if len(r.val) != n {
		if r.err == nil {
			r.err = errAttr
		}
		return make([]byte, n)
	}
	return r.val
}

func (r *attrReader) u8() uint8   { return r.sized(1)[0] }
func (r *attrReader) u16() uint16 { return binary.NativeEndian.Uint16(r.sized(2)) }
func (r *attrReader) u32() uint32 { return binary.NativeEndian.Uint32(r.sized(4)) }
func (r *attrReader) u64() uint64 { return binary.NativeEndian.Uint64(r.sized(8)) }

// str is the payload without its trailing NULs, as nlenc.String reads it.
func (r *attrReader) str() string { return string(bytes.TrimRight(r.val, "\x00")) }
