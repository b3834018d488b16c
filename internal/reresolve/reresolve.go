// Package reresolve decides which peers' endpoints to look up again and
// update: wireguard-tools' contrib/reresolve-dns, as pure functions. It is
// internal to wgtools; the caller reads the device, resolves names and
// applies the changes.
package reresolve

import (
	"net/netip"
	"strings"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// Stale is how old a peer's last handshake must be before its endpoint is
// looked up again: as the contrib script, more than 135 seconds (a
// handshake is retried every 5 s for 90 s, then given up on, and a session
// is rekeyed every 120 s), so a peer that works is left alone.
const Stale = 135 * time.Second

// Endpoint is a peer's Endpoint line in a configuration file.
type Endpoint struct {
	PublicKey conf.Key
	// Text is the value as written (a host name or an address, and a port).
	Text string
	// Line is the line's number in the file.
	Line int
}

// FileEndpoints lists the Endpoint of each [Peer] section that has one and
// a valid PublicKey (the last of each in a section), as the contrib
// script reads the file: the value before any '#', blanks removed.
func FileEndpoints(lines []conf.NumberedLine) []Endpoint {
	var out []Endpoint
	var cur Endpoint
	inPeer, hasKey := false, false
	flush := func() {
		if inPeer && hasKey && cur.Text != "" {
			out = append(out, cur)
		}
		cur, hasKey = Endpoint{}, false
	}
	for _, l := range lines {
		text, _, _ := strings.Cut(l.Text, "#")
		key, value, _ := strings.Cut(text, "=")
		key = strings.TrimSpace(key)
		if strings.HasPrefix(key, "[") {
			flush()
			inPeer = strings.EqualFold(strings.Join(strings.Fields(text), ""), "[Peer]")
			continue
		}
		if !inPeer {
			continue
		}
		value = strings.Join(strings.Fields(value), "")
		switch strings.ToLower(key) {
		case "publickey":
			k, err := conf.ParseKey(value)
			cur.PublicKey, hasKey = k, err == nil
		case "endpoint":
			cur.Text, cur.Line = value, l.N
		}
	}
	flush()
	return out
}

// Due lists the endpoints to look up again: those of peers the device has
// whose last handshake is older than Stale (or never happened).
func Due(eps []Endpoint, dev *conf.Device, now time.Time) []Endpoint {
	last := make(map[conf.Key]time.Time, len(dev.Peers))
	for i := range dev.Peers {
		last[dev.Peers[i].PublicKey] = dev.Peers[i].LastHandshake
	}
	var out []Endpoint
	for _, e := range eps {
		hs, ok := last[e.PublicKey]
		if !ok {
			continue
		}
		if hs.IsZero() || now.Sub(hs) > Stale {
			out = append(out, e)
		}
	}
	return out
}

// Change is one peer's endpoint to set.
type Change struct {
	Iface string
	Peer  Endpoint
	Addr  netip.AddrPort
}

// String is the wg command that does the same (it resolves the name again).
func (c Change) String() string {
	return "wg set " + c.Iface + " peer " + c.Peer.PublicKey.String() + " endpoint " + c.Peer.Text
}

// Changed says whether addr differs from the endpoint the device has for
// the peer.
func Changed(dev *conf.Device, peer conf.Key, addr netip.AddrPort) bool {
	for i := range dev.Peers {
		if dev.Peers[i].PublicKey == peer {
			cur := dev.Peers[i].Endpoint
			return cur.Addr().Unmap() != addr.Addr().Unmap() || cur.Port() != addr.Port()
		}
	}
	return false
}
