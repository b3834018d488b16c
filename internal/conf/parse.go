package conf

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on input size. The reference has none; a file or line beyond these
// is almost certainly not a configuration, and refusing it early keeps a
// mistaken path from exhausting memory.
const (
	MaxFileSize = 64 << 20
	MaxLineLen  = 8 << 20
)

// Stage says whether an Error came from one line or from checks over the
// whole file.
type Stage int

const (
	// StageLine is an error in one line ("Configuration parsing error").
	StageLine Stage = iota
	// StageFinish is an error found after every line was read ("Invalid
	// configuration"), such as a peer without a public key.
	StageFinish
)

// Error is a configuration error with its location.
type Error struct {
	File  string // "" for command-line arguments
	Line  int    // 1-based; 0 when the error is not about one line
	Msg   string // the reference's wording
	Stage Stage
	// QuickKey is set when wg's grammar refused a key of wg-quick's
	// (Address, DNS, ...) in [Interface]: the file is a wg-quick file.
	// It holds the key's usual spelling.
	QuickKey string
}

// Error is the message with its place. Anything in it that reads as a
// key (a key pasted where an address, port or endpoint goes) is shown as
// "(hidden)".
func (e *Error) Error() string {
	msg := hideKeys(e.Msg)
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s", e.File, msg)
	}
	return msg
}

