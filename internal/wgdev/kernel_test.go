package wgdev

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
)

// sentPeer is one peer attribute set as the kernel would read it from a
// WG_CMD_SET_DEVICE message.
type sentPeer struct {
	key        conf.Key
	flags      uint32
	psk        bool
	endpoint   bool
	keepalive  bool
	allowedIPs []netip.Prefix
}

type sentMessage struct {
	ifname                  string
	private, port, fwmark   bool
	deviceFlags             uint32
	peers                   []sentPeer
	size, peersNestPayloads int
}

// decodeSet reads a message encodeSet built, checking what the kernel's
// netlink policy checks (attribute lengths, nesting).
func decodeSet(t *testing.T, b []byte) sentMessage {
	t.Helper()
	m := sentMessage{size: len(b)}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		t.Fatal(err)
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.WGDEVICE_A_IFNAME:
			m.ifname = ad.String()
		case unix.WGDEVICE_A_PRIVATE_KEY:
			m.private = len(ad.Bytes()) == 32
		case unix.WGDEVICE_A_LISTEN_PORT:
			m.port = true
		case unix.WGDEVICE_A_FWMARK:
			m.fwmark = true
		case unix.WGDEVICE_A_FLAGS:
			m.deviceFlags = ad.Uint32()
		case unix.WGDEVICE_A_PEERS:
			m.peersNestPayloads = len(ad.Bytes())
			ad.Nested(func(peers *netlink.AttributeDecoder) error {
				for peers.Next() {
					var p sentPeer
					peers.Nested(func(pd *netlink.AttributeDecoder) error {
						for pd.Next() {
							switch pd.Type() {
							case unix.WGPEER_A_PUBLIC_KEY:
								copy(p.key[:], pd.Bytes())
							case unix.WGPEER_A_FLAGS:
								p.flags = pd.Uint32()
							case unix.WGPEER_A_PRESHARED_KEY:
								p.psk = true
							case unix.WGPEER_A_ENDPOINT:
								p.endpoint = true
							case unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
								p.keepalive = true
							case unix.WGPEER_A_ALLOWEDIPS:
								pd.Nested(func(list *netlink.AttributeDecoder) error {
									for list.Next() {
										list.Nested(func(a *netlink.AttributeDecoder) error {
											var ip []byte
											var bits uint8
											for a.Next() {
												switch a.Type() {
												case unix.WGALLOWEDIP_A_IPADDR:
													ip = a.Bytes()
												case unix.WGALLOWEDIP_A_CIDR_MASK:
													bits = a.Uint8()
												}
											}
											addr, _ := netip.AddrFromSlice(ip)
											p.allowedIPs = append(p.allowedIPs, netip.PrefixFrom(addr, int(bits)))
											return nil
										})
									}
									return nil
								})
							}
						}
						return nil
					})
					m.peers = append(m.peers, p)
				}
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		t.Fatalf("decoding a set message: %v", err)
	}
	return m
}

func testKey(i int) conf.Key {
	var k conf.Key
	binary.BigEndian.PutUint32(k[:], uint32(i+1))
	k[31] = 0x42
	return k
}

// TestEncodeSetSplitsLargePeer: a peer with 20000 allowed IPs spans many
// messages; only the first carries the device's attributes and the peer's
// own (flags, keys, endpoint, keepalive); every allowed IP is sent once,
// in order; every message fits the kernel's limits and the budget, the
// default one and that of the smallest send buffer the kernel allows.
func TestEncodeSetSplitsLargePeer(t *testing.T) {
	for _, budget := range testBudgets {
		t.Run(fmt.Sprint(budget), func(t *testing.T) { encodeSetSplitsLargePeer(t, budget) })
	}
}

// testBudgets: the default, and the budget of the kernel's smallest send
// buffer (SOCK_MIN_SNDBUF: twice a 2 KiB skb with its overhead).
var testBudgets = []int{messageBudget, setBudget(4608)}

func encodeSetSplitsLargePeer(t *testing.T, budget int) {
	pk, port, mark, ka := conf.Key{1}, uint16(51820), uint32(7), uint16(25)
	ep := netip.MustParseAddrPort("[2001:db8::1]:51820")
	peer := conf.Peer{PublicKey: testKey(0), PresharedKey: &conf.Key{2}, Endpoint: &ep, PersistentKeepalive: &ka, ReplaceAllowedIPs: true}
	for i := 0; i < 20000; i++ {
		if i%2 == 0 {
			peer.AllowedIPs = append(peer.AllowedIPs, conf.AllowedIP{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32)})
		} else {
			peer.AllowedIPs = append(peer.AllowedIPs, conf.AllowedIP{Prefix: netip.MustParsePrefix(fmt.Sprintf("fd00:%x::/64", i))})
		}
	}
	other := conf.Peer{PublicKey: testKey(1), AllowedIPs: []conf.AllowedIP{{Prefix: netip.MustParsePrefix("192.168.0.0/16")}}}
	cfg := &conf.Config{Interface: conf.Interface{PrivateKey: &pk, ListenPort: &port, FwMark: &mark}, ReplacePeers: true, Peers: []conf.Peer{peer, other}}
	msgs, err := encodeSet("wg0", cfg, budget)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 10 {
		t.Fatalf("%d messages for 20000 allowed IPs", len(msgs))
	}
	var got []netip.Prefix
	var keys []conf.Key
	for n, b := range msgs {
		m := decodeSet(t, b)
		if m.size > budget || m.peersNestPayloads >= 1<<16 {
			t.Errorf("message %d: %d bytes, peers nest %d", n, m.size, m.peersNestPayloads)
		}
		if m.ifname != "wg0" {
			t.Errorf("message %d: ifname %q", n, m.ifname)
		}
		first := n == 0
		if m.private != first || m.port != first || m.fwmark != first || (m.deviceFlags == unix.WGDEVICE_F_REPLACE_PEERS) != first {
			t.Errorf("message %d: device attributes %+v", n, m)
		}
		for j, p := range m.peers {
			keys = append(keys, p.key)
			if p.key != testKey(0) {
				continue
			}
			own := first && j == 0
			if (p.flags == unix.WGPEER_F_REPLACE_ALLOWEDIPS) != own || p.psk != own || p.endpoint != own || p.keepalive != own {
				t.Errorf("message %d peer %d: %+v (its own attributes belong to its first chunk only)", n, j, p)
			}
			got = append(got, p.allowedIPs...)
		}
	}
	var want []netip.Prefix
	for _, a := range peer.AllowedIPs {
		want = append(want, a.Prefix)
	}
	if !slices.Equal(got, want) {
		t.Errorf("allowed IPs sent: %d, want %d in order", len(got), len(want))
	}
	keys = slices.Compact(keys)
	if !slices.Equal(keys, []conf.Key{testKey(0), testKey(1)}) {
		t.Errorf("peer order across messages: %v", keys)
	}
}

