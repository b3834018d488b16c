package doctor

import (
	"fmt"
	"net/netip"
	"strings"
)

// Firewall is the part of the host's packet filter that decides whether a
// forwarded packet passes and whether it leaves with its source rewritten:
// the chains on the forward hook (filter) and the postrouting hook (nat),
// with the chains they jump to, from nftables and from iptables (legacy or
// nft) alike.
type Firewall struct {
	Chains []Chain
	// Tool is what the fixes should use: "iptables" when iptables is what
	// this host's rules are made with (or none are, and iptables is
	// installed), else "nft".
	Tool string
}

// Chain is one chain. Base chains have a Hook; the others are reached by
// jump or goto from a rule of the same table.
type Chain struct {
	// Tool is "iptables" for chains made by iptables (legacy, or the
	// tables iptables-nft manages), "nft" for nftables' own.
	Tool string
	// Prog is the program that manages an iptables chain: iptables or
	// ip6tables, or iptables-legacy and ip6tables-legacy for the legacy
	// tables (empty: derived from Family).
	Prog string
	// Family is the nftables family: ip, ip6 or inet (iptables: ip or ip6).
	Family   string
	Table    string
	Name     string
	Hook     string // "forward", "postrouting", or "" for a regular chain
	Type     string // "filter" or "nat"
	Priority int
	// Policy is "accept" or "drop" for a base chain.
	Policy string
	Rules  []Rule
}

// ID names a chain as its tool does ("iptables -t nat POSTROUTING",
// "nft table inet filter chain forward").
func (c *Chain) ID() string {
	if c.Tool == "iptables" {
		prog := c.prog()
		if c.Table == "filter" {
			return prog + " chain " + c.Name
		}
		return prog + " -t " + c.Table + " chain " + c.Name
	}
	return fmt.Sprintf("nft table %s %s chain %s", c.Family, c.Table, c.Name)
}

// prog is the program that manages an iptables chain.
func (c *Chain) prog() string {
	if c.Prog != "" {
		return c.Prog
	}
	if c.Family == "ip6" {
		return "ip6tables"
	}
	return "iptables"
}

// iptablesProg is the program new iptables rules of family fam (4, 6)
// should be made with: the one that manages this host's iptables chains
// of that family, else iptables or ip6tables.
func (fw *Firewall) iptablesProg(fam int) string {
	want := "ip"
	if fam == 6 {
		want = "ip6"
	}
	if fw != nil {
		for i := range fw.Chains {
			if c := &fw.Chains[i]; c.Tool == "iptables" && c.Family == want && c.Prog != "" {
				return c.Prog
			}
		}
	}
	return (&Chain{Family: want}).prog()
}

// Rule is a rule as doctor understands it: conditions that must all hold,
// and what happens then.
type Rule struct {
	// Text is the rule as its tool prints it (for the evidence).
	Text  string
	Conds []Cond
	// Unknown is set when the rule has a condition doctor cannot evaluate:
	// it may or may not match.
	Unknown bool
	Verdict Verdict
}

// VerdictKind is what a matching rule does.
type VerdictKind string

// The verdicts doctor knows; VerdictNone is a rule that only counts or
// logs.
const (
	VerdictNone       VerdictKind = ""
	VerdictAccept     VerdictKind = "accept"
	VerdictDrop       VerdictKind = "drop" // drop or reject
	VerdictJump       VerdictKind = "jump"
	VerdictGoto       VerdictKind = "goto"
	VerdictReturn     VerdictKind = "return"
	VerdictMasquerade VerdictKind = "masquerade"
	VerdictSNAT       VerdictKind = "snat"
)

// Verdict is a rule's verdict; Chain is the target of a jump or goto.
type Verdict struct {
	Kind  VerdictKind
	Chain string
}

// CondKind is what a condition looks at.
type CondKind string

// The conditions doctor evaluates.
const (
	CondIIf     CondKind = "iif"     // input interface name
	CondOIf     CondKind = "oif"     // output interface name
	CondSrc     CondKind = "src"     // source address in Net
	CondDst     CondKind = "dst"     // destination address in Net
	CondCtState CondKind = "ctstate" // conntrack state in States
	CondProto   CondKind = "proto"   // layer 4 protocol
	CondFamily  CondKind = "family"  // 4 or 6 (inet tables' meta nfproto)
)

// Cond is one condition of a rule.
type Cond struct {
	Kind   CondKind
	Negate bool
	// Name is an interface name; with Prefix, a name prefix (iptables'
	// "wg+", nft's "wg*").
	Name   string
	Prefix bool
	Net    netip.Prefix
	// States are conntrack states (new, established, related, invalid,
	// untracked): the condition holds when the packet's is one of them.
	States []string
	Proto  uint8
	Family int
}

// Packet is what the evaluation asks about.
type Packet struct {
	Family   int // 4 or 6
	IIf, OIf string
	Src, Dst netip.Addr
	Proto    uint8
	// CtState is the packet's conntrack state: "new" for the first packet
	// of a flow, "established" for the replies.
	CtState string
}

// tri is a three-valued truth: a condition doctor cannot evaluate is
// maybe.
type tri int

const (
	no tri = iota
	maybe
	yes
)

