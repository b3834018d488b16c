package firewall

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
)

// Family is an address family of the rules: IPv4 (nftables family ip,
// iptables) or IPv6 (family ip6, ip6tables).
type Family uint8

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// String is the nftables family name: "ip" or "ip6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ip"
	case IPv6:
		return "ip6"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// iptables is the name of the iptables program for the family.
func (f Family) iptables() string {
	if f == IPv6 {
		return "ip6tables"
	}
	return "iptables"
}

// Backend says which kernel interface holds the rules.
type Backend uint8

const (
	// Auto is nftables when the kernel's nf_tables answers over netlink,
	// else iptables.
	Auto Backend = iota
	NFTables
	IPTables
)

// EnvBackend is the environment variable wg-quick reads to force a
// backend (its value goes through ParseBackend).
const EnvBackend = "WG_QUICK_FIREWALL"

// String is the name ParseBackend accepts.
func (b Backend) String() string {
	switch b {
	case Auto:
		return "auto"
	case NFTables:
		return "nftables"
	case IPTables:
		return "iptables"
	}
	return fmt.Sprintf("backend(%d)", uint8(b))
}

// ParseBackend reads a backend name: "" or "auto", "nftables" (or "nft"),
// "iptables".
func ParseBackend(s string) (Backend, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return Auto, nil
	case "nft", "nftables":
		return NFTables, nil
	case "iptables":
		return IPTables, nil
	}
	return Auto, fmt.Errorf("%s=%q: want nftables, iptables or auto", EnvBackend, s)
}

// Spec is what one family's rules protect.
type Spec struct {
	Iface  string // the WireGuard interface
	Family Family
	// Mark is the fwmark of the tunnel's own packets (the routing table
	// number in the reference), saved to and restored from conntrack.
	Mark uint32
	// Addrs are the addresses of Iface in this family, IPv6 link-local
	// ones included, in the order `ip -o addr show dev IFACE` lists them
	// (the kernel's order). One anti-spoofing rule is made for each; zones
	// are ignored.
	Addrs []netip.Addr
}

// TableName is the nftables table of an interface's rules.
func TableName(iface string) string { return "wg-quick-" + iface }

// Marker is the iptables comment that marks an interface's rules.
func Marker(iface string) string { return "wg-quick(8) rule for " + iface }

// check says what is wrong with s, if anything.
func (s Spec) check() error {
	if !conf.ValidInterfaceName(s.Iface) {
		return fmt.Errorf("firewall: invalid interface name %q", s.Iface)
	}
	if s.Family != IPv4 && s.Family != IPv6 {
		return fmt.Errorf("firewall: %s: unknown address family %d", s.Iface, s.Family)
	}
	for _, a := range s.Addrs {
		if !a.IsValid() || (s.Family == IPv4) != a.Is4() {
			return fmt.Errorf("firewall: %s: address %v is not an %s address", s.Iface, a, s.Family)
		}
	}
	return nil
}

// addrs are the spec's addresses without zones.
func (s Spec) addrs() []netip.Addr {
	out := make([]netip.Addr, len(s.Addrs))
	for i, a := range s.Addrs {
		out[i] = a.WithZone("")
	}
	return out
}

// NFTPayload is the text the reference feeds to `nft -f` for s, byte for
// byte (two lines end in a space, as upstream's do).
func NFTPayload(s Spec) string {
	var b strings.Builder
	pf, t := s.Family.String(), TableName(s.Iface)
	fmt.Fprintf(&b, "add table %s %s\n", pf, t)
	fmt.Fprintf(&b, "add chain %s %s preraw { type filter hook prerouting priority -300; }\n", pf, t)
	fmt.Fprintf(&b, "add chain %s %s premangle { type filter hook prerouting priority -150; }\n", pf, t)
	fmt.Fprintf(&b, "add chain %s %s postmangle { type filter hook postrouting priority -150; }\n", pf, t)
	for _, a := range s.addrs() {
		fmt.Fprintf(&b, "add rule %s %s preraw iifname != \"%s\" %s daddr %s fib saddr type != local drop\n", pf, t, s.Iface, pf, a)
	}
	fmt.Fprintf(&b, "add rule %s %s postmangle meta l4proto udp mark %d ct mark set mark \n", pf, t, s.Mark)
	fmt.Fprintf(&b, "add rule %s %s premangle meta l4proto udp meta mark set ct mark \n", pf, t)
	return b.String()
}

// IPTablesPayload is the text the reference feeds to
// `iptables-restore -n` (or ip6tables-restore) for s, byte for byte.
func IPTablesPayload(s Spec) string {
	var b strings.Builder
	table := "raw" // written even when there is no address, as upstream does
	b.WriteString("*raw\n")
	for _, r := range iptablesRules(s) {
		if r.table != table {
			table = r.table
			b.WriteString("COMMIT\n*" + table + "\n")
		}
		b.WriteString("-I " + r.chain + " " + quoteArgs(r.spec) + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// ipRule is one iptables rule: where it goes and its rule specification.
type ipRule struct {
	table, chain string
	spec         []string
}

// iptablesRules are the rules of s in the order the reference inserts
// them (each at the head of its chain).
func iptablesRules(s Spec) []ipRule {
	marker := []string{"-m", "comment", "--comment", Marker(s.Iface)}
	var rules []ipRule
	for _, a := range s.addrs() {
		spec := []string{"!", "-i", s.Iface, "-d", a.String(), "-m", "addrtype", "!", "--src-type", "LOCAL", "-j", "DROP"}
		rules = append(rules, ipRule{"raw", "PREROUTING", append(spec, marker...)})
	}
	save := []string{"-m", "mark", "--mark", fmt.Sprint(s.Mark), "-p", "udp", "-j", "CONNMARK", "--save-mark"}
	restore := []string{"-p", "udp", "-j", "CONNMARK", "--restore-mark"}
	return append(rules,
		ipRule{"mangle", "POSTROUTING", append(save, marker...)},
		ipRule{"mangle", "PREROUTING", append(restore, marker...)})
}

// quoteArgs joins arguments the way iptables-save writes them: an argument
// with a space, a quote or a backslash is put in double quotes, with
// quotes and backslashes escaped.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\"\\'") {
			q[i] = a
			continue
		}
		q[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + `"`
	}
	return strings.Join(q, " ")
}

// splitArgs splits a line of `iptables -S` output into arguments, undoing
// quoteArgs.
func splitArgs(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	in, quoted, escaped := false, false, false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quoted && r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
			in = true
		case !quoted && (r == ' ' || r == '\t'):
			if in {
				args = append(args, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quoted || escaped {
		return nil, fmt.Errorf("unterminated quote in %q", line)
	}
	if in {
		args = append(args, cur.String())
	}
	return args, nil
}