// TestEncodeSetManyPeers: 5000 peers are spread over messages in order; a
// peer cut at a message boundary goes on in the next message with its key
// alone (no flags), as the kernel expects; removals carry only the flag;
// every message fits the budget.
func TestEncodeSetManyPeers(t *testing.T) {
	for _, budget := range testBudgets {
		t.Run(fmt.Sprint(budget), func(t *testing.T) { encodeSetManyPeers(t, budget) })
	}
}

func encodeSetManyPeers(t *testing.T, budget int) {
	cfg := &conf.Config{}
	for i := 0; i < 5000; i++ {
		p := conf.Peer{PublicKey: testKey(i), ReplaceAllowedIPs: true, AllowedIPs: []conf.AllowedIP{
			{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)},
			{Prefix: netip.MustParsePrefix(fmt.Sprintf("fd00::%x/128", i))},
		}}
		if i%10 == 0 {
			p = conf.Peer{PublicKey: testKey(i), Remove: true, AllowedIPs: p.AllowedIPs}
		}
		cfg.Peers = append(cfg.Peers, p)
	}
	msgs, err := encodeSet("wg0", cfg, budget)
	if err != nil {
		t.Fatal(err)
	}
	// Reassemble: consecutive pieces with one key are one peer.
	var peers []sentPeer
	for n, b := range msgs {
		m := decodeSet(t, b)
		if m.peersNestPayloads >= 1<<16 || m.size > budget {
			t.Errorf("message %d: %d bytes, peers nest of %d bytes", n, m.size, m.peersNestPayloads)
		}
		for j, p := range m.peers {
			if last := len(peers) - 1; last >= 0 && peers[last].key == p.key {
				if j != 0 || p.flags != 0 || p.psk || p.endpoint || p.keepalive {
					t.Errorf("message %d: continuation of a peer with more than its key: %+v", n, p)
				}
				peers[last].allowedIPs = append(peers[last].allowedIPs, p.allowedIPs...)
				continue
			}
			peers = append(peers, p)
		}
	}
	if len(peers) != 5000 || len(msgs) < 2 {
		t.Fatalf("%d peers in %d messages", len(peers), len(msgs))
	}
	for i, p := range peers {
		want := &cfg.Peers[i]
		switch {
		case p.key != want.PublicKey:
			t.Fatalf("peer %d out of order", i)
		case want.Remove && (p.flags != unix.WGPEER_F_REMOVE_ME || len(p.allowedIPs) != 0):
			t.Errorf("removed peer %d: %+v", i, p)
		case !want.Remove && (p.flags != unix.WGPEER_F_REPLACE_ALLOWEDIPS || len(p.allowedIPs) != 2):
			t.Errorf("peer %d: %+v", i, p)
		}
	}
}

