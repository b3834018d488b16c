package conf

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// File is a wg-quick configuration file: the model of all of it, and the
// lines wg-quick hands to wg (everything but its own [Interface] keys), kept
// verbatim for `wg-quick strip`.
type File struct {
	Path   string
	Config Config
	// WGLines are the lines passed to wg, in order, as wg-quick's `read -r`
	// leaves them (surrounding blanks and tabs removed).
	WGLines []NumberedLine
	// TableErr is set when Table is a name that rt_tables does not know
	// (Config.Interface.TableID is then 0): the reference brings such a
	// file up as long as no route needs the table, so the error (with its
	// file and line) is up's to report where one does.
	TableErr error
}

// NumberedLine is a line with its 1-based number in the file.
type NumberedLine struct {
	N    int
	Text string
}

// Strip returns what `wg-quick strip` prints: the lines for wg, each with a
// newline, and then one more newline (the reference echoes a string that
// already ends in one).
func (f *File) Strip() string {
	var b strings.Builder
	for _, l := range f.WGLines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.String()
}

// trimIFS removes what bash's `read` removes with the default IFS.
func trimIFS(s string) string { return strings.Trim(s, " \t\n") }

// startsSection reports whether a line's key (the text before any '#' or
// '=', [[:space:]] trimmed) starts with '[': its first character that is
// not [[:space:]] is '['.
func startsSection(line string) bool {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
		default:
			return line[i] == '['
		}
	}
	return false
}

// trimClass removes the characters of the POSIX [[:space:]] class.
func trimClass(s string) string { return strings.Trim(s, " \t\n\v\f\r") }

