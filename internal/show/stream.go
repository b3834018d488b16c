package show

import (
	"bufio"

	"github.com/gowg/wgtools/internal/conf"
)

// Stream writes one device in a form that keeps the device's peer order
// (dump, any other field, json, showconf) while the device is being read:
// Header with the interface's own fields, Peer for each peer as it comes,
// then End. Nothing of the device need be kept but the peer at hand, so
// printing thousands of peers needs no more memory than one.
type Stream struct {
	w        *bufio.Writer
	form     string // a Field, "json" or "showconf"
	withName bool
	json     *JSON
	dev      *conf.Device
	peers    int
}

// NewStream returns a Stream writing form: one of Fields (with withName
// for `wg show all FIELD`), "showconf", or "json" (doc is then the
// document the device goes into). ok is false for any other form.
func NewStream(w *bufio.Writer, form string, withName bool, doc *JSON) (s *Stream, ok bool) {
	switch {
	case form == "showconf", form == "json" && doc != nil, IsField(form):
	default:
		return nil, false
	}
	return &Stream{w: w, form: form, withName: withName, json: doc}, true
}

// Header writes the interface's part; d's Peers are not looked at (and d
// must stay unchanged until End: the name prefixes every line).
func (s *Stream) Header(d *conf.Device) {
	s.dev = d
	switch s.form {
	case "json":
		s.json.deviceHead(d)
	case "showconf":
		showconfHeader(s.w, d)
	default:
		fieldHeader(s.w, d, s.form, s.withName)
	}
}

// Peer writes one peer (it may be changed or reused after the call).
func (s *Stream) Peer(p *conf.DevicePeer) {
	switch s.form {
	case "json":
		s.json.devicePeer(p, s.peers == 0)
	case "showconf":
		showconfPeer(s.w, p)
	default:
		fieldPeer(s.w, s.dev, p, s.form, s.withName)
	}
	s.peers++
}

// End finishes the device.
func (s *Stream) End() {
	switch s.form {
	case "json":
		s.json.deviceEnd(s.peers)
	case "showconf":
		showconfEnd(s.w, s.peers)
	}
}

// Abandon is End for a device whose output was dropped (it failed part
// way): a JSON document then goes on as if it had not been begun.
func (s *Stream) Abandon() {
	if s.json != nil {
		s.json.n--
	}
}
