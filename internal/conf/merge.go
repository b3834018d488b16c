package conf

import (
	"encoding/base64"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// MergeSaved is `wg-quick save` that keeps the file: data (the file as it
// is now) with state (what the reference's save would write: the
// interface's addresses, DNS servers and MTU, its keys, port and fwmark,
// and its peers) written into it. Comments, blank lines, key order, key
// spelling and every value that state does not contradict are kept; what
// changed is changed in place (a value rewritten, an entry dropped from a
// list, a line added after the last of its kind, a peer's section with
// the comments right above it removed); peers the file lacks are appended
// in the reference's layout. Table, SaveConfig, the hooks and DNS search
// domains are never touched: they are the file's (the reference copies
// the first three and loses the fourth). An Endpoint given as a host name
// is kept: the name is what the user chose, and it is re-resolved at the
// next up (the reference writes the address it resolved to).
//
// Read as the reference reads a file, the result configures a device as
// state does. data must be a file ParseQuick accepts.
func MergeSaved(file string, data []byte, state *Config) ([]byte, error) {
	lines, err := splitLines(file, data)
	if err != nil {
		return nil, err
	}
	m := &merger{lines: make([]mline, len(lines))}
	for i, raw := range lines {
		m.lines[i] = classify(raw)
	}
	m.sections()
	if err := m.mergeInterface(state); err != nil {
		return nil, err
	}
	seen := map[Key]bool{}
	byKey := map[Key]*Peer{}
	for i := range state.Peers {
		byKey[state.Peers[i].PublicKey] = &state.Peers[i]
	}
	for _, s := range m.secs {
		if s.kind != secPeer {
			continue
		}
		k, ok := m.peerKey(s)
		p := byKey[k]
		if !ok || p == nil || seen[k] {
			m.remove(s)
			continue
		}
		seen[k] = true
		m.mergePeer(s, p)
	}
	var added []*Peer
	for i := range state.Peers {
		if !seen[state.Peers[i].PublicKey] {
			added = append(added, &state.Peers[i])
		}
	}
	return m.assemble(added), nil
}

// mline is one line of the file.
type mline struct {
	raw string
	// key is the lower-cased key ("" for a blank or comment line; the
	// header's text, such as "[peer]", for a section header).
	key string
	// value is the value as wg-quick reads it: after '=', before '#',
	// blanks trimmed.
	value string
	// vs and ve delimit value in raw.
	vs, ve int

	deleted bool
	after   []string // lines inserted after this one
}

func classify(raw string) mline {
	l := mline{raw: raw}
	text, _, _ := strings.Cut(raw, "#")
	k, _, hasEq := strings.Cut(text, "=")
	k = trimClass(k)
	if k == "" {
		return l
	}
	if strings.HasPrefix(k, "[") {
		l.key = strings.ToLower(removeAllSpace(text))
		return l
	}
	l.key = strings.ToLower(removeAllSpace(k))
	if !hasEq {
		return l
	}
	eq := strings.IndexByte(raw, '=')
	end := len(text)
	for end > eq+1 && isSpace(raw[end-1]) {
		end--
	}
	start := eq + 1
	for start < end && isSpace(raw[start]) {
		start++
	}
	l.vs, l.ve, l.value = start, end, raw[start:end]
	return l
}

func removeAllSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && isSpace(byte(r)) {
			return -1
		}
		return r
	}, s)
}

func (l *mline) blankOrComment() bool { return l.key == "" }

// set rewrites the line's value.
func (l *mline) set(v string) {
	l.raw = l.raw[:l.vs] + v + l.raw[l.ve:]
	l.value = v
	l.ve = l.vs + len(v)
}

type secKind int

const (
	secOther secKind = iota
	secInterface
	secPeer
)

// section is a [Interface] or [Peer] section: from the comment lines right
// above its header (first) to the line before the next section's first.
type section struct {
	kind          secKind
	first, header int
	end           int // exclusive
}

