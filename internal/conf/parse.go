package conf

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
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

// wgParser is the wg grammar (config.c's config_read_line and friends),
// one line at a time. The peer being read is one variable, reused: when
// its section ends (at the next section header, or at the end) it is
// handed to peerDone, with its pointers pointing into held.
type wgParser struct {
	opts              *Options
	warn              func(string)
	file              string
	iface             *Interface
	inDevice, inPeers bool
	peer              Peer
	held              struct {
		psk Key
		ep  netip.AddrPort
		ka  uint16
	}
	inPeer   bool // peer holds a section being read
	peerDone func(*Peer)
	// missingKey is the line of the first peer without a public key: an
	// error once every line has parsed.
	missingKey  int
	retries     int // WG_ENDPOINT_RESOLUTION_RETRIES, read at the first endpoint
	retriesRead bool
	clean, raw  []byte // the line at hand without whitespace; a string line's copy
}

func newWGParser(opts *Options, file string, iface *Interface, peerDone func(*Peer)) *wgParser {
	return &wgParser{opts: opts, warn: opts.warn, file: file, iface: iface, peerDone: peerDone}
}

// removeSpace deletes every whitespace character, as wg does to each line,
// into a buffer reused from line to line.
func (p *wgParser) removeSpace(s []byte) []byte {
	i := 0
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	p.clean = append(p.clean[:0], s[:i]...)
	for ; i < len(s); i++ {
		if !isSpace(s[i]) {
			p.clean = append(p.clean, s[i])
		}
	}
	return p.clean
}

// wipe clears what the parser held of the last lines: the secrets of the
// last peer, and the buffers lines were cleaned and copied into.
func (p *wgParser) wipe() {
	p.held.psk.Wipe()
	clear(p.clean[:cap(p.clean)])
	clear(p.raw[:cap(p.raw)])
}

func (p *wgParser) fail(line int, err error) error {
	if _, ok := err.(*FatalError); ok {
		return err
	}
	return &Error{File: p.file, Line: line, Msg: err.Error()}
}

// keyValue matches "Key=" case-insensitively at the start of a cleaned line
// and returns the non-empty rest.
func keyValue(line []byte, key string) ([]byte, bool) {
	if len(key) >= len(line) || !strings.EqualFold(string(line[:len(key)]), key) {
		return nil, false
	}
	return line[len(key):], true
}

// isHeader reports whether a cleaned line is the section header h, in any
// case.
func isHeader(line []byte, h string) bool {
	return len(line) == len(h) && strings.EqualFold(string(line), h)
}

// lineUnrecognized is the error for a line matching no section or key; its
// text is made only when printed (most lines never fail).
type lineUnrecognized string

func (l lineUnrecognized) Error() string {
	return fmt.Sprintf("Line unrecognized: `%s'", printable(hideKey(string(l))))
}

// endPeer hands out the peer being read, if any.
func (p *wgParser) endPeer() {
	if !p.inPeer {
		return
	}
	p.inPeer = false
	if !p.peer.hasPublicKey && p.missingKey == 0 {
		p.missingKey = p.peer.line
	}
	if p.peerDone != nil {
		p.peerDone(&p.peer)
	}
}

// lineString is line for a line held as a string (wg-quick's lines).
func (p *wgParser) lineString(n int, raw string) error {
	p.raw = append(p.raw[:0], raw...)
	return p.line(n, p.raw)
}

