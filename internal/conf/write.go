package conf

import (
	"net/netip"
	"strconv"
	"strings"
)

// FormatAddr prints an address as glibc's inet_ntop does. It differs from
// netip.Addr.String only for IPv4-compatible IPv6 addresses (::a.b.c.d),
// which glibc prints with a dotted quad.
func FormatAddr(a netip.Addr) string {
	var buf [64]byte
	return string(AppendAddr(buf[:0], a))
}

// AppendAddr appends FormatAddr's text to b.
func AppendAddr(b []byte, a netip.Addr) []byte {
	if a.Is6() && !a.Is4In6() {
		x := a.As16()
		zero := true
		for _, c := range x[:12] {
			zero = zero && c == 0
		}
		if zero && (x[12] != 0 || x[13] != 0) {
			b = append(b, ':', ':')
			b = netip.AddrFrom4([4]byte{x[12], x[13], x[14], x[15]}).AppendTo(b)
			if z := a.Zone(); z != "" {
				b = append(b, '%')
				b = append(b, z...)
			}
			return b
		}
	}
	return a.AppendTo(b)
}

// FormatPrefix prints IP/CIDR with FormatAddr.
func FormatPrefix(p netip.Prefix) string {
	var buf [64]byte
	return string(AppendPrefix(buf[:0], p))
}

// AppendPrefix appends FormatPrefix's text to b.
func AppendPrefix(b []byte, p netip.Prefix) []byte {
	b = AppendAddr(b, p.Addr())
	b = append(b, '/')
	return strconv.AppendInt(b, int64(p.Bits()), 10)
}

// FormatEndpoint prints an endpoint as wg does: a.b.c.d:port, or
// [v6%zone]:port.
func FormatEndpoint(ep netip.AddrPort) string {
	var buf [80]byte
	return string(AppendEndpoint(buf[:0], ep))
}

// AppendEndpoint appends FormatEndpoint's text to b.
func AppendEndpoint(b []byte, ep netip.AddrPort) []byte {
	a := ep.Addr()
	if a.Is4() {
		b = a.AppendTo(b)
	} else {
		b = append(b, '[')
		b = AppendAddr(b, a)
		b = append(b, ']')
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(ep.Port()), 10)
}

// Format writes c in the configuration file format. With only wg's keys set
// (as ConfigOf gives), the text is exactly what `wg showconf` prints; with
// wg-quick's keys set it is the file `wg-quick save` writes (before save's
// trimming of trailing newlines). Reading the text back with ParseQuick
// gives the same model.
func (c *Config) Format() string { return string(c.AppendFormat(nil)) }

// AppendFormat appends Format's text to b.
func (c *Config) AppendFormat(b []byte) []byte {
	i := &c.Interface
	b = append(b, "[Interface]\n"...)
	for _, a := range i.Addresses {
		b = append(b, "Address = "...)
		if a.Raw != "" {
			b = append(b, a.Raw...)
		} else {
			b = AppendPrefix(b, a.Prefix)
		}
		b = append(b, '\n')
	}
	for _, d := range i.DNS {
		b = append(b, "DNS = "...)
		b = AppendAddr(b, d)
		b = append(b, '\n')
	}
	for _, d := range i.DNSSearch {
		b = append(b, "DNS = "...)
		b = append(b, d...)
		b = append(b, '\n')
	}
	if i.MTU != nil {
		b = append(b, "MTU = "...)
		b = strconv.AppendInt(b, int64(*i.MTU), 10)
		b = append(b, '\n')
	}
	if i.Table != "" {
		b = append(b, "Table = "...)
		b = append(b, i.Table...)
		b = append(b, '\n')
	}
	if i.SaveConfig {
		b = append(b, "SaveConfig = true\n"...)
	}
	for _, hooks := range []struct {
		key  string
		list []string
	}{{"PreUp", i.PreUp}, {"PostUp", i.PostUp}, {"PreDown", i.PreDown}, {"PostDown", i.PostDown}} {
		for _, h := range hooks.list {
			b = append(b, hooks.key...)
			b = append(b, " = "...)
			b = append(b, h...)
			b = append(b, '\n')
		}
	}
	if i.ListenPort != nil {
		b = append(b, "ListenPort = "...)
		b = strconv.AppendUint(b, uint64(*i.ListenPort), 10)
		b = append(b, '\n')
	}
	if i.FwMark != nil {
		if *i.FwMark == 0 {
			b = append(b, "FwMark = off\n"...)
		} else {
			b = append(b, "FwMark = 0x"...)
			b = strconv.AppendUint(b, uint64(*i.FwMark), 16)
			b = append(b, '\n')
		}
	}
	if i.PrivateKey != nil {
		b = append(b, "PrivateKey = "...)
		b = i.PrivateKey.AppendBase64(b)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for n := range c.Peers {
		p := &c.Peers[n]
		b = append(b, "[Peer]\nPublicKey = "...)
		b = p.PublicKey.AppendBase64(b)
		b = append(b, '\n')
		if p.PresharedKey != nil {
			b = append(b, "PresharedKey = "...)
			b = p.PresharedKey.AppendBase64(b)
			b = append(b, '\n')
		}
		if len(p.AllowedIPs) > 0 {
			b = append(b, "AllowedIPs = "...)
			for j, a := range p.AllowedIPs {
				if j > 0 {
					b = append(b, ", "...)
				}
				if !p.ReplaceAllowedIPs {
					if a.Remove {
						b = append(b, '-')
					} else {
						b = append(b, '+')
					}
				}
				b = AppendPrefix(b, a.Prefix)
			}
			b = append(b, '\n')
		}
		if p.Endpoint != nil {
			b = append(b, "Endpoint = "...)
			b = AppendEndpoint(b, *p.Endpoint)
			b = append(b, '\n')
		}
		if p.PersistentKeepalive != nil {
			if *p.PersistentKeepalive == 0 {
				b = append(b, "PersistentKeepalive = off\n"...)
			} else {
				b = append(b, "PersistentKeepalive = "...)
				b = strconv.AppendUint(b, uint64(*p.PersistentKeepalive), 10)
				b = append(b, '\n')
			}
		}
		if n+1 < len(c.Peers) {
			b = append(b, '\n')
		}
	}
	return b
}

// FormatSaved is the file `wg-quick save` writes: Format's text with its
// trailing newlines replaced by one (the reference takes `wg showconf`
// through a command substitution, then echoes it).
func (c *Config) FormatSaved() string {
	return strings.TrimRight(c.Format(), "\n") + "\n"
}
