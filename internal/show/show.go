package show

import (
	"bufio"
	"cmp"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// Style is how pretty output looks.
type Style struct {
	// Color prints the reference's ANSI colours (WG_COLOR_MODE=always, or a
	// terminal); without it the text is the same with the sequences left out.
	Color bool
	// ShowKeys prints private and preshared keys instead of "(hidden)"
	// (WG_HIDE_KEYS=never).
	ShowKeys bool
	// Now is the time handshake ages are counted from; only its seconds
	// count, as with the reference's time(NULL).
	Now time.Time
}

// lineReserve is the free space a line starts with: below it the buffer is
// flushed first, so appending a line seldom outgrows the buffer.
const lineReserve = 512

// line returns the writer's free buffer to append one line to; write it
// back with w.Write.
func line(w *bufio.Writer) []byte {
	if w.Available() < lineReserve {
		w.Flush()
	}
	return w.AvailableBuffer()
}

// Pretty writes the pretty form of d, as `wg show IFACE` prints it. Peers
// are ordered by latest handshake, newest first, peers that never
// completed one last; ties keep the device's order.
func Pretty(w *bufio.Writer, d *conf.Device, st Style) {
	PrettyPeers(w, d, slices.Values(SortedPeers(d.Peers)), st)
}

// PrettyPeers is Pretty with the peers given apart, already in pretty
// order (SortPeers, or a Sorter's); d's own Peers are not looked at.
func PrettyPeers(w *bufio.Writer, d *conf.Device, peers iter.Seq[*conf.DevicePeer], st Style) {
	p := &noColors
	if st.Color {
		p = &colors
	}
	now := st.Now.Unix()

	b := line(w)
	b = append(b, p.reset...)
	b = append(b, p.green...)
	b = append(b, p.bold...)
	b = append(b, "interface"...)
	b = append(b, p.reset...)
	b = append(b, ": "...)
	b = append(b, p.green...)
	b = append(b, d.Name...)
	b = append(b, p.reset...)
	b = append(b, '\n')
	if !st.Color && strings.IndexByte(d.Name, '\x1b') >= 0 {
		// The reference filters escape sequences out of the whole line,
		// including any in the name; redo this line its way.
		full := []byte(ansiGreen + ansiBold + "interface" + ansiReset + ": " + ansiGreen + d.Name + ansiReset + "\n")
		b = append(b[:0], filterANSI(full)...)
	}
	if !d.PublicKey.IsZero() {
		b = label(b, p, "public key")
		b = appendKey(b, &d.PublicKey)
		b = append(b, '\n')
	}
	if !d.PrivateKey.IsZero() {
		b = label(b, p, "private key")
		b = appendMasked(b, &d.PrivateKey, st.ShowKeys)
		b = append(b, '\n')
	}
	if d.ListenPort != 0 {
		b = label(b, p, "listening port")
		b = strconv.AppendUint(b, uint64(d.ListenPort), 10)
		b = append(b, '\n')
	}
	if d.FwMark != 0 {
		b = label(b, p, "fwmark")
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, uint64(d.FwMark), 16)
		b = append(b, '\n')
	}
	w.Write(b)

	// A blank line before each peer: after the interface's lines, and
	// between peers.
	for peer := range peers {
		b := line(w)
		b = append(b, '\n')
		b = append(b, p.yellow...)
		b = append(b, p.bold...)
		b = append(b, "peer"...)
		b = append(b, p.reset...)
		b = append(b, ": "...)
		b = append(b, p.yellow...)
		b = appendKey(b, &peer.PublicKey)
		b = append(b, p.reset...)
		b = append(b, '\n')
		if !peer.PresharedKey.IsZero() {
			b = label(b, p, "preshared key")
			b = appendMasked(b, &peer.PresharedKey, st.ShowKeys)
			b = append(b, '\n')
		}
		if peer.Endpoint.IsValid() {
			b = label(b, p, "endpoint")
			b = conf.AppendEndpoint(b, peer.Endpoint)
			b = append(b, '\n')
		}
		b = label(b, p, "allowed ips")
		if len(peer.AllowedIPs) == 0 {
			b = append(b, "(none)\n"...)
		}
		for j, a := range peer.AllowedIPs {
			if len(b) > 32<<10 {
				w.Write(b)
				b = line(w)
			}
			b = conf.AppendAddr(b, a.Addr())
			b = append(b, p.cyan...)
			b = append(b, '/')
			b = append(b, p.reset...)
			b = strconv.AppendUint(b, uint64(a.Bits()), 10)
			if j+1 < len(peer.AllowedIPs) {
				b = append(b, ", "...)
			} else {
				b = append(b, '\n')
			}
		}
		if sec := handshakeSec(peer.LastHandshake); sec != 0 {
			b = label(b, p, "latest handshake")
			b = appendAgo(b, sec, now, p)
			b = append(b, '\n')
		}
		if peer.RxBytes != 0 || peer.TxBytes != 0 {
			b = label(b, p, "transfer")
			b = appendBytes(b, peer.RxBytes, p)
			b = append(b, " received, "...)
			b = appendBytes(b, peer.TxBytes, p)
			b = append(b, " sent\n"...)
		}
		if peer.PersistentKeepalive != 0 {
			b = label(b, p, "persistent keepalive")
			b = append(b, "every "...)
			b = appendDuration(b, uint64(peer.PersistentKeepalive), p)
			b = append(b, '\n')
		}
		w.Write(b)
	}
}