// line handles one raw line: cut at '#', drop all whitespace, then match.
func (p *wgParser) line(n int, raw []byte) error {
	if i := bytes.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	line := p.removeSpace(raw)
	if len(line) == 0 {
		return nil
	}
	if isHeader(line, "[Interface]") {
		p.endPeer()
		p.inDevice, p.inPeers = true, false
		return nil
	}
	if isHeader(line, "[Peer]") {
		p.endPeer()
		p.peer = Peer{ReplaceAllowedIPs: true, line: n, AllowedIPs: p.peer.AllowedIPs[:0]}
		p.inPeer = true
		p.inDevice, p.inPeers = false, true
		return nil
	}
	iface := p.iface
	switch {
	case p.inDevice:
		if v, ok := keyValue(line, "ListenPort="); ok {
			port, err := ParsePort(string(v), p.opts.service)
			if err != nil {
				return p.fail(n, err)
			}
			iface.ListenPort = &port
		} else if v, ok := keyValue(line, "FwMark="); ok {
			mark, err := ParseFwMark(string(v))
			if err != nil {
				return p.fail(n, err)
			}
			iface.FwMark = &mark
		} else if v, ok := keyValue(line, "PrivateKey="); ok {
			k, err := parseKey(v)
			if err != nil {
				return p.fail(n, err)
			}
			iface.PrivateKey = &k
		} else {
			// A wg-quick key here: wg's message, and which key (issue 13 §4).
			return &Error{File: p.file, Line: n, Msg: lineUnrecognized(line).Error(), QuickKey: quickKeyOf(string(line))}
		}
	case p.inPeers:
		peer := &p.peer
		if v, ok := keyValue(line, "Endpoint="); ok {
			if !p.retriesRead {
				// wg reads the retry count before looking at the value.
				r, err := resolutionRetries(p.opts.lookupEnv())
				if err != nil {
					return p.fail(n, err)
				}
				p.retries, p.retriesRead = r, true
			}
			ep, err := parseEndpoint(v, p.opts, p.retries)
			if err != nil {
				return p.fail(n, err)
			}
			p.held.ep = ep
			peer.Endpoint = &p.held.ep
		} else if v, ok := keyValue(line, "PublicKey="); ok {
			k, err := parseKey(v)
			if err != nil {
				return p.fail(n, err)
			}
			peer.PublicKey, peer.hasPublicKey = k, true
		} else if v, ok := keyValue(line, "AllowedIPs="); ok {
			ips, replace, err := appendAllowedIPs(peer.AllowedIPs, v, p.warn)
			if err != nil {
				return p.fail(n, err)
			}
			peer.ReplaceAllowedIPs = replace
			peer.AllowedIPs = ips
		} else if v, ok := keyValue(line, "PersistentKeepalive="); ok {
			ka, err := ParsePersistentKeepalive(string(v))
			if err != nil {
				return p.fail(n, err)
			}
			p.held.ka = ka
			peer.PersistentKeepalive = &p.held.ka
		} else if v, ok := keyValue(line, "PresharedKey="); ok {
			k, err := parseKey(v)
			if err != nil {
				return p.fail(n, err)
			}
			p.held.psk = k
			peer.PresharedKey = &p.held.psk
		} else {
			return p.fail(n, lineUnrecognized(line))
		}
	default:
		return p.fail(n, lineUnrecognized(line))
	}
	return nil
}

