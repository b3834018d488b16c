package conf

import "net/netip"

// ParseAddr reads an IP address as netip.ParseAddr does (dotted-quad IPv4,
// or IPv6 with at most one "::" and an optional dotted-quad tail), but
// refuses a zone, and reads bytes as well as a string without allocating:
// wg's configurations and the UAPI replies carry thousands of addresses,
// and netip.ParseAddr(string(b)) would copy each to the heap. The form is
// chosen as netip chooses it, by the first '.' or ':'.
func ParseAddr[T string | []byte](s T) (netip.Addr, bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.':
			var a [4]byte
			if !parseDotted(s, a[:]) {
				return netip.Addr{}, false
			}
			return netip.AddrFrom4(a), true
		case ':':
			return parseIPv6(s)
		case '%':
			return netip.Addr{}, false
		}
	}
	return netip.Addr{}, false
}

// parseDotted reads four decimal fields of at most 255 separated by dots,
// with no leading zeros, into out.
func parseDotted[T string | []byte](s T, out []byte) bool {
	field, val, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || field == 4 {
				return false
			}
			out[field] = byte(val)
			field, val, digits = field+1, 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || (digits == 1 && val == 0) {
			return false
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return false
		}
	}
	return field == 4
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseIPv6 reads an IPv6 address without a zone: groups of one to four
// hex digits separated by ':', at most one "::" standing for one or more
// zero groups, and the last 32 bits optionally as a dotted quad.
func parseIPv6[T string | []byte](s T) (netip.Addr, bool) {
	var ip [16]byte
	n := 0    // bytes of ip filled
	gap := -1 // where "::" stands in ip, if any
	i := 0
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		gap, i = 0, 2
	}
	for i < len(s) && n < 16 {
		start, v := i, 0
		for i < len(s) {
			d := hexDigit(s[i])
			if d < 0 {
				break
			}
			if i-start == 4 {
				return netip.Addr{}, false
			}
			v = v<<4 | d
			i++
		}
		if i == start {
			return netip.Addr{}, false
		}
		if i < len(s) && s[i] == '.' {
			// The dotted-quad tail: it ends the address.
			if (gap < 0 && n != 12) || n+4 > 16 || !parseDotted(s[start:], ip[n:n+4]) {
				return netip.Addr{}, false
			}
			n, i = n+4, len(s)
			break
		}
		ip[n], ip[n+1] = byte(v>>8), byte(v)
		n += 2
		if i == len(s) {
			break
		}
		if s[i] != ':' || i+1 == len(s) {
			return netip.Addr{}, false
		}
		i++
		if s[i] == ':' {
			if gap >= 0 {
				return netip.Addr{}, false
			}
			gap = n
			i++
		}
	}
	if i != len(s) {
		return netip.Addr{}, false
	}
	switch {
	case n < 16 && gap < 0, n == 16 && gap >= 0:
		return netip.Addr{}, false
	case n < 16:
		shift := 16 - n
		copy(ip[gap+shift:], ip[gap:n])
		clear(ip[gap : gap+shift])
	}
	return netip.AddrFrom16(ip), true
}
