package conf

import (
	"fmt"
	"slices"
	"strings"
)

// Canonical is a configuration as a device and wg-quick would apply it,
// in a canonical text (for tests that compare what two files configure): addresses and DNS as sets, peers sorted by key, allowed
// IPs masked and sorted, unset and zero alike.
func Canonical(c *Config) string {
	var b strings.Builder
	i := &c.Interface
	var words []string
	for _, a := range i.Addresses {
		words = append(words, a.Prefix.String())
	}
	slices.Sort(words)
	fmt.Fprintf(&b, "address %s\n", strings.Join(slices.Compact(words), " "))
	words = words[:0]
	for _, a := range i.DNS {
		words = append(words, a.String())
	}
	words = append(words, i.DNSSearch...)
	slices.Sort(words)
	fmt.Fprintf(&b, "dns %s\n", strings.Join(slices.Compact(words), " "))
	if i.MTU != nil {
		fmt.Fprintf(&b, "mtu %d\n", *i.MTU)
	}
	fmt.Fprintf(&b, "table %q saveconfig %v hooks %q %q %q %q\n", i.Table, i.SaveConfig, i.PreUp, i.PostUp, i.PreDown, i.PostDown)
	u16 := func(p *uint16) uint16 {
		if p == nil {
			return 0
		}
		return *p
	}
	mark := uint32(0)
	if i.FwMark != nil {
		mark = *i.FwMark
	}
	key := func(k *Key) string {
		if k == nil || k.IsZero() {
			return "none"
		}
		return k.String()
	}
	fmt.Fprintf(&b, "port %d fwmark %d key %s\n", u16(i.ListenPort), mark, key(i.PrivateKey))
	var peers []string
	for _, p := range c.Peers {
		var ips []string
		for _, a := range p.AllowedIPs {
			ips = append(ips, a.Prefix.Masked().String())
		}
		slices.Sort(ips)
		ep := "none"
		if p.Endpoint != nil {
			ep = p.Endpoint.String()
		}
		psk := p.PresharedKey
		peers = append(peers, fmt.Sprintf("peer %s psk %s endpoint %s keepalive %d allowed %s\n",
			p.PublicKey, key(psk), ep, u16(p.PersistentKeepalive), strings.Join(slices.Compact(ips), ",")))
	}
	slices.Sort(peers)
	for _, p := range peers {
		b.WriteString(p)
	}
	return b.String()
}