func (c Cond) eval(p Packet) tri {
	var t bool
	switch c.Kind {
	case CondIIf:
		t = nameMatch(c, p.IIf)
	case CondOIf:
		t = nameMatch(c, p.OIf)
	case CondSrc:
		t = c.Net.IsValid() && p.Src.IsValid() && c.Net.Contains(p.Src)
	case CondDst:
		t = c.Net.IsValid() && p.Dst.IsValid() && c.Net.Contains(p.Dst)
	case CondCtState:
		for _, s := range c.States {
			t = t || s == p.CtState
		}
	case CondProto:
		if p.Proto == 0 {
			return maybe
		}
		t = c.Proto == p.Proto
	case CondFamily:
		t = c.Family == p.Family
	default:
		return maybe
	}
	if c.Negate {
		t = !t
	}
	if t {
		return yes
	}
	return no
}

func nameMatch(c Cond, name string) bool {
	if c.Prefix {
		return strings.HasPrefix(name, c.Name)
	}
	return name == c.Name
}

func (r *Rule) matches(p Packet) tri {
	out := yes
	for _, c := range r.Conds {
		switch c.eval(p) {
		case no:
			return no
		case maybe:
			out = maybe
		}
	}
	if r.Unknown && out == yes {
		out = maybe
	}
	return out
}

// Outcome is what one hook does with a packet.
type Outcome struct {
	// Result is "accept" or "drop" on the forward hook; "masquerade",
	// "snat" or "accept" (leaves unchanged) on the nat hook.
	Result VerdictKind
	// Sure is false when a rule doctor could not evaluate might have
	// changed the result.
	Sure bool
	// Chain and Rule say where the result was decided (Rule is "" when it
	// was the chain's policy).
	Chain *Chain
	Rule  string
}

// Forward is what the forward hook does with p: every base chain of the
// packet's family on that hook, in priority order; the first that drops
// decides.
func (fw *Firewall) Forward(p Packet) Outcome {
	out := Outcome{Result: VerdictAccept, Sure: true}
	for _, c := range fw.base("forward", p.Family) {
		o := fw.run(c, p)
		if !o.Sure {
			out.Sure = false
		}
		if o.Result == VerdictDrop {
			o.Sure = o.Sure && out.Sure
			return o
		}
	}
	return out
}

// SourceNAT is what the nat postrouting hook does with p: masquerade or
// snat from the first chain that rewrites it, else accept.
func (fw *Firewall) SourceNAT(p Packet) Outcome {
	out := Outcome{Result: VerdictAccept, Sure: true}
	for _, c := range fw.base("postrouting", p.Family) {
		if c.Type != "nat" {
			continue
		}
		o := fw.run(c, p)
		if !o.Sure {
			out.Sure = false
		}
		if o.Result == VerdictMasquerade || o.Result == VerdictSNAT {
			o.Sure = o.Sure && out.Sure
			return o
		}
	}
	return out
}

// base lists the base chains on hook that see packets of family fam, in
// priority order (stable: the order read for equal priorities).
func (fw *Firewall) base(hook string, fam int) []*Chain {
	var out []*Chain
	for i := range fw.Chains {
		c := &fw.Chains[i]
		if c.Hook != hook || !familySees(c.Family, fam) {
			continue
		}
		j := len(out)
		for j > 0 && out[j-1].Priority > c.Priority {
			j--
		}
		out = append(out, nil)
		copy(out[j+1:], out[j:])
		out[j] = c
	}
	return out
}

func familySees(family string, fam int) bool {
	switch family {
	case "inet":
		return true
	case "ip6":
		return fam == 6
	}
	return fam == 4
}

func (fw *Firewall) chain(like *Chain, name string) *Chain {
	for i := range fw.Chains {
		c := &fw.Chains[i]
		if c.Name == name && c.Table == like.Table && c.Family == like.Family && c.Tool == like.Tool {
			return c
		}
	}
	return nil
}

// maxDepth bounds jumps (the kernel refuses loops; a bad snapshot must not
// hang doctor).
const maxDepth = 16

// run walks a base chain with p: the first rule that surely matches and
// decides wins; a rule that may match makes the result unsure.
func (fw *Firewall) run(base *Chain, p Packet) Outcome {
	sure := true
	v, c, rule, ok := fw.walk(base, p, &sure, 0)
	if !ok {
		pol := VerdictKind(base.Policy)
		if base.Type == "nat" || pol == "" {
			pol = VerdictAccept
		}
		return Outcome{Result: pol, Sure: sure, Chain: base}
	}
	return Outcome{Result: v, Sure: sure, Chain: c, Rule: rule}
}

// walk returns the deciding verdict of chain c (ok false when the chain
// ends or returns without one).
func (fw *Firewall) walk(c *Chain, p Packet, sure *bool, depth int) (VerdictKind, *Chain, string, bool) {
	if depth > maxDepth {
		*sure = false
		return "", nil, "", false
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		m := r.matches(p)
		if m == no {
			continue
		}
		if m == maybe {
			if r.Verdict.Kind != VerdictNone {
				*sure = false
			}
			continue
		}
		switch r.Verdict.Kind {
		case VerdictNone:
			continue
		case VerdictReturn:
			return "", nil, "", false
		case VerdictJump, VerdictGoto:
			next := fw.chain(c, r.Verdict.Chain)
			if next == nil {
				*sure = false
				continue
			}
			if v, dc, dr, ok := fw.walk(next, p, sure, depth+1); ok {
				return v, dc, dr, true
			}
			if r.Verdict.Kind == VerdictGoto {
				return "", nil, "", false
			}
		default:
			return r.Verdict.Kind, c, r.Text, true
		}
	}
	return "", nil, "", false
}
