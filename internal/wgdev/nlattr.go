package wgdev

import "encoding/binary"

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