type merger struct {
	lines []mline
	secs  []*section
}

func (m *merger) sections() {
	var headers []int
	for i := range m.lines {
		if strings.HasPrefix(m.lines[i].key, "[") {
			headers = append(headers, i)
		}
	}
	for n, h := range headers {
		s := &section{header: h, first: h, end: len(m.lines)}
		switch m.lines[h].key {
		case "[interface]":
			s.kind = secInterface
		case "[peer]":
			s.kind = secPeer
		}
		for s.first > 0 && isComment(m.lines[s.first-1].raw) {
			s.first--
		}
		if n > 0 {
			m.secs[n-1].end = s.first
		}
		m.secs = append(m.secs, s)
	}
}

func isComment(raw string) bool { return strings.HasPrefix(trimClass(raw), "#") }

// keyLines lists the lines of sections (in order) whose key is key.
func (m *merger) keyLines(secs []*section, key string) []int {
	var out []int
	for _, s := range secs {
		for i := s.header + 1; i < s.end; i++ {
			if m.lines[i].key == key && !m.lines[i].deleted {
				out = append(out, i)
			}
		}
	}
	return out
}

// lastKeyLine is where a new key of s goes after: its last key line (or
// its header).
func (m *merger) lastKeyLine(s *section) int {
	last := s.header
	for i := s.header + 1; i < s.end; i++ {
		if !m.lines[i].blankOrComment() {
			last = i
		}
	}
	return last
}

func (m *merger) remove(s *section) {
	for i := s.first; i < s.end; i++ {
		m.lines[i].deleted = true
	}
}

// single makes a key that may appear once (the last one wins) say want:
// "" removes it; equal reports whether a line's value already says it.
func (m *merger) single(secs []*section, home *section, key, spelling, want string, equal func(string) bool) {
	at := m.keyLines(secs, key)
	if want == "" {
		for _, i := range at {
			m.lines[i].deleted = true
		}
		return
	}
	if len(at) > 0 {
		last := &m.lines[at[len(at)-1]]
		if !equal(last.value) {
			last.set(want)
		}
		return
	}
	if home != nil {
		j := m.lastKeyLine(home)
		m.lines[j].after = append(m.lines[j].after, spelling+" = "+want)
	}
}

// list makes a key whose values accumulate (Address, DNS, AllowedIPs) hold
// the entries of want: an entry of the file is kept when keep says want
// has it (and keep marks it found); entries want has that the file lacks
// are added, to the last such line (join) or on lines of their own.
func (m *merger) list(secs []*section, home *section, key, spelling string, keep func(entry string) bool, missing func() []string, join bool) {
	at := m.keyLines(secs, key)
	for _, i := range at {
		l := &m.lines[i]
		entries := quickWords(l.value)
		kept := slices.DeleteFunc(slices.Clone(entries), func(e string) bool { return !keep(e) })
		switch {
		case len(kept) == 0:
			l.deleted = true
		case len(kept) < len(entries):
			l.set(strings.Join(kept, ", "))
		}
	}
	add := missing()
	if len(add) == 0 {
		return
	}
	var last *mline
	for _, i := range slices.Backward(at) {
		if !m.lines[i].deleted {
			last = &m.lines[i]
			break
		}
	}
	if join && last != nil {
		last.set(last.value + ", " + strings.Join(add, ", "))
		return
	}
	var newLines []string
	if join {
		newLines = []string{spelling + " = " + strings.Join(add, ", ")}
	} else {
		for _, a := range add {
			newLines = append(newLines, spelling+" = "+a)
		}
	}
	j := -1
	if len(at) > 0 {
		j = at[len(at)-1]
	} else if home != nil {
		j = m.lastKeyLine(home)
	}
	if j >= 0 {
		m.lines[j].after = append(m.lines[j].after, newLines...)
	}
}

