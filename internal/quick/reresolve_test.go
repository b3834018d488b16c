package quick

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// TestReresolve: of three peers with host name endpoints, the one whose
// name now gives another address and whose handshake is stale is updated
// (one "[#]" line); one with a fresh handshake is left alone and not even
// looked up; one whose address did not change prints nothing; a name that
// does not resolve is reported with its line, and the rest still run.
func TestReresolve(t *testing.T) {
	const text = "[Interface]\nPrivateKey = " + keyAPriv + "\n" +
		"[Peer]\nPublicKey = " + keyBPub + "\nEndpoint = moved.example:51820\nAllowedIPs = 10.0.0.2/32\n" +
		"[Peer]\nPublicKey = " + keyCPub + "\nEndpoint = fresh.example:51820\nAllowedIPs = 10.0.0.3/32\n"
	f := newFakeHost()
	l, err := loadLines(text)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(2_000_000, 0)
	f.addLink("wg0", "tun", 1420)
	old := netip.MustParseAddrPort("192.0.2.10:51820")
	f.devices["wg0"] = &conf.Device{Name: "wg0", Peers: []conf.DevicePeer{
		{PublicKey: mustKey(t, keyBPub), Endpoint: old, LastHandshake: now.Add(-200 * time.Second)},
		{PublicKey: mustKey(t, keyCPub), Endpoint: old, LastHandshake: now.Add(-5 * time.Second)},
	}}
	names := map[string]string{"moved.example": "192.0.2.20"}
	var asked []string
	opts := &conf.Options{Resolver: conf.ResolverFunc(func(h string) (netip.Addr, error) {
		asked = append(asked, h)
		if a, ok := names[h]; ok {
			return netip.MustParseAddr(a), nil
		}
		return netip.Addr{}, &conf.ResolveError{Msg: "Name or service not known", Permanent: true}
	})}
	run := func() int {
		f.stderr.Reset()
		return Reresolve(context.Background(), f.sys(), l, now, opts)
	}
	if code := run(); code != 0 || f.stderr.String() != "[#] wg set wg0 peer "+keyBPub+" endpoint moved.example:51820\n" {
		t.Fatalf("exit %d, stderr:\n%s", code, f.stderr.String())
	}
	if got := f.devices["wg0"].Peers[0].Endpoint.String(); got != "192.0.2.20:51820" {
		t.Errorf("endpoint %s", got)
	}
	if got := f.devices["wg0"].Peers[1].Endpoint; got != old {
		t.Errorf("the fresh peer moved to %s", got)
	}
	if strings.Join(asked, " ") != "moved.example" {
		t.Errorf("looked up %v", asked)
	}
	// Again: nothing changed, nothing printed.
	if code := run(); code != 0 || f.stderr.String() != "" {
		t.Errorf("second run: exit %d, %q", code, f.stderr.String())
	}
	// A name that no longer resolves.
	delete(names, "moved.example")
	if code := run(); code != 1 || f.stderr.String() != "wg-quick: /etc/wireguard/wg0.conf:5: Name or service not known: `moved.example:51820'\n" {
		t.Errorf("unresolvable: exit %d, %q", code, f.stderr.String())
	}
	// Not a WireGuard interface.
	delete(f.devices, "wg0")
	if code := run(); code != 1 || !strings.Contains(f.stderr.String(), "`wg0' is not a WireGuard interface") {
		t.Errorf("no device: exit %d, %q", code, f.stderr.String())
	}
}

// loadLines reads text as wg-quick reresolve does (its lines only).
func loadLines(text string) (*Loaded, error) {
	f, err := conf.ParseQuick("/etc/wireguard/wg0.conf", []byte(text), &conf.Options{StripOnly: true})
	if err != nil {
		return nil, err
	}
	return &Loaded{Interface: "wg0", Path: "/etc/wireguard/wg0.conf", File: f}, nil
}

func mustKey(t *testing.T, s string) conf.Key {
	k, err := conf.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