// label appends "  NAME: " with NAME in bold.
func label(b []byte, p *palette, name string) []byte {
	b = append(b, ' ', ' ')
	b = append(b, p.bold...)
	b = append(b, name...)
	b = append(b, p.reset...)
	return append(b, ':', ' ')
}

func appendMasked(b []byte, k *conf.Key, show bool) []byte {
	if show {
		return appendKey(b, k)
	}
	return append(b, "(hidden)"...)
}

// SortedPeers returns the peers in pretty order: latest handshake first
// (seconds, then nanoseconds), peers without a handshake last, and the
// device's order between equals.
func SortedPeers(peers []conf.DevicePeer) []*conf.DevicePeer {
	out := make([]*conf.DevicePeer, len(peers))
	for i := range peers {
		out[i] = &peers[i]
	}
	SortPeers(out)
	return out
}

// SortPeers puts peers in pretty order (see SortedPeers), in place.
func SortPeers(out []*conf.DevicePeer) {
	slices.SortStableFunc(out, func(a, b *conf.DevicePeer) int {
		az, bz := a.LastHandshake.IsZero(), b.LastHandshake.IsZero()
		switch {
		case az && bz:
			return 0
		case az:
			return 1
		case bz:
			return -1
		}
		return b.LastHandshake.Compare(a.LastHandshake)
	})
}

// Sorter keeps a device's peers as they are read, for the pretty form,
// which prints them sorted: in a compact list (conf.DevicePeerList), with
// the handshake times of those that have one, so that thousands of peers
// are kept in about a fifth of the memory of DevicePeers.
type Sorter struct {
	list   conf.DevicePeerList
	recent []recentPeer // the peers with a handshake
}

type recentPeer struct {
	sec  int64
	nsec int32
	pos  conf.Pos
}

// Add keeps a copy of p.
func (s *Sorter) Add(p *conf.DevicePeer) {
	pos := s.list.Add(p)
	if !p.LastHandshake.IsZero() {
		s.recent = append(s.recent, recentPeer{p.LastHandshake.Unix(), int32(p.LastHandshake.Nanosecond()), pos})
	}
}

// Peers yields the peers in pretty order (as SortPeers puts them): those
// with a handshake, newest first, then the others in the device's order.
// The peer yielded is one variable, reused.
func (s *Sorter) Peers() iter.Seq[*conf.DevicePeer] {
	return func(yield func(*conf.DevicePeer) bool) {
		slices.SortStableFunc(s.recent, func(a, b recentPeer) int {
			if c := cmp.Compare(b.sec, a.sec); c != 0 {
				return c
			}
			return cmp.Compare(b.nsec, a.nsec)
		})
		r := s.list.Reader()
		defer r.Wipe()
		for _, p := range s.recent {
			if !yield(r.At(p.pos)) {
				return
			}
		}
		for _, p := range r.All() {
			if p.LastHandshake.IsZero() && !yield(p) {
				return
			}
		}
	}
}

// Wipe overwrites the peers kept (their preshared keys).
func (s *Sorter) Wipe() { s.list.Wipe() }

// Dump writes the `dump` form: the interface line, then one line per peer,
// tab-separated; with withName every line starts with the interface name
// (`wg show all dump`).
func Dump(w *bufio.Writer, d *conf.Device, withName bool) {
	dumpHeader(w, d, withName)
	for i := range d.Peers {
		dumpPeer(w, d, &d.Peers[i], withName)
	}
}

func dumpHeader(w *bufio.Writer, d *conf.Device, withName bool) {
	b := line(w)
	b = prefix(b, d, withName)
	b = appendMaybeKey(b, &d.PrivateKey)
	b = append(b, '\t')
	b = appendMaybeKey(b, &d.PublicKey)
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(d.ListenPort), 10)
	b = append(b, '\t')
	b = appendFwMark(b, d.FwMark)
	b = append(b, '\n')
	w.Write(b)
}

