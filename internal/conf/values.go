package conf

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The value parsers below back both the config-file grammar and the `wg set`
// argument grammar, as in wireguard-tools' config.c. Each returns the
// reference's message for a bad value (without location; the callers add it).

func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// removeSpace deletes every whitespace character, as wg does to each line.
func removeSpace(s string) string {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			var b strings.Builder
			b.Grow(len(s))
			b.WriteString(s[:i])
			for ; i < len(s); i++ {
				if !isSpace(s[i]) {
					b.WriteByte(s[i])
				}
			}
			return b.String()
		}
	}
	return s
}

// ParsePort parses a listen port: a decimal number from 0 to 65535 or a UDP
// service name. Unlike glibc's getaddrinfo, which wg uses, numbers above
// 65535 are refused rather than wrapped.
func ParsePort(value string, services func(string) (uint16, bool)) (uint16, error) {
	if value == "" {
		return 0, fmt.Errorf("Unable to parse empty port")
	}
	if allDigits(value) {
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil || n > 65535 {
			return 0, fmt.Errorf("Port is out of range 0-65535: `%s'", value)
		}
		return uint16(n), nil
	}
	if services != nil {
		if p, ok := services(value); ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("Servname not supported for ai_socktype: `%s'", value)
}

// ParseFwMark parses a firewall mark: "off" (any case), a decimal number, or
// 0x followed by hex digits, up to 0xffffffff; 0 means off.
func ParseFwMark(value string) (uint32, error) {
	if strings.EqualFold(value, "off") {
		return 0, nil
	}
	bad := fmt.Errorf("Fwmark is neither 0/off nor 0-0xffffffff: `%s'", value)
	if value == "" || !isDigit(value[0]) {
		return 0, bad
	}
	digits, base := value, 10
	if len(value) > 2 && value[0] == '0' && value[1] == 'x' {
		digits, base = value[2:], 16
	}
	n, err := parseUnsigned(digits, base)
	if err != nil || n > 0xffffffff {
		return 0, bad
	}
	return uint32(n), nil
}

// parseUnsigned accepts only digits of the base (strtoul would also accept a
// sign or leading space, which wg's callers never let through).
func parseUnsigned(s string, base int) (uint64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(s, base, 64)
}

// ParsePersistentKeepalive parses "off" (any case) or 0 to 65535 seconds.
func ParsePersistentKeepalive(value string) (uint16, error) {
	if strings.EqualFold(value, "off") {
		return 0, nil
	}
	if value == "" || !isDigit(value[0]) {
		return 0, fmt.Errorf("Persistent keepalive interval is neither 0/off nor 1-65535: `%s'", value)
	}
	n, err := parseUnsigned(value, 10)
	if err != nil || n > 65535 {
		return 0, fmt.Errorf("Persistent keepalive interval is neither 0/off nor 1-65535: `%s'", value)
	}
	return uint16(n), nil
}

// ParseAllowedIPs parses a comma-separated list of IP[/CIDR] entries, each
// optionally prefixed by '+' (add) or '-' (remove), the upstream incremental
// form. warn receives the reference's host-bits warning. The returned replace
// is false when any entry was incremental.
func ParseAllowedIPs(value string, warn func(string)) (ips []AllowedIP, replace bool, err error) {
	if value == "" {
		return nil, true, nil
	}
	return appendAllowedIPs(make([]AllowedIP, 0, strings.Count(value, ",")+1), value, warn)
}

// appendAllowedIPs is ParseAllowedIPs appending to ips, for a string or
// the bytes of a line (which it reads without copying).
func appendAllowedIPs[T string | []byte](ips []AllowedIP, value T, warn func(string)) (_ []AllowedIP, replace bool, err error) {
	replace = true
	if len(value) == 0 {
		return ips, true, nil
	}
	commas := 0
	for i := 0; i < len(value); i++ {
		if value[i] == ',' {
			commas++
		}
	}
	ips = slices.Grow(ips, commas+1)
	for rest, more := value, true; more; {
		var entry T
		entry, rest, more = cut(rest, ',')
		var a AllowedIP
		if len(entry) > 0 && (entry[0] == '-' || entry[0] == '+') {
			a.Remove = entry[0] == '-'
			entry = entry[1:]
			replace = false
		}
		ipText, mask, hasMask := cut(entry, '/')
		ip, ok := ParseAddr(ipText)
		if !ok {
			return nil, false, fmt.Errorf("Unable to parse IP address: `%s'", ipText)
		}
		bits := ip.BitLen()
		if hasMask {
			n, ok := decimal(mask)
			if !ok || n > uint64(bits) {
				return nil, false, fmt.Errorf("AllowedIP is not in the correct format: `%s'", entry)
			}
			bits = int(n)
		}
		a.Prefix = netip.PrefixFrom(ip, bits)
		if warn != nil && a.Prefix.Masked().Addr() != ip {
			warn(fmt.Sprintf("Warning: AllowedIP has nonzero host part: %s/%s", ipText, mask))
		}
		ips = append(ips, a)
	}
	return ips, replace, nil
}

// cut is strings.Cut at a byte, for a string or bytes.
func cut[T string | []byte](s T, sep byte) (before, after T, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, s[len(s):], false
}

// decimal reads one or more decimal digits (nothing else: no sign, no
// space), as strconv.ParseUint(s, 10, 64) with the digits checked first.
func decimal[T string | []byte](s T) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ResolveError is what a Resolver returns when a name does not resolve.
type ResolveError struct {
	// Msg is the reason in getaddrinfo's words (gai_strerror), such as
	// "Name or service not known" or "Temporary failure in name resolution".
	Msg string
	// Permanent is true for failures that retrying cannot cure (EAI_NONAME,
	// EAI_FAIL, EAI_NODATA).
	Permanent bool
}

func (e *ResolveError) Error() string { return e.Msg }

// Resolver resolves an endpoint's host name to one address.
type Resolver interface {
	Resolve(host string) (netip.Addr, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(host string) (netip.Addr, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(host string) (netip.Addr, error) { return f(host) }

// resolutionRetries reads WG_ENDPOINT_RESOLUTION_RETRIES as wg does: unset
// means 15, "infinity" means forever (-1), else a number up to INT_MAX.
func resolutionRetries(lookup func(string) (string, bool)) (int, error) {
	if lookup == nil {
		return 15, nil
	}
	v, ok := lookup("WG_ENDPOINT_RESOLUTION_RETRIES")
	if !ok {
		return 15, nil
	}
	if v == "infinity" {
		return -1, nil
	}
	if v == "" {
		return 0, nil
	}
	n, err := parseUnsigned(v, 10)
	if err != nil || n > 1<<31-1 {
		return 0, &FatalError{Msg: fmt.Sprintf("Unable to parse WG_ENDPOINT_RESOLUTION_RETRIES: `%s'", v)}
	}
	return int(n), nil
}

// FatalError is an error that ends the program at once, as wg's exit(1)
// does (a bad WG_ENDPOINT_RESOLUTION_RETRIES), without the "Configuration
// parsing error" line.
type FatalError struct{ Msg string }

func (e *FatalError) Error() string { return e.Msg }

// splitEndpoint separates host and port as wg does: "[host]:port", or else
// at the last colon.
func splitEndpoint[T string | []byte](value T) (host, port T, err error) {
	if len(value) == 0 {
		return host, port, fmt.Errorf("Unable to parse empty endpoint")
	}
	if value[0] == '[' {
		end := -1
		for i := 0; i < len(value); i++ {
			if value[i] == ']' {
				end = i
				break
			}
		}
		if end < 0 {
			return host, port, fmt.Errorf("Unable to find matching brace of endpoint: `%s'", value)
		}
		rest := value[end+1:]
		if len(rest) < 2 || rest[0] != ':' {
			return host, port, fmt.Errorf("Unable to find port of endpoint: `%s'", value)
		}
		return value[1:end], rest[1:], nil
	}
	i := len(value) - 1
	for i >= 0 && value[i] != ':' {
		i--
	}
	if i < 0 || i == len(value)-1 {
		return host, port, fmt.Errorf("Unable to find port of endpoint: `%s'", value)
	}
	return value[:i], value[i+1:], nil
}

// ParseEndpoint parses and resolves an endpoint. Host names go to
// o.Resolver; transient failures are retried with wg's backoff (1 s, x1.2,
// at most 20 s) up to the WG_ENDPOINT_RESOLUTION_RETRIES count, each retry
// announced through o.Warn.
func ParseEndpoint(value string, o *Options) (netip.AddrPort, error) {
	// wg reads the retry count before looking at the value at all.
	retries, err := resolutionRetries(o.lookupEnv())
	if err != nil {
		return netip.AddrPort{}, err
	}
	return parseEndpoint(value, o, retries)
}

// parseEndpoint is ParseEndpoint once the retry count is read, for a
// string or the bytes of a line: an address written out is read without
// allocating; a host name (or a zone) is copied to a string.
func parseEndpoint[T string | []byte](value T, o *Options, retries int) (netip.AddrPort, error) {
	host, portText, err := splitEndpoint(value)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var port uint16
	if n, ok := decimal(portText); ok && n <= 65535 {
		port = uint16(n)
	} else if allDigits(portText) {
		return netip.AddrPort{}, fmt.Errorf("Port is out of range 0-65535: `%s'", value)
	} else if p, ok := o.service(string(portText)); ok {
		port = p
	} else {
		return netip.AddrPort{}, fmt.Errorf("Servname not supported for ai_socktype: `%s'", value)
	}
	if a, ok := ParseAddr(host); ok {
		return netip.AddrPortFrom(a, port), nil
	}
	name := string(host)
	if a, err := netip.ParseAddr(name); err == nil {
		return netip.AddrPortFrom(a, port), nil
	}
	resolver := o.resolver()
	for timeout := time.Second; ; timeout = min(20*time.Second, timeout/time.Microsecond*6/5*time.Microsecond) {
		a, err := resolver.Resolve(name)
		if err == nil {
			return netip.AddrPortFrom(a, port), nil
		}
		msg, permanent := err.Error(), false
		if re, ok := err.(*ResolveError); ok {
			permanent = re.Permanent
		}
		if permanent || retries == 0 {
			return netip.AddrPort{}, fmt.Errorf("%s: `%s'", msg, value)
		}
		if retries > 0 {
			retries--
		}
		o.warn(fmt.Sprintf("%s: `%s'. Trying again in %.2f seconds...", msg, value, timeout.Seconds()))
		o.sleep(timeout)
	}
}
