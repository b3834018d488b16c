package conf

import (
	"fmt"
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
func (c *Config) Format() string {
	var b strings.Builder
	i := &c.Interface
	b.WriteString("[Interface]\n")
	for _, a := range i.Addresses {
		raw := a.Raw
		if raw == "" {
			raw = FormatPrefix(a.Prefix)
		}
		fmt.Fprintf(&b, "Address = %s\n", raw)
	}
	for _, d := range i.DNS {
		fmt.Fprintf(&b, "DNS = %s\n", FormatAddr(d))
	}
	for _, d := range i.DNSSearch {
		fmt.Fprintf(&b, "DNS = %s\n", d)
	}
	if i.MTU != nil {
		fmt.Fprintf(&b, "MTU = %d\n", *i.MTU)
	}
	if i.Table != "" {
		fmt.Fprintf(&b, "Table = %s\n", i.Table)
	}
	if i.SaveConfig {
		b.WriteString("SaveConfig = true\n")
	}
	for _, hooks := range []struct {
		key  string
		list []string
	}{{"PreUp", i.PreUp}, {"PostUp", i.PostUp}, {"PreDown", i.PreDown}, {"PostDown", i.PostDown}} {
		for _, h := range hooks.list {
			fmt.Fprintf(&b, "%s = %s\n", hooks.key, h)
		}
	}
	if i.ListenPort != nil {
		fmt.Fprintf(&b, "ListenPort = %d\n", *i.ListenPort)
	}
	if i.FwMark != nil {
		if *i.FwMark == 0 {
			b.WriteString("FwMark = off\n")
		} else {
			fmt.Fprintf(&b, "FwMark = 0x%x\n", *i.FwMark)
		}
	}
	if i.PrivateKey != nil {
		fmt.Fprintf(&b, "PrivateKey = %s\n", i.PrivateKey)
	}
	b.WriteString("\n")
	for n := range c.Peers {
		p := &c.Peers[n]
		fmt.Fprintf(&b, "[Peer]\nPublicKey = %s\n", p.PublicKey)
		if p.PresharedKey != nil {
			fmt.Fprintf(&b, "PresharedKey = %s\n", p.PresharedKey)
		}
		if len(p.AllowedIPs) > 0 {
			b.WriteString("AllowedIPs = ")
			for j, a := range p.AllowedIPs {
				if j > 0 {
					b.WriteString(", ")
				}
				if !p.ReplaceAllowedIPs {
					if a.Remove {
						b.WriteByte('-')
					} else {
						b.WriteByte('+')
					}
				}
				b.WriteString(FormatPrefix(a.Prefix))
			}
			b.WriteString("\n")
		}
		if p.Endpoint != nil {
			fmt.Fprintf(&b, "Endpoint = %s\n", FormatEndpoint(*p.Endpoint))
		}
		if p.PersistentKeepalive != nil {
			if *p.PersistentKeepalive == 0 {
				b.WriteString("PersistentKeepalive = off\n")
			} else {
				fmt.Fprintf(&b, "PersistentKeepalive = %d\n", *p.PersistentKeepalive)
			}
		}
		if n+1 < len(c.Peers) {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// FormatSaved is the file `wg-quick save` writes: Format's text with its
// trailing newlines replaced by one (the reference takes `wg showconf`
// through a command substitution, then echoes it).
func (c *Config) FormatSaved() string {
	return strings.TrimRight(c.Format(), "\n") + "\n"
}
