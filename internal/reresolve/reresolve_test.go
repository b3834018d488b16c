package reresolve

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

const (
	keyA = "yPZlBuHuQeafSkgriHZSeXcGnIqGXn06bI3aKUPCG2Y="
	keyB = "mHm+DSndWxeV/HZrhHRdnEzVDwWi4tZSfoMgRrBI2Gk="
	keyC = "t/i5QINIEuQB6d1cO5nyJdPbRe8vaS5Y2c4102TsJmI="
	keyD = "3t5+od3wsnsd4YTyZ0Or3jg7n9MG8+YIxadu168puCA="
)

func key(s string) conf.Key {
	k, err := conf.ParseKey(s)
	if err != nil {
		panic(err)
	}
	return k
}

func lines(text string) []conf.NumberedLine {
	var out []conf.NumberedLine
	for i, l := range strings.Split(text, "\n") {
		out = append(out, conf.NumberedLine{N: i + 1, Text: l})
	}
	return out
}

func TestFileEndpoints(t *testing.T) {
	text := "[Interface]\nPrivateKey = x\nEndpoint = not.a.peer:1\n" +
		"[Peer]\nPublicKey = " + keyA + "\nEndpoint = gw.example:51820 # the gateway\n" +
		"[Peer]\nPublicKey = " + keyB + "\n" + // no endpoint
		"[ peer ]\nendpoint= [fd00::1]:51820\npublickey =" + keyC + "\n" +
		"[Peer]\nPublicKey = not-a-key\nEndpoint = 192.0.2.1:1\n"
	got := FileEndpoints(lines(text))
	want := []Endpoint{
		{PublicKey: key(keyA), Text: "gw.example:51820", Line: 6},
		{PublicKey: key(keyC), Text: "[fd00::1]:51820", Line: 10},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestDueAndChanged(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	ep := netip.MustParseAddrPort("192.0.2.1:51820")
	dev := &conf.Device{Peers: []conf.DevicePeer{
		{PublicKey: key(keyA), Endpoint: ep, LastHandshake: now.Add(-10 * time.Second)}, // fresh
		{PublicKey: key(keyB), Endpoint: ep, LastHandshake: now.Add(-136 * time.Second)},
		{PublicKey: key(keyC), Endpoint: ep},                                             // never
		{PublicKey: key(keyD), Endpoint: ep, LastHandshake: now.Add(-135 * time.Second)}, // not older than 135 s
	}}
	var eps []Endpoint
	for _, k := range []string{keyA, keyB, keyC, keyD, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="} {
		eps = append(eps, Endpoint{PublicKey: key(k), Text: "h:1"})
	}
	due := Due(eps, dev, now)
	var names []string
	for _, e := range due {
		names = append(names, e.PublicKey.String())
	}
	if strings.Join(names, " ") != keyB+" "+keyC {
		t.Errorf("due: %v", names)
	}
	if Changed(dev, key(keyB), ep) || !Changed(dev, key(keyB), netip.MustParseAddrPort("192.0.2.2:51820")) ||
		!Changed(dev, key(keyB), netip.MustParseAddrPort("192.0.2.1:51821")) {
		t.Error("Changed")
	}
	c := Change{Iface: "wg0", Peer: Endpoint{PublicKey: key(keyB), Text: "gw.example:51820"}}
	if c.String() != "wg set wg0 peer "+keyB+" endpoint gw.example:51820" {
		t.Errorf("line: %s", c)
	}
}