func (m *merger) mergeInterface(state *Config) error {
	var secs []*section
	for _, s := range m.secs {
		if s.kind == secInterface {
			secs = append(secs, s)
		}
	}
	var home *section
	if len(secs) > 0 {
		home = secs[0]
	} else {
		// No [Interface] yet: one at the top, for keys to go in.
		m.lines = slices.Insert(m.lines, 0, mline{raw: "[Interface]", key: "[interface]"}, mline{raw: ""})
		for _, s := range m.secs {
			s.first, s.header, s.end = s.first+2, s.header+2, s.end+2
		}
		home = &section{kind: secInterface, first: 0, header: 0, end: 1}
		m.secs = append([]*section{home}, m.secs...)
		secs = []*section{home}
	}
	i := &state.Interface

	// Address: the interface's addresses.
	found := make([]bool, len(i.Addresses))
	m.list(secs, home, "address", "Address", func(e string) bool {
		p, ok := parseAddress(e)
		return ok && markFound(found, func(n int) bool { return i.Addresses[n].Prefix == p })
	}, func() []string {
		var add []string
		for n, a := range i.Addresses {
			if !found[n] {
				add = append(add, FormatPrefix(a.Prefix))
			}
		}
		return add
	}, false)

	// DNS: servers as state has them, search domains as the file has them.
	foundDNS := make([]bool, len(i.DNS))
	m.list(secs, home, "dns", "DNS", func(e string) bool {
		if !looksLikeNameserver(e) {
			return true
		}
		a, ok := ParseAddr(e)
		return ok && markFound(foundDNS, func(n int) bool { return i.DNS[n] == a })
	}, func() []string {
		var add []string
		for n, a := range i.DNS {
			if !foundDNS[n] {
				add = append(add, FormatAddr(a))
			}
		}
		return add
	}, false)

	if i.MTU != nil {
		want := strconv.Itoa(*i.MTU)
		m.single(secs, home, "mtu", "MTU", want, func(v string) bool { return v == want })
	}
	port := ""
	if i.ListenPort != nil {
		port = strconv.FormatUint(uint64(*i.ListenPort), 10)
	}
	m.single(secs, home, "listenport", "ListenPort", port, func(v string) bool {
		p, err := ParsePort(removeAllSpace(v), nil)
		return err == nil && p == *i.ListenPort
	})
	mark := ""
	if i.FwMark != nil && *i.FwMark != 0 {
		mark = "0x" + strconv.FormatUint(uint64(*i.FwMark), 16)
	}
	m.single(secs, home, "fwmark", "FwMark", mark, func(v string) bool {
		f, err := ParseFwMark(removeAllSpace(v))
		return err == nil && f == *i.FwMark
	})
	priv := ""
	if i.PrivateKey != nil && !i.PrivateKey.IsZero() {
		priv = base64.StdEncoding.EncodeToString(i.PrivateKey[:])
	}
	m.single(secs, home, "privatekey", "PrivateKey", priv, func(v string) bool {
		k, err := ParseKey(removeAllSpace(v))
		return err == nil && k == *i.PrivateKey
	})
	return nil
}

// markFound marks and reports the first entry not found yet that match
// says is the one; an entry already found matches again (a duplicate in
// the file is kept, as the device merges it).
func markFound(found []bool, match func(int) bool) bool {
	hit := false
	for n := range found {
		if match(n) {
			if !found[n] {
				found[n] = true
				return true
			}
			hit = true
		}
	}
	return hit
}

// peerKey is the public key of a peer section (its last PublicKey line).
func (m *merger) peerKey(s *section) (Key, bool) {
	at := m.keyLines([]*section{s}, "publickey")
	if len(at) == 0 {
		return Key{}, false
	}
	k, err := ParseKey(removeAllSpace(m.lines[at[len(at)-1]].value))
	return k, err == nil
}

