package conf

import "strings"

// Loose is what can be read from the wg lines of a file without checking
// them, for a `wg-quick down` that parsed the file with StripOnly: the
// secrets its trace must hide (a hook may quote one) and the interface's
// FwMark (the table of a full tunnel whose interface is gone). A line that
// does not parse is passed over; nothing is resolved.
type Loose struct {
	// Secrets are the private and preshared keys that parse.
	Secrets []Key
	// FwMark is the [Interface] FwMark, when HasFwMark.
	FwMark    uint32
	HasFwMark bool
}

// Loose reads f's wg lines as wg's grammar would, keeping only what Loose
// holds and ignoring every error.
func (f *File) Loose() Loose {
	var l Loose
	inDevice, inPeer := false, false
	for _, nl := range f.WGLines {
		raw := nl.Text
		if i := strings.IndexByte(raw, '#'); i >= 0 {
			raw = raw[:i]
		}
		line := removeSpace(raw)
		switch {
		case strings.EqualFold(line, "[Interface]"):
			inDevice, inPeer = true, false
		case strings.EqualFold(line, "[Peer]"):
			inDevice, inPeer = false, true
		case inDevice:
			if v, ok := keyValue([]byte(line), "PrivateKey="); ok {
				if k, err := ParseKey(string(v)); err == nil {
					l.Secrets = append(l.Secrets, k)
				}
			} else if v, ok := keyValue([]byte(line), "FwMark="); ok {
				if m, err := ParseFwMark(string(v)); err == nil {
					l.FwMark, l.HasFwMark = m, true
				}
			}
		case inPeer:
			if v, ok := keyValue([]byte(line), "PresharedKey="); ok {
				if k, err := ParseKey(string(v)); err == nil {
					l.Secrets = append(l.Secrets, k)
				}
			}
		}
	}
	return l
}

// Wipe clears the secrets.
func (l *Loose) Wipe() {
	for i := range l.Secrets {
		l.Secrets[i].Wipe()
	}
	l.Secrets = nil
}
