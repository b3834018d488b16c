package conf

import (
	"encoding/binary"
	"iter"
	"net/netip"
	"time"
)

// PeerList and DevicePeerList hold many peers for the commands that must
// keep them all before acting (wg setconf sends nothing until the whole
// file has parsed; pretty wg show sorts): each peer is one record of a
// compact encoding, about 60 bytes for a peer with a key, an endpoint and
// two allowed IPs, where a Peer or DevicePeer with its allocations takes
// 250 to 400. The records are written into blocks that are filled and
// never moved. In a short-lived process every page of memory touched is a
// page fault, and on some machines a fault costs tens of microseconds: at
// 20,000 peers this is the difference between about 300 and 2000 of them.

// blockSize is the size of each block records are written into (a record
// larger than that gets a block of its own).
const blockSize = 32 << 10

// Pos is where a record is in a list.
type Pos struct{ block, off uint32 }

type records struct {
	blocks [][]byte
	rec    []byte // the record being encoded, reused: rec[head:] once ended
	head   int
	n      int
}

// add stores the record being encoded and returns where it went.
func (r *records) add() Pos {
	rec := r.rec[r.head:]
	if len(r.blocks) == 0 || cap(r.blocks[len(r.blocks)-1])-len(r.blocks[len(r.blocks)-1]) < len(rec) {
		r.blocks = append(r.blocks, make([]byte, 0, max(blockSize, len(rec))))
	}
	b := &r.blocks[len(r.blocks)-1]
	pos := Pos{uint32(len(r.blocks) - 1), uint32(len(*b))}
	*b = append(*b, rec...)
	r.n++
	return pos
}

// all yields each record in order.
func (r *records) all(yield func(Pos, []byte) bool) {
	for i, b := range r.blocks {
		for off := 0; off < len(b); {
			n := recordLen(b[off:])
			if !yield(Pos{uint32(i), uint32(off)}, b[off:off+n]) {
				return
			}
			off += n
		}
	}
}

func (r *records) at(p Pos) []byte {
	b := r.blocks[p.block][p.off:]
	return b[:recordLen(b)]
}

func (r *records) wipe() {
	for _, b := range r.blocks {
		clear(b[:cap(b)])
	}
	clear(r.rec[:cap(r.rec)])
}

// Every record starts with its length (a uvarint, counting itself not):
// begin leaves room for it, end writes it just before the body.
const lenRoom = binary.MaxVarintLen32

func (r *records) begin() {
	r.rec = append(r.rec[:0], make([]byte, lenRoom)...)
}

func (r *records) end() {
	var head [lenRoom]byte
	n := binary.PutUvarint(head[:], uint64(len(r.rec)-lenRoom))
	r.head = lenRoom - n
	copy(r.rec[r.head:], head[:n])
}

func recordLen(b []byte) int {
	l, n := binary.Uvarint(b)
	return n + int(l)
}

func recordBody(b []byte) []byte {
	_, n := binary.Uvarint(b)
	return b[n:]
}

// Address forms in a record.
const (
	addrNone   = 0
	addrV4     = 4
	addrV6     = 6
	addrV6Zone = 7
)

func appendAddr(b []byte, a netip.Addr) []byte {
	switch {
	case !a.IsValid():
		return append(b, addrNone)
	case a.Is4():
		x := a.As4()
		return append(append(b, addrV4), x[:]...)
	case a.Zone() == "":
		x := a.As16()
		return append(append(b, addrV6), x[:]...)
	}
	x := a.As16()
	b = append(append(b, addrV6Zone), x[:]...)
	b = binary.AppendUvarint(b, uint64(len(a.Zone())))
	return append(b, a.Zone()...)
}

func readAddr(b []byte) (netip.Addr, []byte) {
	switch b[0] {
	case addrV4:
		return netip.AddrFrom4([4]byte(b[1:5])), b[5:]
	case addrV6:
		return netip.AddrFrom16([16]byte(b[1:17])), b[17:]
	case addrV6Zone:
		a := netip.AddrFrom16([16]byte(b[1:17]))
		l, n := binary.Uvarint(b[17:])
		rest := b[17+n:]
		return a.WithZone(string(rest[:l])), rest[l:]
	}
	return netip.Addr{}, b[1:]
}

// A prefix is its address and its length, the address without a zone.
func appendPrefix(b []byte, p netip.Prefix, remove bool) []byte {
	tag := byte(0)
	if p.Addr().Is6() {
		tag |= 1
	}
	if remove {
		tag |= 2
	}
	b = append(b, tag, byte(p.Bits()))
	if tag&1 != 0 {
		x := p.Addr().As16()
		return append(b, x[:]...)
	}
	x := p.Addr().As4()
	return append(b, x[:]...)
}

