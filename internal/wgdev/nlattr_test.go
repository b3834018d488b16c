package wgdev

import (
	"encoding/binary"
	"math/rand"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
)

// TestAttrReaderMatchesDecoder: parseDeviceMessage (attrReader) reads
// what the same parser on mdlayher/netlink's AttributeDecoder read (the
// code it replaced, below), on kernel-shaped replies and on 20,000
// damaged copies of them (bytes changed, lengths cut, tails dropped):
// the same device, or an error from both.
func TestAttrReaderMatchesDecoder(t *testing.T) {
	hs := time.Unix(1700000000, 12345)
	var peers []conf.DevicePeer
	for i := range 7 {
		p := conf.DevicePeer{PublicKey: testKey(i), AllowedIPs: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 0}), 24)}}
		if i%2 == 0 {
			p.PersistentKeepalive = uint16(25 + i)
			p.LastHandshake = hs
			p.Endpoint = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(1000+i))
			p.AllowedIPs = append(p.AllowedIPs, netip.MustParsePrefix("fd00::1/128"))
		}
		peers = append(peers, p)
	}
	msgs := [][]byte{getReply(t, true, peers[:3]), getReply(t, false, peers[3:]), extraFields(t)}
	rng := rand.New(rand.NewSource(1))
	failed := 0
	for n := range 20000 {
		m := msgs[n%len(msgs)]
		if n >= len(msgs) {
			m = append([]byte(nil), m...)
			switch rng.Intn(3) {
			case 0:
				m[rng.Intn(len(m))] = byte(rng.Intn(256))
			case 1:
				m = m[:rng.Intn(len(m)+1)]
			case 2:
				off := rng.Intn(len(m)-1) &^ 3
				binary.NativeEndian.PutUint16(m[off:], uint16(rng.Intn(64)))
			}
		}
		got, want := &conf.Device{}, &conf.Device{}
		gerr := parseDeviceMessage(m, got)
		werr := decoderParseDeviceMessage(m, want)
		if (gerr != nil) != (werr != nil) {
			t.Fatalf("case %d: attrReader: %v, AttributeDecoder: %v\n% x", n, gerr, werr, m)
		}
		if gerr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: attrReader read\n%+v\nAttributeDecoder read\n%+v", n, got, want)
		}
		if gerr != nil {
			failed++
		}
	}
	// Both outcomes must be exercised, or the comparison proves little.
	if failed < 2000 || failed > 18000 {
		t.Errorf("%d of 20000 cases were refused: the damage is too rare or too common to compare both readers", failed)
	}
	t.Logf("%d of 20000 cases refused by both readers, the rest read alike", failed)
}

// extraFields is a reply with the fields getReply leaves out: public and
// preshared keys, fwmark, counters, protocol version, an IPv6 endpoint.
func extraFields(t *testing.T) []byte {
	k7, k8, k9 := testKey(7), testKey(8), testKey(9)
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.WGDEVICE_A_IFNAME, "wg7")
	ae.Bytes(unix.WGDEVICE_A_PUBLIC_KEY, k9[:])
	ae.Uint32(unix.WGDEVICE_A_FWMARK, 0x1234)
	ae.Nested(unix.WGDEVICE_A_PEERS, func(pe *netlink.AttributeEncoder) error {
		pe.Nested(0, func(a *netlink.AttributeEncoder) error {
			a.Bytes(unix.WGPEER_A_PUBLIC_KEY, k8[:])
			a.Bytes(unix.WGPEER_A_PRESHARED_KEY, k7[:])
			a.Uint64(unix.WGPEER_A_RX_BYTES, 123456789)
			a.Uint64(unix.WGPEER_A_TX_BYTES, 987654321)
			a.Uint32(unix.WGPEER_A_PROTOCOL_VERSION, 1)
			a.Bytes(unix.WGPEER_A_ENDPOINT, encodeSockaddr(netip.MustParseAddrPort("[2001:db8::1]:51820")))
			return nil
		})
		return nil
	})
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decoderParseDeviceMessage(data []byte, dev *conf.Device) error {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return err
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.WGDEVICE_A_IFNAME:
			dev.Name = ad.String()
		case unix.WGDEVICE_A_PRIVATE_KEY:
			copy(dev.PrivateKey[:], ad.Bytes())
		case unix.WGDEVICE_A_PUBLIC_KEY:
			copy(dev.PublicKey[:], ad.Bytes())
		case unix.WGDEVICE_A_LISTEN_PORT:
			dev.ListenPort = ad.Uint16()
		case unix.WGDEVICE_A_FWMARK:
			dev.FwMark = ad.Uint32()
		case unix.WGDEVICE_A_PEERS:
			ad.Nested(func(peers *netlink.AttributeDecoder) error {
				for peers.Next() {
					peers.Nested(func(pd *netlink.AttributeDecoder) error {
						return decoderParsePeer(pd, dev)
					})
				}
				return peers.Err()
			})
		}
	}
	return ad.Err()
}

// decoderParsePeer (the code attrReader replaced) reads one peer; a peer whose key repeats the previous one is
// the continuation of a peer split across messages.
func decoderParsePeer(pd *netlink.AttributeDecoder, dev *conf.Device) error {
	var p conf.DevicePeer
	var hasKey bool
	for pd.Next() {
		switch pd.Type() {
		case unix.WGPEER_A_PUBLIC_KEY:
			copy(p.PublicKey[:], pd.Bytes())
			hasKey = true
		case unix.WGPEER_A_PRESHARED_KEY:
			copy(p.PresharedKey[:], pd.Bytes())
		case unix.WGPEER_A_ENDPOINT:
			p.Endpoint = decodeSockaddr(pd.Bytes())
		case unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			p.PersistentKeepalive = pd.Uint16()
		case unix.WGPEER_A_LAST_HANDSHAKE_TIME:
			b := pd.Bytes()
			if len(b) == 16 {
				sec := int64(binary.NativeEndian.Uint64(b[:8]))
				nsec := int64(binary.NativeEndian.Uint64(b[8:]))
				if sec != 0 || nsec != 0 {
					p.LastHandshake = time.Unix(sec, nsec)
				}
			}
		case unix.WGPEER_A_RX_BYTES:
			p.RxBytes = pd.Uint64()
		case unix.WGPEER_A_TX_BYTES:
			p.TxBytes = pd.Uint64()
		case unix.WGPEER_A_PROTOCOL_VERSION:
			p.ProtocolVersion = int(pd.Uint32())
		case unix.WGPEER_A_ALLOWEDIPS:
			pd.Nested(func(list *netlink.AttributeDecoder) error {
				for list.Next() {
					list.Nested(func(ad *netlink.AttributeDecoder) error {
						var ip []byte
						var bits int
						for ad.Next() {
							switch ad.Type() {
							case unix.WGALLOWEDIP_A_IPADDR:
								ip = ad.Bytes()
							case unix.WGALLOWEDIP_A_CIDR_MASK:
								bits = int(ad.Uint8())
							}
						}
						if a, ok := netip.AddrFromSlice(ip); ok {
							p.AllowedIPs = append(p.AllowedIPs, netip.PrefixFrom(a, bits))
						}
						return ad.Err()
					})
				}
				return list.Err()
			})
		}
	}
	if !hasKey {
		return pd.Err()
	}
	if n := len(dev.Peers); n > 0 && dev.Peers[n-1].PublicKey == p.PublicKey {
		last := &dev.Peers[n-1]
		last.AllowedIPs = append(last.AllowedIPs, p.AllowedIPs...)
		return pd.Err()
	}
	dev.Peers = append(dev.Peers, p)
	return pd.Err()
}