// TestEncodeSetNoPeers: a set without peers is one message.
func TestEncodeSetNoPeers(t *testing.T) {
	port := uint16(1)
	msgs, err := encodeSet("wg0", &conf.Config{Interface: conf.Interface{ListenPort: &port}}, messageBudget)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if m := decodeSet(t, msgs[0]); !m.port || len(m.peers) != 0 {
		t.Errorf("%+v", m)
	}
}

// getReply builds one WG_CMD_GET_DEVICE reply message as the kernel does.
func getReply(t testing.TB, device bool, peers []conf.DevicePeer) []byte {
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.WGDEVICE_A_IFNAME, "wg0")
	if device {
		ae.Bytes(unix.WGDEVICE_A_PRIVATE_KEY, make([]byte, 32))
		ae.Uint16(unix.WGDEVICE_A_LISTEN_PORT, 51820)
	}
	ae.Nested(unix.WGDEVICE_A_PEERS, func(pe *netlink.AttributeEncoder) error {
		for i, p := range peers {
			pe.Nested(uint16(i), func(a *netlink.AttributeEncoder) error {
				a.Bytes(unix.WGPEER_A_PUBLIC_KEY, p.PublicKey[:])
				if p.PersistentKeepalive != 0 {
					a.Uint16(unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p.PersistentKeepalive)
					ts := make([]byte, 16)
					binary.NativeEndian.PutUint64(ts, uint64(p.LastHandshake.Unix()))
					a.Bytes(unix.WGPEER_A_LAST_HANDSHAKE_TIME, ts)
					a.Bytes(unix.WGPEER_A_ENDPOINT, encodeSockaddr(p.Endpoint))
				}
				a.Nested(unix.WGPEER_A_ALLOWEDIPS, func(l *netlink.AttributeEncoder) error {
					for j, ip := range p.AllowedIPs {
						l.Nested(uint16(j), func(x *netlink.AttributeEncoder) error {
							x.Uint16(unix.WGALLOWEDIP_A_FAMILY, unix.AF_INET)
							x.Bytes(unix.WGALLOWEDIP_A_IPADDR, ip.Addr().AsSlice())
							x.Uint8(unix.WGALLOWEDIP_A_CIDR_MASK, uint8(ip.Bits()))
							return nil
						})
					}
					return nil
				})
				return nil
			})
		}
		return nil
	})
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseDeviceContinuation: the kernel splits a dump across messages,
// repeating a peer's public key (and only it) where its allowed IPs go on;
// the pieces become one peer, in order.
func TestParseDeviceContinuation(t *testing.T) {
	pfx := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	hs := time.Unix(1700000000, 0)
	ep := netip.MustParseAddrPort("10.0.0.9:51820")
	a := conf.DevicePeer{PublicKey: testKey(0), PersistentKeepalive: 25, LastHandshake: hs, Endpoint: ep, AllowedIPs: pfx("10.0.0.0/24", "10.0.1.0/24")}
	b1 := conf.DevicePeer{PublicKey: testKey(1), PersistentKeepalive: 5, LastHandshake: hs, Endpoint: ep, AllowedIPs: pfx("10.1.0.0/24")}
	b2 := conf.DevicePeer{PublicKey: testKey(1), AllowedIPs: pfx("10.1.1.0/24", "10.1.2.0/24")}
	b3 := conf.DevicePeer{PublicKey: testKey(1), AllowedIPs: pfx("10.1.3.0/24")}
	c := conf.DevicePeer{PublicKey: testKey(2), AllowedIPs: pfx("10.2.0.0/24")}
	dev := &conf.Device{}
	for _, m := range [][]byte{getReply(t, true, []conf.DevicePeer{a, b1}), getReply(t, false, []conf.DevicePeer{b2}), getReply(t, false, []conf.DevicePeer{b3, c})} {
		if err := parseDeviceMessage(m, dev); err != nil {
			t.Fatal(err)
		}
	}
	if dev.ListenPort != 51820 || len(dev.Peers) != 3 {
		t.Fatalf("%+v", dev)
	}
	b := dev.Peers[1]
	if b.PublicKey != testKey(1) || b.PersistentKeepalive != 5 || !b.LastHandshake.Equal(hs) || b.Endpoint != ep ||
		!slices.Equal(b.AllowedIPs, pfx("10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24")) {
		t.Errorf("merged peer: %+v", b)
	}
	if !slices.Equal(dev.Peers[0].AllowedIPs, a.AllowedIPs) || dev.Peers[2].PublicKey != testKey(2) {
		t.Errorf("neighbours: %+v", dev.Peers)
	}
}