func dumpPeer(w *bufio.Writer, d *conf.Device, peer *conf.DevicePeer, withName bool) {
	b := line(w)
	b = prefix(b, d, withName)
	b = appendKey(b, &peer.PublicKey)
	b = append(b, '\t')
	b = appendMaybeKey(b, &peer.PresharedKey)
	b = append(b, '\t')
	b = appendEndpointOrNone(b, peer)
	b = append(b, '\t')
	b = appendAllowedIPs(w, b, peer, ',')
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(handshakeSec(peer.LastHandshake)), 10)
	b = append(b, '\t')
	b = strconv.AppendUint(b, peer.RxBytes, 10)
	b = append(b, '\t')
	b = strconv.AppendUint(b, peer.TxBytes, 10)
	b = append(b, '\t')
	b = appendKeepalive(b, peer.PersistentKeepalive)
	b = append(b, '\n')
	w.Write(b)
}

func prefix(b []byte, d *conf.Device, withName bool) []byte {
	if withName {
		b = append(b, d.Name...)
		b = append(b, '\t')
	}
	return b
}

func appendEndpointOrNone(b []byte, peer *conf.DevicePeer) []byte {
	if !peer.Endpoint.IsValid() {
		return append(b, "(none)"...)
	}
	return conf.AppendEndpoint(b, peer.Endpoint)
}

// appendAllowedIPs appends the peer's allowed IPs separated by sep, or
// "(none)". Long lists are written through w as they grow.
func appendAllowedIPs(w *bufio.Writer, b []byte, peer *conf.DevicePeer, sep byte) []byte {
	if len(peer.AllowedIPs) == 0 {
		return append(b, "(none)"...)
	}
	for j, a := range peer.AllowedIPs {
		if j > 0 {
			b = append(b, sep)
		}
		if len(b) > 32<<10 {
			w.Write(b)
			b = line(w)
		}
		b = conf.AppendPrefix(b, a)
	}
	return b
}

// Fields are the names `wg show IFACE FIELD` accepts, in the usage text's
// order.
var Fields = []string{"public-key", "private-key", "listen-port", "fwmark", "peers", "preshared-keys", "endpoints", "allowed-ips", "latest-handshakes", "transfer", "persistent-keepalive", "dump"}

// IsField reports whether name is one of Fields (compared exactly, as the
// reference does).
func IsField(name string) bool { return slices.Contains(Fields, name) }

// Field writes one field of d as `wg show IFACE FIELD` does; with withName
// every line starts with the interface name (`wg show all FIELD`). It
// returns false, writing nothing, for a name that is not a field.
func Field(w *bufio.Writer, d *conf.Device, field string, withName bool) bool {
	if !IsField(field) {
		return false
	}
	fieldHeader(w, d, field, withName)
	for i := range d.Peers {
		fieldPeer(w, d, &d.Peers[i], field, withName)
	}
	return true
}

// fieldHeader writes what a field prints of the interface itself.
func fieldHeader(w *bufio.Writer, d *conf.Device, field string, withName bool) {
	switch field {
	case "public-key", "private-key", "listen-port", "fwmark":
	case "dump":
		dumpHeader(w, d, withName)
		return
	default:
		return
	}
	b := line(w)
	b = prefix(b, d, withName)
	switch field {
	case "public-key":
		b = appendMaybeKey(b, &d.PublicKey)
	case "private-key":
		b = appendMaybeKey(b, &d.PrivateKey)
	case "listen-port":
		b = strconv.AppendUint(b, uint64(d.ListenPort), 10)
	case "fwmark":
		b = appendFwMark(b, d.FwMark)
	}
	b = append(b, '\n')
	w.Write(b)
}

// fieldPeer writes what a field prints of one peer.
func fieldPeer(w *bufio.Writer, d *conf.Device, peer *conf.DevicePeer, field string, withName bool) {
	switch field {
	case "dump":
		dumpPeer(w, d, peer, withName)
		return
	case "peers", "preshared-keys", "endpoints", "allowed-ips", "latest-handshakes", "transfer", "persistent-keepalive":
	default:
		return
	}
	b := line(w)
	b = prefix(b, d, withName)
	b = appendKey(b, &peer.PublicKey)
	switch field {
	case "preshared-keys":
		b = append(b, '\t')
		b = appendMaybeKey(b, &peer.PresharedKey)
	case "endpoints":
		b = append(b, '\t')
		b = appendEndpointOrNone(b, peer)
	case "allowed-ips":
		b = append(b, '\t')
		b = appendAllowedIPs(w, b, peer, ' ')
	case "latest-handshakes":
		b = append(b, '\t')
		b = strconv.AppendUint(b, uint64(handshakeSec(peer.LastHandshake)), 10)
	case "transfer":
		b = append(b, '\t')
		b = strconv.AppendUint(b, peer.RxBytes, 10)
		b = append(b, '\t')
		b = strconv.AppendUint(b, peer.TxBytes, 10)
	case "persistent-keepalive":
		b = append(b, '\t')
		b = appendKeepalive(b, peer.PersistentKeepalive)
	}
	b = append(b, '\n')
	w.Write(b)
}
