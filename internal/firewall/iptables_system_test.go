package firewall

import (
	"github.com/gowg/wgtools/internal/testnet"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// iptVariant is an iptables flavour: its programs' suffix.
type iptVariant struct{ name, suffix string }

var iptVariants = []iptVariant{{"nft", ""}, {"legacy", "-legacy"}}

// useVariant puts the variant's programs first in PATH under their plain
// names, for go-iptables (which runs "iptables"/"ip6tables").
func useVariant(t *testing.T, v iptVariant) {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"iptables", "ip6tables"} {
		real, err := exec.LookPath(p + v.suffix)
		if err != nil {
			t.Skipf("%s is not installed", p+v.suffix)
		}
		if err := os.Symlink(real, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	if v.suffix == "" {
		out, _ := exec.Command("iptables", "-V").Output()
		if !strings.Contains(string(out), "nf_tables") {
			t.Skipf("iptables is not iptables-nft: %s", out)
		}
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
}

// withSuffix makes a command line use the variant's program.
func withSuffix(cmd string, v iptVariant) string {
	prog, rest, _ := strings.Cut(cmd, " ")
	return prog + v.suffix + " " + rest
}

// saves is iptables-save and ip6tables-save of the variant.
func (h *host) saves(v iptVariant) string {
	h.t.Helper()
	return h.save("iptables"+v.suffix+"-save") + "--- ip6tables-save\n" + h.save("ip6tables"+v.suffix+"-save")
}

// TestIPTablesReferenceState installs the rules of the reference's
// fulltunnel-iptables case with the iptables backend and compares
// iptables-save, ip6tables-save and nft list ruleset (iptables-nft's
// tables) with the reference's snapshots, after up and after down.
func TestIPTablesReferenceState(t *testing.T) {
	useVariant(t, iptVariants[0])
	h := newHost(t, "fwi")
	v4, v6 := ifaceAddrs(t, "fulltunnel-iptables/A-state-up/ip-addr.txt", "wg0")
	mark := fwmarkOf(t, "fulltunnel-iptables/A-up.stderr")
	fw := h.fw(IPTables)
	for _, s := range []Spec{{"wg0", IPv6, mark, v6}, {"wg0", IPv4, mark, v4}} {
		op, err := fw.PlanInstall(ctx(t), s)
		if err != nil {
			t.Fatal(err)
		}
		if op.String() != restoreLine(s.Family) || op.Payload() != IPTablesPayload(s) {
			t.Errorf("install step %q with payload %q", op, op.Payload())
		}
		if err := op.Do(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	state := func(when string) {
		t.Helper()
		dir := "fulltunnel-iptables/A-state-" + when + "/"
		diff(t, "iptables-save after "+when, h.save("iptables-save"), readRef(t, dir+"iptables-save.txt"))
		diff(t, "ip6tables-save after "+when, h.save("ip6tables-save"), readRef(t, dir+"ip6tables-save.txt"))
		// The capture has nft's warnings (on its stderr) in it.
		ref := regexp.MustCompile(`(?m)^# Warning: table .* is managed by iptables-nft, do not touch!\n`).
			ReplaceAllString(readRef(t, dir+"nft-list-ruleset.txt"), "")
		diff(t, "nft list ruleset after "+when,
			nftCountRE.ReplaceAllString(h.in("", "nft", "list", "ruleset"), "counter packets 0 bytes 0"),
			nftCountRE.ReplaceAllString(ref, "counter packets 0 bytes 0"))
	}
	state("up")
	if ok, err := fw.Present(ctx(t), "wg0"); !ok || err != nil {
		t.Errorf("Present(wg0) = %v, %v after install", ok, err)
	}
	var tr trace
	if err := fw.Remove(ctx(t), "wg0", tr.add); err != nil {
		t.Fatal(err)
	}
	if want := []string{"iptables-restore -n", "ip6tables-restore -n"}; !slices.Equal(tr, want) {
		t.Errorf("removal printed %q, want %q", tr, want)
	}
	state("down")
	if ok, err := fw.Present(ctx(t), "wg0"); ok || err != nil {
		t.Errorf("Present(wg0) = %v, %v after removal", ok, err)
	}
}

// referenceRemoval is what the reference's remove_firewall feeds to
// iptables-restore -n, computed from iptables-save output.
func referenceRemoval(save, iface string) (string, bool) {
	var b strings.Builder
	found := false
	for _, l := range strings.Split(save, "\n") {
		switch {
		case strings.HasPrefix(l, "*"), l == "COMMIT":
		case strings.HasPrefix(l, "-A ") && strings.Contains(l, `-m comment --comment "`+Marker(iface)+`"`):
			found = true
			l = "-D" + l[2:]
		default:
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String(), found
}

// TestIPTablesTwin applies the reference's iptables-restore payloads in
// one namespace and installs the same specs with the iptables backend in a
// twin, both holding other tools' rules; iptables-save must be the same.
// Then the reference's removal (computed from iptables-save as
// remove_firewall does) runs in one and Remove in the other: the same
// payloads, the same tables, and the other tools' rules as they were.
func TestIPTablesTwin(t *testing.T) {
	testnet.Require(t) // before the subtests, so that a skip is not reported as a pass
	golden := payloadBlocks(t, "fulltunnel-payloads/A-iptables-payloads.txt")
	others := []string{
		"iptables -t raw -A PREROUTING -s 198.51.100.0/24 -j DROP",
		"iptables -t mangle -A POSTROUTING -p udp -j MARK --set-mark 7",
		`iptables -t mangle -A PREROUTING -p udp -j CONNMARK --restore-mark -m comment --comment "wg-quick(8) rule for wg1"`,
		`iptables -t mangle -A PREROUTING -p tcp -j ACCEPT -m comment --comment "not wg-quick(8) rule for wg0"`,
		"ip6tables -t raw -A PREROUTING -s 2001:db8::/32 -j DROP",
		"ip6tables -t mangle -N custom",
	}
	// A leftover marked rule in a chain of its own, made after the install
	// (Install would clear it; the reference's install would not).
	leftover := `ip6tables -t mangle -A custom -j RETURN -m comment --comment "wg-quick(8) rule for wg0"`
	for _, v := range iptVariants {
		for _, c := range []struct {
			name  string
			specs []Spec
			texts []string
		}{
			{name: "reference payloads",
				specs: []Spec{specOfPayload(t, golden[0].text), specOfPayload(t, golden[1].text)},
				texts: []string{golden[0].text, golden[1].text}},
			{name: "several addresses",
				specs: []Spec{
					{"wg0", IPv4, 4660, addrs("10.0.0.2", "192.168.50.1", "100.64.0.9")},
					{"wg0", IPv6, 4660, addrs("fd00::2", "2001:db8:5::1", "fe80::1252:f66b:1350:d98e")},
				}},
		} {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				useVariant(t, v)
				ref, ours := newHost(t, "fwr"), newHost(t, "fwo")
				for _, h := range []*host{ref, ours} {
					for _, o := range others {
						h.in("", "sh", "-c", withSuffix(o, v))
					}
				}
				before := ours.saves(v)
				fw := ours.fw(IPTables)
				for i, s := range c.specs {
					text := IPTablesPayload(s)
					if c.texts != nil {
						text = c.texts[i]
					}
					ref.in(text, s.Family.iptables()+v.suffix+"-restore", "-n")
					if err := fw.Install(ctx(t), s); err != nil {
						t.Fatal(err)
					}
				}
				diff(t, "iptables-save after install (ours, then the reference's)", ours.saves(v), ref.saves(v))
				for _, h := range []*host{ref, ours} {
					h.in("", "sh", "-c", withSuffix(leftover, v))
				}

				ops, err := fw.PlanRemove(ctx(t), "wg0")
				if err != nil {
					t.Fatal(err)
				}
				var lines []string
				for _, op := range ops {
					lines = append(lines, op.String())
				}
				if want := []string{"iptables-restore -n", "ip6tables-restore -n"}; !slices.Equal(lines, want) {
					t.Fatalf("removal steps %q, want %q", lines, want)
				}
				for i, f := range []Family{IPv4, IPv6} {
					prog := f.iptables() + v.suffix
					text, found := referenceRemoval(ref.in("", prog+"-save"), "wg0")
					if !found {
						t.Fatalf("the reference's removal finds nothing for %s", prog)
					}
					diff(t, prog+" removal payload (ours, then the reference's)", ops[i].Payload(), text)
					ref.in(text, prog+"-restore", "-n")
				}
				var tr trace
				if err := fw.Remove(ctx(t), "wg0", tr.add); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(tr, lines) {
					t.Errorf("Remove printed %q, planned %q", tr, lines)
				}
				after := ours.saves(v)
				diff(t, "iptables-save after removal (ours, then the reference's)", after, ref.saves(v))
				diff(t, "iptables-save after removal (then before the install)", after, before)
			})
		}
	}
}
