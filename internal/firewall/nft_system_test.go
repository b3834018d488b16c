package firewall

import (
	"github.com/gowg/wgtools/internal/testnet"
	"net/netip"
	"slices"
	"testing"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// TestNFTablesReferenceState installs the rules of the reference's
// fulltunnel-nft case (the addresses of its wg0, link-local included) and
// compares `nft list ruleset` with the reference's snapshot after its up,
// then removes them and compares with the snapshot after its down.
func TestNFTablesReferenceState(t *testing.T) {
	h := newHost(t, "fwn")
	v4, v6 := ifaceAddrs(t, "fulltunnel-nft/A-state-up/ip-addr.txt", "wg0")
	mark := fwmarkOf(t, "fulltunnel-nft/A-up.stderr")
	fw := h.fw(Auto)
	if b, err := fw.Backend(ctx(t)); err != nil || b != NFTables {
		t.Fatalf("Backend() = %v, %v; this kernel has nf_tables", b, err)
	}
	// The reference handles ::/0 before 0.0.0.0/0.
	for _, s := range []Spec{{"wg0", IPv6, mark, v6}, {"wg0", IPv4, mark, v4}} {
		op, err := fw.PlanInstall(ctx(t), s)
		if err != nil {
			t.Fatal(err)
		}
		if op.String() != "nft -f /dev/fd/63" || op.Payload() != NFTPayload(s) {
			t.Errorf("install step %q with payload %q", op, op.Payload())
		}
		if err := op.Do(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	diff(t, "nft list ruleset after up", h.in("", "nft", "list", "ruleset"), readRef(t, "fulltunnel-nft/A-state-up/nft-list-ruleset.txt"))
	diff(t, "iptables-save after up", h.save("iptables-save"), readRef(t, "fulltunnel-nft/A-state-up/iptables-save.txt"))
	diff(t, "ip6tables-save after up", h.save("ip6tables-save"), readRef(t, "fulltunnel-nft/A-state-up/ip6tables-save.txt"))
	if ok, err := fw.Present(ctx(t), "wg0"); !ok || err != nil {
		t.Errorf("Present(wg0) = %v, %v after install", ok, err)
	}
	if ok, err := fw.Present(ctx(t), "wg1"); ok || err != nil {
		t.Errorf("Present(wg1) = %v, %v", ok, err)
	}

	ops, err := fw.PlanRemove(ctx(t), "wg0")
	if err != nil || len(ops) != 1 {
		t.Fatalf("PlanRemove: %v, %v", ops, err)
	}
	down := payloadBlocks(t, "fulltunnel-payloads/A-nft-payloads.txt")[2]
	if ops[0].String() != down.cmd || ops[0].Payload() != down.text {
		t.Errorf("removal step %q %q, reference %q %q", ops[0], ops[0].Payload(), down.cmd, down.text)
	}
	var tr trace
	if err := fw.Remove(ctx(t), "wg0", tr.add); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr, []string{"nft -f /dev/fd/63"}) {
		t.Errorf("removal printed %q", tr)
	}
	diff(t, "nft list ruleset after down", h.in("", "nft", "list", "ruleset"), readRef(t, "fulltunnel-nft/A-state-down/nft-list-ruleset.txt"))
	if ok, err := fw.Present(ctx(t), "wg0"); ok || err != nil {
		t.Errorf("Present(wg0) = %v, %v after removal", ok, err)
	}
	// A second down finds nothing and prints nothing.
	tr = nil
	if err := fw.Remove(ctx(t), "wg0", tr.add); err != nil || len(tr) != 0 {
		t.Errorf("second removal: %v, printed %q", err, tr)
	}
}

// TestNFTablesTwin applies the reference's nft payloads with nft -f in one
// namespace and installs the same specs with Install in a twin; nft must
// show the same rulesets (handles masked), in all of its views. Removal
// (after deleting the interface) must leave the twins equal again, other
// tables kept.
func TestNFTablesTwin(t *testing.T) {
	testnet.Require(t) // before the subtests, so that a skip is not reported as a pass
	golden := payloadBlocks(t, "fulltunnel-payloads/A-nft-payloads.txt")
	cases := []struct {
		name   string
		specs  []Spec
		texts  []string // the reference's payloads; NFTPayload when nil
		others string   // other tools' rules present in both twins
	}{
		{name: "reference payloads",
			specs: []Spec{specOfPayload(t, golden[0].text), specOfPayload(t, golden[1].text)},
			texts: []string{golden[0].text, golden[1].text}},
		{name: "several addresses",
			specs: []Spec{
				{"wg7", IPv6, 4660, addrs("fd00::2", "2001:db8:5::1", "fe80::1252:f66b:1350:d98e")},
				{"wg7", IPv4, 4660, addrs("10.0.0.2", "192.168.50.1", "100.64.0.9")},
			},
			others: "add table inet filter\nadd chain inet filter input { type filter hook input priority 0; }\n" +
				"add rule inet filter input tcp dport 22 accept\nadd table ip wg-quick-wg1\nadd chain ip wg-quick-wg1 preraw\n"},
		{name: "v4 only, no address",
			specs: []Spec{{"wg.x-1", IPv4, 1, nil}}},
		{name: "v6 only, link-local only, large mark",
			specs: []Spec{{"a", IPv6, 0xffffffff, addrs("fe80::1")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref, ours := newHost(t, "fwr"), newHost(t, "fwo")
			if c.others != "" {
				ref.in(c.others, "nft", "-f", "-")
				ours.in(c.others, "nft", "-f", "-")
			}
			iface := c.specs[0].Iface
			ours.MustRun("ip", "link", "add", "name", iface, "type", "veth", "peer", "name", "peer0")
			fw := ours.fw(NFTables)
			for i, s := range c.specs {
				text := NFTPayload(s)
				if c.texts != nil {
					text = c.texts[i]
				}
				ref.in(text, "nft", "-f", "-")
				if err := fw.Install(ctx(t), s); err != nil {
					t.Fatal(err)
				}
			}
			compareNFT(t, ours, ref)

			ours.MustRun("ip", "link", "del", "dev", iface)
			ops, err := fw.PlanRemove(ctx(t), iface)
			if err != nil || len(ops) != 1 {
				t.Fatalf("PlanRemove: %v %v", ops, err)
			}
			var tr trace
			if err := fw.Remove(ctx(t), iface, tr.add); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tr, []string{"nft -f /dev/fd/63"}) {
				t.Errorf("removal printed %q", tr)
			}
			ref.in(ops[0].Payload(), "nft", "-f", "-")
			compareNFT(t, ours, ref)
			if got, want := ours.in("", "nft", "list", "ruleset") == "", c.others == ""; got != want {
				t.Errorf("ruleset empty after removal: %v, want %v", got, want)
			}
		})
	}
}

func compareNFT(t *testing.T, ours, ref *host) {
	t.Helper()
	o, r := ours.nftViews(), ref.nftViews()
	for view := range r {
		diff(t, "nft "+view+" (ours, then the reference's)", o[view], r[view])
	}
}

// TestNFTablesReinstall: installing again (a crash left the table) gives
// the rules of the new spec only, not the old ones plus the new.
func TestNFTablesReinstall(t *testing.T) {
	ref, ours := newHost(t, "fwr"), newHost(t, "fwo")
	fw := ours.fw(NFTables)
	old := Spec{"wg0", IPv4, 51820, addrs("10.0.0.9", "10.0.0.8")}
	s := Spec{"wg0", IPv4, 51821, addrs("10.0.0.2")}
	for _, x := range []Spec{old, s} {
		if err := fw.Install(ctx(t), x); err != nil {
			t.Fatal(err)
		}
	}
	ref.in(NFTPayload(s), "nft", "-f", "-")
	compareNFT(t, ours, ref)
}

// TestNFTablesNameNftCannotParse: names wg-quick accepts but nft's grammar
// does not (the reference's `nft -f` fails on them) work over netlink.
func TestNFTablesNameNftCannotParse(t *testing.T) {
	h := newHost(t, "fwn")
	fw := h.fw(NFTables)
	s := Spec{"wg+1=", IPv4, 5, addrs("10.1.1.1")}
	if r := h.Run("sh", "-c", "printf '%s' \"$0\" | nft -f -", NFTPayload(s)); r.Code == 0 {
		t.Logf("nft accepted %q", s.Iface)
	}
	if err := fw.Install(ctx(t), s); err != nil {
		t.Fatal(err)
	}
	if ok, err := fw.Present(ctx(t), s.Iface); !ok || err != nil {
		t.Fatalf("Present = %v %v", ok, err)
	}
	if err := fw.Remove(ctx(t), s.Iface, nil); err != nil {
		t.Fatal(err)
	}
	if out := h.in("", "nft", "list", "ruleset"); out != "" {
		t.Errorf("left: %s", out)
	}
}