func (m *merger) mergePeer(s *section, p *Peer) {
	secs := []*section{s}
	psk := ""
	if p.PresharedKey != nil && !p.PresharedKey.IsZero() {
		psk = base64.StdEncoding.EncodeToString(p.PresharedKey[:])
	}
	m.single(secs, s, "presharedkey", "PresharedKey", psk, func(v string) bool {
		k, err := ParseKey(removeAllSpace(v))
		return err == nil && k == *p.PresharedKey
	})

	// AllowedIPs: the file's entries the device has (host bits and all),
	// then the device's others. A file that adds or removes entries with
	// +/- is written out plainly.
	incremental := false
	for _, i := range m.keyLines(secs, "allowedips") {
		for _, e := range quickWords(m.lines[i].value) {
			incremental = incremental || strings.HasPrefix(e, "+") || strings.HasPrefix(e, "-")
		}
	}
	found := make([]bool, len(p.AllowedIPs))
	m.list(secs, s, "allowedips", "AllowedIPs", func(e string) bool {
		if incremental {
			return false
		}
		ips, _, err := ParseAllowedIPs(removeAllSpace(e), nil)
		return err == nil && len(ips) == 1 && markFound(found, func(n int) bool {
			return p.AllowedIPs[n].Prefix.Masked() == ips[0].Prefix.Masked()
		})
	}, func() []string {
		var add []string
		for n, a := range p.AllowedIPs {
			if !found[n] {
				add = append(add, FormatPrefix(a.Prefix))
			}
		}
		return add
	}, true)

	ep := ""
	if p.Endpoint != nil {
		ep = FormatEndpoint(*p.Endpoint)
	}
	m.single(secs, s, "endpoint", "Endpoint", ep, func(v string) bool {
		a, err := netip.ParseAddrPort(removeAllSpace(v))
		if err != nil {
			return true // a host name: kept
		}
		return a.Addr().Unmap() == p.Endpoint.Addr().Unmap() && a.Port() == p.Endpoint.Port()
	})

	ka := ""
	if p.PersistentKeepalive != nil && *p.PersistentKeepalive != 0 {
		ka = strconv.FormatUint(uint64(*p.PersistentKeepalive), 10)
	}
	if ka == "" {
		// The device's "off": a line that says off (or 0) is kept.
		for _, i := range m.keyLines(secs, "persistentkeepalive") {
			if v, err := ParsePersistentKeepalive(removeAllSpace(m.lines[i].value)); err != nil || v != 0 {
				m.lines[i].deleted = true
			}
		}
		return
	}
	m.single(secs, s, "persistentkeepalive", "PersistentKeepalive", ka, func(v string) bool {
		k, err := ParsePersistentKeepalive(removeAllSpace(v))
		return err == nil && k == *p.PersistentKeepalive
	})
}

// assemble writes the lines out, then the added peers in the reference's
// layout, each after a blank line. Blank lines left at the end by a
// removed last section are dropped when the file had none there.
func (m *merger) assemble(added []*Peer) []byte {
	var out []string
	for _, l := range m.lines {
		if !l.deleted {
			out = append(out, l.raw)
		}
		out = append(out, l.after...)
	}
	trailingBlank := len(m.lines) > 0 && trimClass(m.lines[len(m.lines)-1].raw) == "" && !m.lines[len(m.lines)-1].deleted
	if !trailingBlank {
		for len(out) > 0 && trimClass(out[len(out)-1]) == "" {
			out = out[:len(out)-1]
		}
	}
	for _, p := range added {
		if len(out) > 0 && trimClass(out[len(out)-1]) != "" {
			out = append(out, "")
		}
		one := Config{Peers: []Peer{*p}}
		text := string(one.AppendFormat(nil))
		_, peer, _ := strings.Cut(text, "\n\n")
		out = append(out, strings.Split(strings.TrimRight(peer, "\n"), "\n")...)
	}
	text := strings.Join(out, "\n")
	if len(out) > 0 {
		text += "\n"
	}
	return []byte(text)
}