func readPrefix(b []byte) (netip.Prefix, bool, []byte) {
	tag, bits := b[0], int(b[1])
	if tag&1 != 0 {
		return netip.PrefixFrom(netip.AddrFrom16([16]byte(b[2:18])), bits), tag&2 != 0, b[18:]
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte(b[2:6])), bits), tag&2 != 0, b[6:]
}

func readUvarint(b []byte) (uint64, []byte) {
	v, n := binary.Uvarint(b)
	return v, b[n:]
}

// Flags of a peer record.
const (
	flagRemove = 1 << iota
	flagUpdateOnly
	flagReplaceIPs
	flagPSK
	flagEndpoint
	flagKeepalive
	flagHandshake
)

// PeerList holds Peers (see above). The zero value is an empty list.
type PeerList struct {
	r records
}

// Add appends a copy of p.
func (l *PeerList) Add(p *Peer) {
	l.r.begin()
	b := l.r.rec
	flags := byte(0)
	if p.Remove {
		flags |= flagRemove
	}
	if p.UpdateOnly {
		flags |= flagUpdateOnly
	}
	if p.ReplaceAllowedIPs {
		flags |= flagReplaceIPs
	}
	if p.PresharedKey != nil {
		flags |= flagPSK
	}
	if p.Endpoint != nil {
		flags |= flagEndpoint
	}
	if p.PersistentKeepalive != nil {
		flags |= flagKeepalive
	}
	b = append(b, flags)
	b = append(b, p.PublicKey[:]...)
	if p.PresharedKey != nil {
		b = append(b, p.PresharedKey[:]...)
	}
	if p.Endpoint != nil {
		b = appendAddr(b, p.Endpoint.Addr())
		b = binary.LittleEndian.AppendUint16(b, p.Endpoint.Port())
	}
	if p.PersistentKeepalive != nil {
		b = binary.LittleEndian.AppendUint16(b, *p.PersistentKeepalive)
	}
	b = binary.AppendUvarint(b, uint64(len(p.AllowedIPs)))
	for _, a := range p.AllowedIPs {
		b = appendPrefix(b, a.Prefix, a.Remove)
	}
	l.r.rec = b
	l.r.end()
	l.r.add()
}

// Len is the number of peers.
func (l *PeerList) Len() int { return l.r.n }

// peerHolder is what a decoded Peer's pointers point to.
type peerHolder struct {
	p   Peer
	psk Key
	ep  netip.AddrPort
	ka  uint16
}

func (h *peerHolder) decode(rec []byte) *Peer {
	b := recordBody(rec)
	flags := b[0]
	p := &h.p
	*p = Peer{
		Remove:            flags&flagRemove != 0,
		UpdateOnly:        flags&flagUpdateOnly != 0,
		ReplaceAllowedIPs: flags&flagReplaceIPs != 0,
		PublicKey:         Key(b[1:33]),
		AllowedIPs:        p.AllowedIPs[:0],
		hasPublicKey:      true,
	}
	b = b[33:]
	if flags&flagPSK != 0 {
		h.psk = Key(b[:32])
		p.PresharedKey = &h.psk
		b = b[32:]
	}
	if flags&flagEndpoint != 0 {
		var a netip.Addr
		a, b = readAddr(b)
		h.ep = netip.AddrPortFrom(a, binary.LittleEndian.Uint16(b))
		p.Endpoint = &h.ep
		b = b[2:]
	}
	if flags&flagKeepalive != 0 {
		h.ka = binary.LittleEndian.Uint16(b)
		p.PersistentKeepalive = &h.ka
		b = b[2:]
	}
	n, b := readUvarint(b)
	for range n {
		var a AllowedIP
		a.Prefix, a.Remove, b = readPrefix(b)
		p.AllowedIPs = append(p.AllowedIPs, a)
	}
	return p
}

// All yields the peers in the order they were added. The Peer yielded is
// one variable, reused with its AllowedIPs and what its pointers point to:
// it is valid until the next one (copy it to keep it).
func (l *PeerList) All() iter.Seq[*Peer] {
	return func(yield func(*Peer) bool) {
		var h peerHolder
		defer h.psk.Wipe()
		for _, rec := range l.r.all {
			if !yield(h.decode(rec)) {
				return
			}
		}
	}
}