// quickWords splits a value as wg-quick's `${value//,/ }` and word splitting
// do: at commas, blanks, tabs and newlines, dropping empty words.
func quickWords(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// looksLikeNameserver is wg-quick's test for a DNS entry that is a server
// rather than a search domain: (^[0-9.]+$)|(^.*:.*$).
func looksLikeNameserver(w string) bool {
	if strings.IndexByte(w, ':') >= 0 {
		return true
	}
	return w != "" && strings.Trim(w, "0123456789.") == ""
}

// quickKey is the usual spelling of a key wg-quick consumes in
// [Interface], given in lower case, or "". A switch, not a map: a map
// literal is built at every start of wg, which never needs it for most
// commands.
func quickKey(lower string) string {
	switch lower {
	case "address":
		return "Address"
	case "mtu":
		return "MTU"
	case "dns":
		return "DNS"
	case "table":
		return "Table"
	case "preup":
		return "PreUp"
	case "predown":
		return "PreDown"
	case "postup":
		return "PostUp"
	case "postdown":
		return "PostDown"
	case "saveconfig":
		return "SaveConfig"
	}
	return ""
}

// quickKeyOf returns the wg-quick key a line (as wg's parser cleaned it,
// whitespace gone) sets, in its usual spelling, or "".
func quickKeyOf(line string) string {
	key, _, ok := strings.Cut(line, "=")
	if !ok {
		return ""
	}
	return quickKey(strings.ToLower(key))
}

// ParseQuick reads a wg-quick configuration file: wg-quick's own keys as
// linux.bash's parse_options reads them, and the rest in wg's grammar.
// Every value is checked here, so that a bad file is refused before
// anything on the host changes.
func ParseQuick(path string, data []byte, opts *Options) (*File, error) {
	lines, err := splitLines(path, data)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path, WGLines: make([]NumberedLine, 0, len(lines))}
	iface := &f.Config.Interface
	inInterface := false
	var mtuLine, tableLine int
	var mtuText string
	for i, raw := range lines {
		n := i + 1
		line := trimIFS(raw)
		// Outside [Interface], only a section header matters here; the
		// rest (nearly all of a big file) goes to wg's parser as it is.
		if !inInterface && !startsSection(line) {
			f.WGLines = append(f.WGLines, NumberedLine{N: n, Text: line})
			continue
		}
		stripped, _, _ := strings.Cut(line, "#")
		key, value, hasEq := strings.Cut(stripped, "=")
		key = trimClass(key)
		if !hasEq {
			value = stripped
		}
		value = trimClass(value)
		_, unstripped, hasEq := strings.Cut(line, "=")
		if !hasEq {
			unstripped = line
		}
		unstripped = trimClass(unstripped)

		if strings.HasPrefix(key, "[") {
			inInterface = false
		}
		if strings.EqualFold(key, "[Interface]") {
			inInterface = true
		}
		lower := strings.ToLower(key)
		if !inInterface || quickKey(lower) == "" {
			f.WGLines = append(f.WGLines, NumberedLine{N: n, Text: line})
			continue
		}
		fail := func(format string, args ...any) error {
			return &Error{File: path, Line: n, Msg: fmt.Sprintf(format, args...)}
		}
		switch lower {
		case "address":
			for _, w := range quickWords(value) {
				a := Address{Raw: w}
				if !opts.stripOnly() {
					p, ok := parseAddress(w)
					if !ok {
						return nil, fail("Address is not an IP address with an optional prefix length: `%s'", printable(w))
					}
					a.Prefix = p
				}
				iface.Addresses = append(iface.Addresses, a)
			}
		case "dns":
			for _, w := range quickWords(value) {
				if !looksLikeNameserver(w) {
					if !opts.stripOnly() && !validSearchDomain(w) {
						return nil, fail("DNS search domain is not a valid domain name: `%s'", printable(w))
					}
					iface.DNSSearch = append(iface.DNSSearch, w)
					continue
				}
				a, ok := ParseAddr(w)
				if !ok && !opts.stripOnly() {
					return nil, fail("DNS server is not an IP address: `%s'", printable(w))
				}
				iface.DNS = append(iface.DNS, a)
			}
		case "mtu":
			mtuText, mtuLine = value, n
		case "table":
			iface.Table, tableLine = value, n
		case "preup":
			iface.PreUp = append(iface.PreUp, unstripped)
		case "postup":
			iface.PostUp = append(iface.PostUp, unstripped)
		case "predown":
			iface.PreDown = append(iface.PreDown, unstripped)
		case "postdown":
			iface.PostDown = append(iface.PostDown, unstripped)
		case "saveconfig":
			switch strings.ToLower(value) {
			case "true":
				iface.SaveConfig = true
			case "false":
				iface.SaveConfig = false
			default:
				if !opts.lenient() {
					return nil, fail("`%s' is neither true nor false", printable(value))
				}
				opts.warn(fail("`%s' is neither true nor false; read as false", printable(value)).Error())
				iface.SaveConfig = false
			}
			iface.HasSaveConfig = true
		}
	}
	if mtuLine > 0 {
		m, err := strconv.Atoi(mtuText)
		if !opts.stripOnly() && (err != nil || !allDigits(mtuText) || m < MinMTU || m > MaxMTU) {
			return nil, &Error{File: path, Line: mtuLine, Msg: fmt.Sprintf("MTU is not a number from %d to %d: `%s'", MinMTU, MaxMTU, printable(mtuText))}
		}
		iface.MTU = &m
	}
	if tableLine > 0 && !opts.stripOnly() {
		id, err := ParseTable(iface.Table, opts.table)
		switch {
		case err == nil:
			iface.TableID = id
		case !isDigit(iface.Table[0]):
			f.TableErr = &Error{File: path, Line: tableLine, Msg: err.Error()}
		default:
			return nil, &Error{File: path, Line: tableLine, Msg: err.Error()}
		}
	}
	if tableLine > 0 && opts.lenient() && iface.Table != "" && isDigit(iface.Table[0]) {
		if _, err := ParseTable(iface.Table, nil); err != nil {
			opts.warn((&Error{File: path, Line: tableLine, Msg: err.Error() + "; read as auto"}).Error())
			iface.Table = ""
		}
	}
	if opts.stripOnly() {
		return f, nil
	}
	f.Config.Peers = make([]Peer, 0, bytes.Count(data, []byte("[Peer]"))) // a capacity hint, as Parse gives
	p := newWGParser(opts, path, &f.Config.Interface, func(q *Peer) { f.Config.Peers = append(f.Config.Peers, q.Clone()) })
	defer p.wipe()
	for _, l := range f.WGLines {
		if err := p.lineString(l.N, l.Text); err != nil {
			return nil, err
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return f, nil
}

func (o *Options) stripOnly() bool { return o != nil && o.StripOnly }

func (o *Options) lenient() bool { return o.stripOnly() && o.Lenient }

// MTU limits for the MTU key: IPv4's minimum, and the largest a link takes.
const (
	MinMTU = 68
	MaxMTU = 65535
)

// parseAddress parses an Address entry: IP or IP/length, no zone.
func parseAddress(s string) (netip.Prefix, bool) {
	ipText, lenText, hasLen := strings.Cut(s, "/")
	ip, ok := ParseAddr(ipText)
	if !ok {
		return netip.Prefix{}, false
	}
	bits := ip.BitLen()
	if hasLen {
		if !allDigits(lenText) {
			return netip.Prefix{}, false
		}
		n, err := strconv.Atoi(lenText)
		if err != nil || n > bits {
			return netip.Prefix{}, false
		}
		bits = n
	}
	return netip.PrefixFrom(ip, bits), true
}

// validSearchDomain accepts a DNS name (labels of letters, digits, '-' and
// '_', dot-separated, an optional final dot), optionally led by '~' as
// resolvconf implementations accept for routing-only domains.
func validSearchDomain(s string) bool {
	s = strings.TrimPrefix(s, "~")
	if s == "." {
		return true
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// Table modes for wg-quick's Table key.
const (
	TableAuto = "auto"
	TableOff  = "off"
)

// ParseTable checks a Table value: auto, off, a number as iproute2 reads it
// (decimal, 0x hex or 0 octal), or a name known to lookup. It returns the
// table number (0 for auto and off).
func ParseTable(v string, lookup func(string) (uint32, bool)) (uint32, error) {
	switch v {
	case "", TableAuto, TableOff:
		return 0, nil
	}
	if v != "" && isDigit(v[0]) {
		base, digits := 10, v
		switch {
		case strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X"):
			base, digits = 16, v[2:]
		case len(v) > 1 && v[0] == '0':
			base, digits = 8, v[1:]
		}
		if n, err := parseUnsigned(digits, base); err == nil && n <= 0xffffffff {
			return uint32(n), nil
		}
		return 0, fmt.Errorf("Table is not a number from 0 to 4294967295: `%s'", printable(v))
	}
	if lookup != nil {
		if id, ok := lookup(v); ok {
			return id, nil
		}
	}
	return 0, fmt.Errorf("Table is neither auto, off, a number nor a name from rt_tables: `%s'", printable(v))
}