// finish ends the last peer and runs the checks over the whole file.
func (p *wgParser) finish() error {
	p.endPeer()
	if p.missingKey > 0 {
		return &Error{File: p.file, Line: p.missingKey, Msg: "A peer is missing a public key", Stage: StageFinish}
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
	// A capacity hint (peers are usually spelled "[Peer]") spares copying
	// a growing slice of thousands of peers.
	peers := make([]Peer, 0, bytes.Count(data, []byte("[Peer]")))
	cfg, err := ParseReader(file, bytes.NewReader(data), opts, func(p *Peer) { peers = append(peers, p.Clone()) })
	if err != nil {
		return nil, err
	}
	cfg.Peers = peers
	return cfg, nil
}

// Clone returns a copy of p that shares nothing with it.
func (p *Peer) Clone() Peer {
	q := *p
	if p.PresharedKey != nil {
		k := *p.PresharedKey
		q.PresharedKey = &k
	}
	if p.Endpoint != nil {
		e := *p.Endpoint
		q.Endpoint = &e
	}
	if p.PersistentKeepalive != nil {
		ka := *p.PersistentKeepalive
		q.PersistentKeepalive = &ka
	}
	q.AllowedIPs = nil
	if len(p.AllowedIPs) > 0 {
		q.AllowedIPs = append([]AllowedIP(nil), p.AllowedIPs...)
	}
	return q
}

// ParseReader is Parse for a configuration read from r (to its end, or to
// one byte past MaxFileSize), without keeping it whole: each peer is
// handed to peer when its section ends, and the Config returned has the
// interface's fields and no peers. The peer handed out is one variable,
// reused with its AllowedIPs and what its pointers point to: it is valid
// only during the call. Every line is read before the result is known, and
// the errors are Parse's, in Parse's order: a file too large, a NUL byte,
// a line too long, then the first bad line, then a peer without a public
// key. An error reading r is returned as it is.
func ParseReader(file string, r io.Reader, opts *Options, peer func(*Peer)) (*Config, error) {
	cfg := &Config{}
	p := newWGParser(opts, file, &cfg.Interface, peer)
	defer p.wipe()
	lr := newLineReader(r)
	defer lr.wipe()
	var lineErr error
	for {
		line, ok := lr.next()
		if !ok {
			break
		}
		if lineErr == nil && !lr.refused() {
			lineErr = p.line(lr.n, line)
		}
	}
	switch {
	case lr.err != nil:
		return nil, lr.err
	case lr.size > MaxFileSize:
		return nil, &Error{File: file, Msg: fmt.Sprintf("File is larger than %d MiB; not a configuration file", MaxFileSize>>20)}
	case lr.nulLine > 0:
		return nil, &Error{File: file, Line: lr.nulLine, Msg: "Line contains a NUL byte; not a configuration file"}
	case lr.longLine > 0:
		return nil, &Error{File: file, Line: lr.longLine, Msg: fmt.Sprintf("Line is longer than %d MiB", MaxLineLen>>20)}
	case lineErr != nil:
		return nil, lineErr
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// lineBufferSize is what a lineReader reads at a time.
const lineBufferSize = 16 << 10

// lineReader cuts a reader into lines at '\n' (a last line without one
// counts) and checks the limits as it goes: the size (it reads no more
// than one byte past MaxFileSize), NUL bytes, and line lengths.
type lineReader struct {
	r          io.Reader
	buf        []byte // read into, and wiped at the end
	start, end int    // buf[start:end] is not handed out yet
	long       []byte // a line longer than buf
	longNUL    bool   // a NUL byte in what long dropped
	eof        bool
	err        error
	n          int   // the number of the line last handed out
	size       int64 // bytes read
	nulLine    int   // the first line with a NUL byte
	longLine   int   // the first line longer than MaxLineLen
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: r, buf: make([]byte, lineBufferSize)}
}

// refused reports whether a limit was passed: the lines still come, to
// find what else is wrong, but they are not to be parsed.
func (l *lineReader) refused() bool {
	return l.size > MaxFileSize || l.nulLine > 0 || l.longLine > 0
}

func (l *lineReader) wipe() {
	clear(l.buf)
	clear(l.long[:cap(l.long)])
}

// fill reads more after what is not handed out yet; false at the end (or
// on an error, or past the size limit).
func (l *lineReader) fill() bool {
	if l.eof {
		return false
	}
	if l.start > 0 {
		copy(l.buf, l.buf[l.start:l.end])
		l.end -= l.start
		l.start = 0
	}
	for empty := 0; ; empty++ {
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		l.size += int64(n)
		if empty == 100 && n == 0 && err == nil {
			err = io.ErrNoProgress
		}
		if l.size > MaxFileSize || err != nil {
			l.eof = true
			if err != nil && err != io.EOF {
				l.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// next returns the next line, without its '\n'.
func (l *lineReader) next() ([]byte, bool) {
	scanned := l.start
	l.long, l.longNUL = l.long[:0], false
	inLong := false
	for {
		if i := bytes.IndexByte(l.buf[scanned:l.end], '\n'); i >= 0 {
			line := l.buf[l.start : scanned+i]
			l.start = scanned + i + 1
			if inLong {
				line = l.appendLong(line)
			}
			return l.check(line), true
		}
		if l.end == len(l.buf) && l.start == 0 {
			// The line fills the buffer: keep it aside and go on.
			l.long = l.appendLong(l.buf[:l.end])
			inLong = true
			l.start, l.end = 0, 0
		}
		scanned = l.end - l.start
		if !l.fill() {
			// The last line, without a newline, if there is one.
			line := l.buf[l.start:l.end]
			l.start = l.end
			if inLong {
				line = l.appendLong(line)
			} else if len(line) == 0 {
				return nil, false
			}
			return l.check(line), true
		}
	}
}

// appendLong adds part of a long line to l.long, up to one byte past
// MaxLineLen (enough to refuse it).
func (l *lineReader) appendLong(b []byte) []byte {
	room := MaxLineLen + 1 - len(l.long)
	if len(b) > room {
		// Dropped, but a NUL byte in it still counts.
		l.longNUL = l.longNUL || bytes.IndexByte(b[room:], 0) >= 0
		b = b[:room]
	}
	l.long = append(l.long, b...)
	return l.long
}

// check counts a line handed out and notes the first NUL byte and the
// first line too long.
func (l *lineReader) check(line []byte) []byte {
	l.n++
	if l.nulLine == 0 && (l.longNUL || bytes.IndexByte(line, 0) >= 0) {
		l.nulLine = l.n
	}
	if l.longLine == 0 && len(line) > MaxLineLen {
		l.longLine = l.n
	}
	return line
}