// referenceEncodeSet is encodeSet written with mdlayher/netlink's
// AttributeEncoder, the straightforward way: attrBuilder must give the
// same bytes.
func referenceEncodeSet(t *testing.T, name string, cfg *conf.Config) [][]byte {
	var out [][]byte
	for n, chunks := range planSet(cfg, messageBudget) {
		ae := netlink.NewAttributeEncoder()
		ae.String(unix.WGDEVICE_A_IFNAME, name)
		if n == 0 {
			i := &cfg.Interface
			if i.PrivateKey != nil {
				ae.Bytes(unix.WGDEVICE_A_PRIVATE_KEY, i.PrivateKey[:])
			}
			if i.ListenPort != nil {
				ae.Uint16(unix.WGDEVICE_A_LISTEN_PORT, *i.ListenPort)
			}
			if i.FwMark != nil {
				ae.Uint32(unix.WGDEVICE_A_FWMARK, *i.FwMark)
			}
			if cfg.ReplacePeers {
				ae.Uint32(unix.WGDEVICE_A_FLAGS, unix.WGDEVICE_F_REPLACE_PEERS)
			}
		}
		if len(chunks) > 0 {
			ae.Nested(unix.WGDEVICE_A_PEERS, func(peers *netlink.AttributeEncoder) error {
				for idx, c := range chunks {
					peers.Nested(uint16(idx), func(pe *netlink.AttributeEncoder) error {
						p := c.peer
						pe.Bytes(unix.WGPEER_A_PUBLIC_KEY, p.PublicKey[:])
						if c.first {
							var flags uint32
							if p.Remove {
								flags |= unix.WGPEER_F_REMOVE_ME
							}
							if p.UpdateOnly {
								flags |= unix.WGPEER_F_UPDATE_ONLY
							}
							if p.ReplaceAllowedIPs && !p.Remove {
								flags |= unix.WGPEER_F_REPLACE_ALLOWEDIPS
							}
							if flags != 0 {
								pe.Uint32(unix.WGPEER_A_FLAGS, flags)
							}
							if p.Remove {
								return nil
							}
							if p.PresharedKey != nil {
								pe.Bytes(unix.WGPEER_A_PRESHARED_KEY, p.PresharedKey[:])
							}
							if p.Endpoint != nil {
								pe.Bytes(unix.WGPEER_A_ENDPOINT, encodeSockaddr(*p.Endpoint))
							}
							if p.PersistentKeepalive != nil {
								pe.Uint16(unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, *p.PersistentKeepalive)
							}
						}
						if len(c.allow) == 0 {
							return nil
						}
						pe.Nested(unix.WGPEER_A_ALLOWEDIPS, func(list *netlink.AttributeEncoder) error {
							for i, a := range c.allow {
								list.Nested(uint16(i), func(x *netlink.AttributeEncoder) error {
									addr := a.Prefix.Addr()
									if addr.Is4() {
										x.Uint16(unix.WGALLOWEDIP_A_FAMILY, unix.AF_INET)
									} else {
										x.Uint16(unix.WGALLOWEDIP_A_FAMILY, unix.AF_INET6)
									}
									x.Bytes(unix.WGALLOWEDIP_A_IPADDR, addr.AsSlice())
									x.Uint8(unix.WGALLOWEDIP_A_CIDR_MASK, uint8(a.Prefix.Bits()))
									return nil
								})
							}
							return nil
						})
						return nil
					})
				}
				return nil
			})
		}
		b, err := ae.Encode()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestEncodeSetBytes(t *testing.T) {
	pk, port, mark, ka := conf.Key{9}, uint16(51820), uint32(0x1234), uint16(25)
	ep4 := netip.MustParseAddrPort("192.0.2.1:1")
	ep6 := netip.MustParseAddrPort("[fe80::1%1]:51820")
	cfg := &conf.Config{Interface: conf.Interface{PrivateKey: &pk, ListenPort: &port, FwMark: &mark}, ReplacePeers: true}
	for i := 0; i < 3000; i++ {
		p := conf.Peer{PublicKey: testKey(i), ReplaceAllowedIPs: i%2 == 0, UpdateOnly: i%9 == 0}
		switch i % 4 {
		case 0:
			p.Endpoint, p.PresharedKey = &ep4, &conf.Key{3}
		case 1:
			p.Endpoint, p.PersistentKeepalive = &ep6, &ka
		case 2:
			p.Remove = true
		}
		for j := 0; j < i%7; j++ {
			p.AllowedIPs = append(p.AllowedIPs, conf.AllowedIP{Prefix: netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", i%256, j))}, conf.AllowedIP{Prefix: netip.MustParsePrefix(fmt.Sprintf("fd00:%x::/%d", i, 16+j))})
		}
		cfg.Peers = append(cfg.Peers, p)
	}
	got, err := encodeSet("wg0", cfg, messageBudget)
	if err != nil {
		t.Fatal(err)
	}
	want := referenceEncodeSet(t, "wg0", cfg)
	if len(got) != len(want) || len(got) < 2 {
		t.Fatalf("%d messages, reference %d", len(got), len(want))
	}
	for i := range got {
		if string(got[i]) != string(want[i]) {
			t.Errorf("message %d differs from the reference encoding", i)
		}
	}
}