// printable makes a line safe to show in a message: ASCII control bytes,
// bytes that are not UTF-8 and the invisible byte order mark (U+FEFF) are
// shown as \xNN; everything else is kept.
func printable(s string) string {
	ok := utf8.ValidString(s) && !strings.ContainsRune(s, bom)
	for i := 0; ok && i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			ok = false
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if (r == utf8.RuneError && n == 1) || r < 0x20 || r == 0x7f || r == bom {
			for i := range n {
				fmt.Fprintf(&b, "\\x%02x", s[i])
			}
		} else {
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

const bom = '\ufeff'

// hideKey is what messages show of a line or argument that may hold a
// key: the value after the first '=' is replaced by "(hidden)" when the
// name before it says "key" (PrivateKey in a [Peer], PresharedKey in
// [Interface]), and so is anything in it that reads as a key (a misspelt
// PrivateKye = KEY, a key pasted alone with a stray character). Such a
// line is refused, but its key is still a secret: the line number says
// where it is.
func hideKey(s string) string {
	if name, value, ok := strings.Cut(s, "="); ok && value != "" && strings.Contains(strings.ToLower(name), "key") {
		s = name + "=(hidden)"
	}
	return hideKeys(s)
}

// HideKeys replaces everything in s that reads as a key with "(hidden)",
// for messages that echo what the user typed.
func HideKeys(s string) string { return hideKeys(s) }

// hideKeys replaces everything in s that reads as a key with "(hidden)":
// each leftmost 43 base64 characters followed by '=' (the regexp
// [A-Za-z0-9+/]{43}=) that ParseKey accepts.
func hideKeys(s string) string {
	if len(s) < 44 {
		return s
	}
	var b strings.Builder
	done, run := 0, 0 // s[:done] is in b; run: base64 characters before i
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' && run >= 43 {
			start := i - 43
			if _, err := ParseKey(s[start : i+1]); err == nil {
				b.WriteString(s[done:start])
				b.WriteString("(hidden)")
				done = i + 1
			}
		}
		if base64Value[c] >= 0 {
			run++
		} else {
			run = 0
		}
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// wgParser is the wg grammar (config.c's config_read_line and friends).
type wgParser struct {
	opts              *Options
	file              string
	cfg               *Config
	inDevice, inPeers bool
	arena             strings.Builder
}

// removeSpace is removeSpace with the cleaned lines carved out of one
// growing buffer (strings.Builder never changes bytes it has handed out),
// so a file of thousands of lines costs a few allocations, not one a line.
func (p *wgParser) removeSpace(s string) string {
	i := 0
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	if p.arena.Cap()-p.arena.Len() < len(s) {
		p.arena = strings.Builder{}
		p.arena.Grow(max(64<<10, len(s)))
	}
	start := p.arena.Len()
	for from := 0; ; {
		p.arena.WriteString(s[from:i])
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		from = i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
	}
	return p.arena.String()[start:]
}

func (p *wgParser) fail(line int, err error) error {
	if _, ok := err.(*FatalError); ok {
		return err
	}
	return &Error{File: p.file, Line: line, Msg: err.Error()}
}

// keyValue matches "Key=" case-insensitively at the start of a cleaned line
// and returns the non-empty rest.
func keyValue(line, key string) (string, bool) {
	if len(key) >= len(line) || !strings.EqualFold(line[:len(key)], key) {
		return "", false
	}
	return line[len(key):], true
}

// lineUnrecognized is the error for a line matching no section or key; its
// text is made only when printed (most lines never fail).
type lineUnrecognized string

func (l lineUnrecognized) Error() string {
	return fmt.Sprintf("Line unrecognized: `%s'", printable(hideKey(string(l))))
}

// line handles one raw line: cut at '#', drop all whitespace, then match.
func (p *wgParser) line(n int, raw string) error {
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	line := p.removeSpace(raw)
	if line == "" {
		return nil
	}
	if strings.EqualFold(line, "[Interface]") {
		p.inDevice, p.inPeers = true, false
		return nil
	}
	if strings.EqualFold(line, "[Peer]") {
		p.cfg.Peers = append(p.cfg.Peers, Peer{ReplaceAllowedIPs: true, line: n})
		p.inDevice, p.inPeers = false, true
		return nil
	}
	unrecognized := lineUnrecognized(line)
	iface := &p.cfg.Interface
	switch {
	case p.inDevice:
		if v, ok := keyValue(line, "ListenPort="); ok {
			port, err := ParsePort(v, p.opts.service)
			if err != nil {
				return p.fail(n, err)
			}
			iface.ListenPort = &port
		} else if v, ok := keyValue(line, "FwMark="); ok {
			mark, err := ParseFwMark(v)
			if err != nil {
				return p.fail(n, err)
			}
			iface.FwMark = &mark
		} else if v, ok := keyValue(line, "PrivateKey="); ok {
			k, err := ParseKey(v)
			if err != nil {
				return p.fail(n, err)
			}
			iface.PrivateKey = &k
		} else {
			return &Error{File: p.file, Line: n, Msg: unrecognized.Error(), QuickKey: quickKeyOf(line)}
		}
	case p.inPeers:
		peer := &p.cfg.Peers[len(p.cfg.Peers)-1]
		if v, ok := keyValue(line, "Endpoint="); ok {
			ep, err := ParseEndpoint(v, p.opts)
			if err != nil {
				return p.fail(n, err)
			}
			peer.Endpoint = &ep
		} else if v, ok := keyValue(line, "PublicKey="); ok {
			k, err := ParseKey(v)
			if err != nil {
				return p.fail(n, err)
			}
			peer.PublicKey, peer.hasPublicKey = k, true
		} else if v, ok := keyValue(line, "AllowedIPs="); ok {
			ips, replace, err := ParseAllowedIPs(v, p.opts.warn)
			if err != nil {
				return p.fail(n, err)
			}
			peer.ReplaceAllowedIPs = replace
			peer.AllowedIPs = append(peer.AllowedIPs, ips...)
		} else if v, ok := keyValue(line, "PersistentKeepalive="); ok {
			ka, err := ParsePersistentKeepalive(v)
			if err != nil {
				return p.fail(n, err)
			}
			peer.PersistentKeepalive = &ka
		} else if v, ok := keyValue(line, "PresharedKey="); ok {
			k, err := ParseKey(v)
			if err != nil {
				return p.fail(n, err)
			}
			peer.PresharedKey = &k
		} else {
			return p.fail(n, unrecognized)
		}
	default:
		return p.fail(n, unrecognized)
	}
	return nil
}

func (p *wgParser) finish() error {
	for i := range p.cfg.Peers {
		if !p.cfg.Peers[i].hasPublicKey {
			return &Error{File: p.file, Line: p.cfg.Peers[i].line, Msg: "A peer is missing a public key", Stage: StageFinish}
		}
	}
	return nil
}

// splitLines cuts data into lines at '\n' (a final line without one counts)
// after checking the size limits; it refuses NUL bytes, which mark a binary
// file rather than a configuration.
func splitLines(file string, data []byte) ([]string, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("File is larger than %d MiB; not a configuration file", MaxFileSize>>20)}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line := 1 + bytes.Count(data[:i], []byte{'\n'})
		return nil, &Error{File: file, Line: line, Msg: "Line contains a NUL byte; not a configuration file"}
	}
	text := string(data)
	lines := strings.Split(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if len(l) > MaxLineLen {
			return nil, &Error{File: file, Line: i + 1, Msg: fmt.Sprintf("Line is longer than %d MiB", MaxLineLen>>20)}
		}
	}
	return lines, nil
}

// Parse reads a configuration in wg's grammar (`wg setconf`, `addconf`,
// `syncconf`). file names the source in error messages.
func Parse(file string, data []byte, opts *Options) (*Config, error) {
	lines, err := splitLines(file, data)
	if err != nil {
		return nil, err
	}
	// A capacity hint (peers are usually spelled "[Peer]") spares copying
	// a growing slice of thousands of peers.
	p := &wgParser{opts: opts, file: file, cfg: &Config{Peers: make([]Peer, 0, bytes.Count(data, []byte("[Peer]")))}}
	for i, l := range lines {
		if err := p.line(i+1, l); err != nil {
			return nil, err
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.cfg, nil
}
