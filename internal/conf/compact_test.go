package conf

import (
	"fmt"
	"math/rand"
	"net/netip"
	"testing"
	"time"
)

func randomAddr(r *rand.Rand, zone bool) netip.Addr {
	var x [16]byte
	r.Read(x[:])
	switch r.Intn(3) {
	case 0:
		return netip.AddrFrom4([4]byte(x[:4]))
	case 1:
		if zone {
			return netip.AddrFrom16(x).WithZone(fmt.Sprint("eth", r.Intn(100)))
		}
	}
	return netip.AddrFrom16(x)
}

func randomPeer(r *rand.Rand) Peer {
	var p Peer
	r.Read(p.PublicKey[:])
	p.Remove, p.UpdateOnly, p.ReplaceAllowedIPs = r.Intn(2) == 0, r.Intn(2) == 0, r.Intn(2) == 0
	p.hasPublicKey = true
	if r.Intn(2) == 0 {
		var k Key
		r.Read(k[:])
		p.PresharedKey = &k
	}
	if r.Intn(2) == 0 {
		ep := netip.AddrPortFrom(randomAddr(r, true), uint16(r.Intn(65536)))
		p.Endpoint = &ep
	}
	if r.Intn(2) == 0 {
		ka := uint16(r.Intn(65536))
		p.PersistentKeepalive = &ka
	}
	n := r.Intn(4)
	if r.Intn(50) == 0 {
		n = 5000 // a record larger than a block
	}
	for range n {
		a := randomAddr(r, false)
		p.AllowedIPs = append(p.AllowedIPs, AllowedIP{Prefix: netip.PrefixFrom(a, r.Intn(a.BitLen()+1)), Remove: r.Intn(2) == 0})
	}
	return p
}

// TestPeerList stores random peers and reads them back.
func TestPeerList(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var want []Peer
	var l PeerList
	for range 3000 {
		p := randomPeer(r)
		want = append(want, p)
		l.Add(&p)
	}
	if l.Len() != len(want) {
		t.Fatalf("Len %d, want %d", l.Len(), len(want))
	}
	i := 0
	for p := range l.All() {
		got, exp := (&Config{Peers: []Peer{*p}}), (&Config{Peers: []Peer{want[i]}})
		if describeModel(got) != describeModel(exp) || p.UpdateOnly != want[i].UpdateOnly {
			t.Fatalf("peer %d:\n got %s\nwant %s", i, describeModel(got), describeModel(exp))
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%d peers read back, want %d", i, len(want))
	}
	l.Wipe()
	for _, b := range l.r.blocks {
		for _, c := range b[:cap(b)] {
			if c != 0 {
				t.Fatal("Wipe left bytes behind")
			}
		}
	}
}

// TestDevicePeerList stores random device peers and reads them back, in
// order and by position.
func TestDevicePeerList(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	var want []DevicePeer
	var pos []Pos
	var l DevicePeerList
	for range 3000 {
		q := randomPeer(r)
		p := DevicePeer{PublicKey: q.PublicKey, RxBytes: r.Uint64() >> r.Intn(64), TxBytes: r.Uint64() >> r.Intn(64), ProtocolVersion: r.Intn(3)}
		if q.PresharedKey != nil {
			p.PresharedKey = *q.PresharedKey
		}
		if q.Endpoint != nil {
			p.Endpoint = *q.Endpoint
		}
		if q.PersistentKeepalive != nil {
			p.PersistentKeepalive = *q.PersistentKeepalive
		}
		if r.Intn(2) == 0 {
			p.LastHandshake = time.Unix(r.Int63n(1<<40)-1<<39, r.Int63n(1e9))
		}
		for _, a := range q.AllowedIPs {
			p.AllowedIPs = append(p.AllowedIPs, a.Prefix)
		}
		want = append(want, p)
		pos = append(pos, l.Add(&p))
	}
	same := func(a, b *DevicePeer) bool {
		return fmt.Sprint(a.PublicKey, a.PresharedKey, a.Endpoint, a.PersistentKeepalive, a.LastHandshake.UnixNano(), a.LastHandshake.IsZero(), a.RxBytes, a.TxBytes, a.ProtocolVersion, a.AllowedIPs) ==
			fmt.Sprint(b.PublicKey, b.PresharedKey, b.Endpoint, b.PersistentKeepalive, b.LastHandshake.UnixNano(), b.LastHandshake.IsZero(), b.RxBytes, b.TxBytes, b.ProtocolVersion, b.AllowedIPs)
	}
	rd := l.Reader()
	i := 0
	for at, p := range rd.All() {
		if at != pos[i] || !same(p, &want[i]) {
			t.Fatalf("peer %d at %v (want %v):\n got %+v\nwant %+v", i, at, pos[i], p, want[i])
		}
		i++
	}
	if i != len(want) || l.Len() != len(want) {
		t.Fatalf("%d peers read back (Len %d), want %d", i, l.Len(), len(want))
	}
	for _, j := range r.Perm(len(want)) {
		if p := rd.At(pos[j]); !same(p, &want[j]) {
			t.Fatalf("At(%v): got %+v, want %+v", pos[j], p, want[j])
		}
	}
}
