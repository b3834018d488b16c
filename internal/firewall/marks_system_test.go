package firewall

import (
	"slices"
	"testing"
)

// TestMarks: the mark of an interface's rules is read back from whichever
// kind holds them, made by us or (nft -f of the reference's payload) by
// the reference; another interface's rules and other tables are not
// looked at as its.
func TestMarks(t *testing.T) {
	h := newHost(t, "fwm")
	fw := h.fw(Auto)
	marks := func(iface string) []uint32 {
		t.Helper()
		m, err := fw.Marks(ctx(t), iface)
		if err != nil {
			t.Fatalf("Marks(%s): %v", iface, err)
		}
		return m
	}
	if m := marks("wg0"); len(m) != 0 {
		t.Errorf("Marks before any rule: %v", m)
	}
	// Ours, nftables, both families; another interface, iptables.
	for _, s := range []Spec{{"wg0", IPv6, 51820, addrs("fd00::2")}, {"wg0", IPv4, 51820, addrs("10.0.0.2")}} {
		if err := fw.Install(ctx(t), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.fw(IPTables).Install(ctx(t), Spec{"wg1", IPv4, 4660, addrs("10.0.1.2")}); err != nil {
		t.Fatal(err)
	}
	// The reference's own table for a third interface.
	h.in("add table ip wg-quick-wg2\nadd chain ip wg-quick-wg2 postmangle { type filter hook postrouting priority -150; }\n"+
		"add rule ip wg-quick-wg2 postmangle meta l4proto udp mark 51822 ct mark set mark \n", "nft", "-f", "-")
	// Something else's table of a similar name.
	h.in("add table ip wg-quick-wg3\n", "nft", "-f", "-")
	for iface, want := range map[string][]uint32{"wg0": {51820}, "wg1": {4660}, "wg2": {51822}, "wg3": nil, "wg4": nil} {
		if got := marks(iface); !slices.Equal(got, want) {
			t.Errorf("Marks(%s) = %v, want %v", iface, got, want)
		}
	}
	if err := fw.Remove(ctx(t), "wg0", nil); err != nil {
		t.Fatal(err)
	}
	if m := marks("wg0"); len(m) != 0 {
		t.Errorf("Marks after removal: %v", m)
	}
	if _, err := fw.Marks(ctx(t), "bad/name"); err == nil {
		t.Error("Marks of an invalid name: no error")
	}
}
