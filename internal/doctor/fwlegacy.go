package doctor

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// legacyChains reads the chains of the legacy iptables tables filter and
// nat (those of tables that exist) with go-iptables, which runs prog.
func legacyChains(prog, fam string, tables []string) ([]Chain, error) {
	proto := iptables.ProtocolIPv4
	if fam == "ip6" {
		proto = iptables.ProtocolIPv6
	}
	t, err := iptables.New(iptables.IPFamily(proto), iptables.Path(prog))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog, err)
	}
	var out []Chain
	for _, table := range []string{"filter", "nat"} {
		if !slices.Contains(tables, table) {
			continue
		}
		names, err := t.ListChains(table)
		if err != nil {
			return nil, fmt.Errorf("%s -t %s -S: %w", prog, table, err)
		}
		for _, name := range names {
			lines, err := t.List(table, name)
			if err != nil {
				return nil, fmt.Errorf("%s -t %s -S %s: %w", prog, table, name, err)
			}
			c := ParseIPTablesChain(fam, table, name, lines)
			c.Prog = filepath.Base(prog)
			out = append(out, c)
		}
	}
	return out, nil
}

// ParseIPTablesChain reads one chain as `iptables -t TABLE -S CHAIN`
// prints it. filter's FORWARD and nat's POSTROUTING are base chains at
// their hooks; the others are regular chains. Matches doctor does not
// evaluate make a rule Unknown.
func ParseIPTablesChain(fam, table, name string, lines []string) Chain {
	c := Chain{Tool: "iptables", Family: fam, Table: table, Name: name, Type: "filter"}
	switch {
	case table == "filter" && name == "FORWARD":
		c.Hook = "forward"
	case table == "nat" && name == "POSTROUTING":
		c.Hook, c.Type, c.Priority = "postrouting", "nat", 100
	case table == "nat":
		c.Type = "nat"
	}
	for _, l := range lines {
		w := splitWords(l)
		switch {
		case len(w) == 3 && w[0] == "-P":
			c.Policy = strings.ToLower(w[2])
		case len(w) >= 2 && w[0] == "-A":
			r := parseIPTablesRule(w[2:])
			r.Text = l
			c.Rules = append(c.Rules, r)
		}
	}
	if c.Hook != "" && c.Policy == "" {
		c.Policy = "accept"
	}
	return c
}

func parseIPTablesRule(w []string) Rule {
	var r Rule
	neg := false
	for i := 0; i < len(w); i++ {
		arg := func() string {
			if i+1 < len(w) {
				i++
				return w[i]
			}
			r.Unknown = true
			return ""
		}
		switch w[i] {
		case "!":
			neg = true
			continue
		case "-i", "-o":
			k := CondIIf
			if w[i] == "-o" {
				k = CondOIf
			}
			n := arg()
			c := Cond{Kind: k, Negate: neg, Name: strings.TrimSuffix(n, "+"), Prefix: strings.HasSuffix(n, "+")}
			r.Conds = append(r.Conds, c)
		case "-s", "-d":
			k := CondSrc
			if w[i] == "-d" {
				k = CondDst
			}
			v := arg()
			p, err := netip.ParsePrefix(v)
			if err != nil {
				a, err2 := netip.ParseAddr(v)
				if err2 != nil {
					r.Unknown = true
					break
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			r.Conds = append(r.Conds, Cond{Kind: k, Negate: neg, Net: p})
		case "-p":
			v := arg()
			proto, ok := map[string]uint8{"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "icmpv6": 58}[v]
			if v != "all" {
				if ok {
					r.Conds = append(r.Conds, Cond{Kind: CondProto, Negate: neg, Proto: proto})
				} else {
					r.Unknown = true
				}
			}
		case "-m":
			switch arg() {
			case "conntrack", "state", "comment":
			default:
				r.Unknown = true
			}
		case "--ctstate", "--state":
			r.Conds = append(r.Conds, Cond{Kind: CondCtState, Negate: neg, States: strings.Split(strings.ToLower(arg()), ",")})
		case "--comment":
			arg()
		case "-j", "-g":
			t := arg()
			kind := VerdictJump
			if w[i-1] == "-g" {
				kind = VerdictGoto
			}
			switch t {
			case "ACCEPT":
				r.Verdict = Verdict{Kind: VerdictAccept}
			case "DROP", "REJECT":
				r.Verdict = Verdict{Kind: VerdictDrop}
			case "RETURN":
				r.Verdict = Verdict{Kind: VerdictReturn}
			case "MASQUERADE":
				r.Verdict = Verdict{Kind: VerdictMasquerade}
			case "SNAT":
				r.Verdict = Verdict{Kind: VerdictSNAT}
			case "LOG", "NFLOG", "TRACE", "MARK", "CONNMARK", "TCPMSS":
			default:
				if strings.ToUpper(t) == t && !strings.Contains(t, "-") && kind == VerdictJump && isTargetName(t) {
					r.Unknown = true // another target (DNAT, NFQUEUE...)
				} else {
					r.Verdict = Verdict{Kind: kind, Chain: t}
				}
			}
			// Options of the target (--to-source ...) follow; they do not
			// change the decision.
			return r
		default:
			if strings.HasPrefix(w[i], "-") {
				r.Unknown = true
			}
		}
		neg = false
	}
	return r
}

// isTargetName: the targets iptables has that doctor does not model.
func isTargetName(t string) bool {
	switch t {
	case "DNAT", "REDIRECT", "NFQUEUE", "QUEUE", "NETMAP", "CT", "NOTRACK", "TPROXY", "CLASSIFY", "DSCP", "TOS", "TTL", "HL", "SECMARK", "CONNSECMARK", "SET", "AUDIT", "CHECKSUM", "IDLETIMER", "LED", "RATEEST", "SYNPROXY", "TEE":
		return true
	}
	return false
}

// splitWords splits an `iptables -S` line into words: double quotes
// group (with \" and \\ inside), as iptables prints comments.
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, have := false, false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case in && ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case ch == '"':
			in, have = !in, true
		case !in && (ch == ' ' || ch == '\t'):
			if have || cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(ch)
		}
	}
	if have || cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