// Wipe overwrites the list's memory (it holds the preshared keys).
func (l *PeerList) Wipe() { l.r.wipe() }

// DevicePeerList holds DevicePeers (see above). The zero value is an
// empty list.
type DevicePeerList struct {
	r records
}

// Add appends a copy of p and returns where it is.
func (l *DevicePeerList) Add(p *DevicePeer) Pos {
	l.r.begin()
	b := l.r.rec
	flags := byte(0)
	if !p.PresharedKey.IsZero() {
		flags |= flagPSK
	}
	if p.Endpoint.IsValid() {
		flags |= flagEndpoint
	}
	if p.PersistentKeepalive != 0 {
		flags |= flagKeepalive
	}
	if !p.LastHandshake.IsZero() {
		flags |= flagHandshake
	}
	b = append(b, flags)
	b = append(b, p.PublicKey[:]...)
	if flags&flagPSK != 0 {
		b = append(b, p.PresharedKey[:]...)
	}
	if flags&flagEndpoint != 0 {
		b = appendAddr(b, p.Endpoint.Addr())
		b = binary.LittleEndian.AppendUint16(b, p.Endpoint.Port())
	}
	if flags&flagKeepalive != 0 {
		b = binary.LittleEndian.AppendUint16(b, p.PersistentKeepalive)
	}
	if flags&flagHandshake != 0 {
		b = binary.AppendVarint(b, p.LastHandshake.Unix())
		b = binary.AppendUvarint(b, uint64(p.LastHandshake.Nanosecond()))
	}
	b = binary.AppendUvarint(b, p.RxBytes)
	b = binary.AppendUvarint(b, p.TxBytes)
	b = binary.AppendVarint(b, int64(p.ProtocolVersion))
	b = binary.AppendUvarint(b, uint64(len(p.AllowedIPs)))
	for _, a := range p.AllowedIPs {
		b = appendPrefix(b, a, false)
	}
	l.r.rec = b
	l.r.end()
	return l.r.add()
}

// Len is the number of peers.
func (l *DevicePeerList) Len() int { return l.r.n }

// DevicePeerReader decodes peers of a DevicePeerList into one DevicePeer,
// reused: each is valid until the next is read.
type DevicePeerReader struct {
	l *DevicePeerList
	p DevicePeer
}

// Reader returns a reader of l's peers.
func (l *DevicePeerList) Reader() *DevicePeerReader { return &DevicePeerReader{l: l} }

// At decodes the peer at pos.
func (r *DevicePeerReader) At(pos Pos) *DevicePeer { return r.decode(r.l.r.at(pos)) }

// All yields each peer in order, with where it is.
func (r *DevicePeerReader) All() iter.Seq2[Pos, *DevicePeer] {
	return func(yield func(Pos, *DevicePeer) bool) {
		for pos, rec := range r.l.r.all {
			if !yield(pos, r.decode(rec)) {
				return
			}
		}
	}
}

// Wipe overwrites the last peer's preshared key.
func (r *DevicePeerReader) Wipe() { r.p.PresharedKey.Wipe() }

func (r *DevicePeerReader) decode(rec []byte) *DevicePeer {
	b := recordBody(rec)
	flags := b[0]
	p := &r.p
	*p = DevicePeer{PublicKey: Key(b[1:33]), AllowedIPs: p.AllowedIPs[:0]}
	b = b[33:]
	if flags&flagPSK != 0 {
		p.PresharedKey = Key(b[:32])
		b = b[32:]
	}
	if flags&flagEndpoint != 0 {
		var a netip.Addr
		a, b = readAddr(b)
		p.Endpoint = netip.AddrPortFrom(a, binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	if flags&flagKeepalive != 0 {
		p.PersistentKeepalive = binary.LittleEndian.Uint16(b)
		b = b[2:]
	}
	if flags&flagHandshake != 0 {
		sec, n := binary.Varint(b)
		nsec, m := binary.Uvarint(b[n:])
		p.LastHandshake = time.Unix(sec, int64(nsec))
		b = b[n+m:]
	}
	p.RxBytes, b = readUvarint(b)
	p.TxBytes, b = readUvarint(b)
	proto, n := binary.Varint(b)
	p.ProtocolVersion = int(proto)
	count, b := readUvarint(b[n:])
	for range count {
		var a netip.Prefix
		a, _, b = readPrefix(b)
		p.AllowedIPs = append(p.AllowedIPs, a)
	}
	return p
}

// Wipe overwrites the list's memory (it holds the preshared keys).
func (l *DevicePeerList) Wipe() { l.r.wipe() }
