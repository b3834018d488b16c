package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
)

// peer is a generated peer.
type peer struct {
	Pub      conf.Key
	IPs      []netip.Prefix
	Endpoint string
}

// genKeys makes n public keys of fresh key pairs.
func genKeys(n int) []conf.Key {
	keys := make([]conf.Key, n)
	for i := range keys {
		k, err := conf.GeneratePrivateKey()
		if err != nil {
			panic(failure(fmt.Sprintf("generating keys: %v", err)))
		}
		keys[i] = k.PublicKey()
	}
	return keys
}

// genPeers makes n peers: peer i has 10.65.0.0+i+1/32 and, for even i,
// fd65::i+1/128 too (so n + n/2 routes). With endpoints, each has its own
// in 192.0.2.0/24 ... (TEST-NET, never reached: nothing sends to them).
func genPeers(n int, endpoints bool) []peer {
	keys := genKeys(n)
	list := make([]peer, n)
	for i := range list {
		v := uint32(10<<24|65<<16) + uint32(i+1)
		p := peer{Pub: keys[i], IPs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), 32)}}
		if i%2 == 0 {
			a := [16]byte{0xfd, 0x65}
			a[12], a[13], a[14], a[15] = byte((i+1)>>24), byte((i+1)>>16), byte((i+1)>>8), byte(i+1)
			p.IPs = append(p.IPs, netip.PrefixFrom(netip.AddrFrom16(a), 128))
		}
		if endpoints {
			p.Endpoint = fmt.Sprintf("198.51.%d.%d:%d", 100+i/250%10, i%250+1, 51820+i/2500)
		}
		list[i] = p
	}
	return list
}

// iface is the [Interface] part of a generated config.
type iface struct {
	Private conf.Key
	Port    int
	Address []string
	Extra   []string // more lines (MTU = ..., Table = off)
}

func (i iface) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\n", i.Private)
	if i.Port != 0 {
		fmt.Fprintf(&b, "ListenPort = %d\n", i.Port)
	}
	if len(i.Address) > 0 {
		fmt.Fprintf(&b, "Address = %s\n", strings.Join(i.Address, ", "))
	}
	for _, l := range i.Extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// config renders a configuration (wg's, or wg-quick's with Address).
func config(i iface, peers []peer) string {
	var b strings.Builder
	b.WriteString(i.String())
	for _, p := range peers {
		fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\n", p.Pub)
		ips := make([]string, len(p.IPs))
		for k, ip := range p.IPs {
			ips[k] = ip.String()
		}
		fmt.Fprintf(&b, "AllowedIPs = %s\n", strings.Join(ips, ", "))
		if p.Endpoint != "" {
			fmt.Fprintf(&b, "Endpoint = %s\n", p.Endpoint)
		}
	}
	return b.String()
}

func newPrivate() conf.Key {
	k, err := conf.GeneratePrivateKey()
	if err != nil {
		panic(failure(fmt.Sprintf("generating a key: %v", err)))
	}
	return k
}

// changed returns a copy of peers with a tenth changed: every 20th peer
// replaced by a new one (new key, same addresses) and every 20th (offset
// by 10) given another allowed IP.
func changed(peers []peer) []peer {
	out := make([]peer, len(peers))
	copy(out, peers)
	fresh := genKeys(len(peers)/20 + 1)
	for i := range out {
		switch i % 20 {
		case 0:
			out[i].Pub = fresh[i/20]
		case 10:
			ips := append([]netip.Prefix(nil), out[i].IPs...)
			out[i].IPs = append(ips, netip.MustParsePrefix(fmt.Sprintf("10.66.%d.%d/32", i/250, i%250+1)))
		}
	}
	return out
}

func prefixes(list ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, p := range list {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}
