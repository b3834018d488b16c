package show

import (
	"strconv"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// The terminal sequences the reference's pretty output uses.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// palette holds the sequences to print; all empty when colour is off, which
// gives exactly the reference's output with its escape sequences filtered
// out.
type palette struct {
	reset, bold, red, green, yellow, cyan string
}

var (
	colors   = palette{ansiReset, ansiBold, ansiRed, ansiGreen, ansiYellow, ansiCyan}
	noColors = palette{}
)

// appendKey appends the base64 form of k (44 characters).
func appendKey(b []byte, k *conf.Key) []byte {
	return k.AppendBase64(b)
}

// appendMaybeKey appends k, or "(none)" when it is zero.
func appendMaybeKey(b []byte, k *conf.Key) []byte {
	if k.IsZero() {
		return append(b, "(none)"...)
	}
	return appendKey(b, k)
}

// appendFwMark appends 0x%x, or "off" for 0.
func appendFwMark(b []byte, m uint32) []byte {
	if m == 0 {
		return append(b, "off"...)
	}
	b = append(b, '0', 'x')
	return strconv.AppendUint(b, uint64(m), 16)
}

// appendKeepalive appends the interval in seconds, or "off" for 0.
func appendKeepalive(b []byte, s uint16) []byte {
	if s == 0 {
		return append(b, "off"...)
	}
	return strconv.AppendUint(b, uint64(s), 10)
}

// handshakeSec is the handshake's tv_sec as the reference prints it: 0 for
// never.
func handshakeSec(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// timeUnits are pretty_time's components, largest first.
var timeUnits = [...]struct {
	secs uint64
	name string
}{
	{365 * 24 * 60 * 60, "year"},
	{24 * 60 * 60, "day"},
	{60 * 60, "hour"},
	{60, "minute"},
	{1, "second"},
}

// appendDuration appends secs in words: "2 years, 43 days, 1 hour, 1
// second"; zero components are left out (0 gives nothing).
func appendDuration(b []byte, secs uint64, p *palette) []byte {
	first := true
	for _, u := range timeUnits {
		n := secs / u.secs
		secs %= u.secs
		if n == 0 {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = strconv.AppendUint(b, n, 10)
		b = append(b, ' ')
		b = append(b, p.cyan...)
		b = append(b, u.name...)
		if n != 1 {
			b = append(b, 's')
		}
		b = append(b, p.reset...)
	}
	return b
}

// appendAgo appends how long ago a handshake at sec was, seen at now:
// "Now", the reference's warning when the handshake lies in the future, or
// the duration followed by " ago".
func appendAgo(b []byte, sec, now int64, p *palette) []byte {
	switch {
	case now == sec:
		return append(b, "Now"...)
	case now < sec:
		b = append(b, '(')
		b = append(b, p.red...)
		b = append(b, "System clock wound backward; connection problems may ensue."...)
		b = append(b, p.reset...)
		return append(b, ')')
	}
	b = appendDuration(b, uint64(now-sec), p)
	return append(b, " ago"...)
}

// appendBytes appends a byte count in the reference's units: "1023 B",
// then KiB, MiB, GiB and TiB with two decimals.
func appendBytes(b []byte, n uint64, p *palette) []byte {
	var unit string
	switch {
	case n < 1024:
		b = strconv.AppendUint(b, n, 10)
		unit = "B"
	case n < 1024*1024:
		b = strconv.AppendFloat(b, float64(n)/1024, 'f', 2, 64)
		unit = "KiB"
	case n < 1024*1024*1024:
		b = strconv.AppendFloat(b, float64(n)/(1024*1024), 'f', 2, 64)
		unit = "MiB"
	case n < 1024*1024*1024*1024:
		b = strconv.AppendFloat(b, float64(n)/(1024*1024*1024), 'f', 2, 64)
		unit = "GiB"
	default:
		b = strconv.AppendFloat(b, float64(n)/(1024*1024*1024)/1024, 'f', 2, 64)
		unit = "TiB"
	}
	b = append(b, ' ')
	b = append(b, p.cyan...)
	b = append(b, unit...)
	return append(b, p.reset...)
}

// filterANSI removes escape sequences as the reference's terminal layer
// does when colour is off: ESC '[' and everything up to and including the
// next letter, where the ESC lies before the last two bytes.
func filterANSI(s []byte) []byte {
	out := s[:0:0]
	n := len(s)
	for i := 0; i < n; i++ {
		if i+2 < n && s[i] == '\x1b' && s[i+1] == '[' {
			j := i + 2
			for j < n && !isAlpha(s[j]) {
				j++
			}
			i = j
			continue
		}
		if s[i] != 0 {
			out = append(out, s[i])
		}
	}
	return out
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
