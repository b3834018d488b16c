package doctor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"os"
	"os/exec"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"github.com/gowg/wgtools/internal/firewall"
	"golang.org/x/sys/unix"
)

// ReadFirewall reads the forward and nat postrouting chains of the
// current network namespace, with the chains they reach: nf_tables over
// netlink (which holds iptables-nft's tables too), and the legacy
// iptables tables through iptables itself where the kernel has any.
func ReadFirewall() (*Firewall, error) {
	fw := &Firewall{}
	if err := readNFT(fw); err != nil {
		return nil, err
	}
	if err := readLegacy(fw); err != nil {
		return nil, err
	}
	fw.Tool = "nft"
	haveNFT := false
	for _, c := range fw.Chains {
		if c.Tool == "iptables" {
			fw.Tool = "iptables"
		} else {
			haveNFT = true
		}
	}
	if !haveNFT {
		if _, err := exec.LookPath("iptables"); err == nil {
			fw.Tool = "iptables"
		}
	}
	return fw, nil
}

// iptablesTables are the names iptables-nft gives its tables.
var iptablesTables = map[string]bool{"filter": true, "nat": true, "mangle": true, "raw": true, "security": true}

func readNFT(fw *Firewall) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	chains, err := c.ListChains()
	if err != nil {
		if isNoNFT(err) {
			return nil
		}
		return fmt.Errorf("nftables: listing chains: %w", err)
	}
	// A table iptables-nft manages has the built-in chains in capitals.
	ipt := map[string]bool{}
	for _, ch := range chains {
		t := ch.Table
		if (t.Family == nftables.TableFamilyIPv4 || t.Family == nftables.TableFamilyIPv6) && iptablesTables[t.Name] &&
			(ch.Name == "FORWARD" || ch.Name == "POSTROUTING" || ch.Name == "INPUT" || ch.Name == "OUTPUT" || ch.Name == "PREROUTING") {
			ipt[tableKey(t)] = true
		}
	}
	for _, ch := range chains {
		t := ch.Table
		switch t.Family {
		case nftables.TableFamilyIPv4, nftables.TableFamilyIPv6, nftables.TableFamilyINet:
		default:
			continue // the chains doctor reads are IP chains
		}
		fam := firewall.FamilyName(t.Family)
		out := Chain{Tool: "nft", Family: fam, Table: t.Name, Name: ch.Name, Type: string(ch.Type)}
		if ipt[tableKey(t)] {
			out.Tool = "iptables"
		}
		if ch.Hooknum != nil {
			switch *ch.Hooknum {
			case *nftables.ChainHookForward:
				out.Hook = "forward"
			case *nftables.ChainHookPostrouting:
				out.Hook = "postrouting"
			default:
				continue // other hooks do not decide forwarding
			}
			if ch.Priority != nil {
				out.Priority = int(*ch.Priority)
			}
			out.Policy = "accept"
			if ch.Policy != nil && *ch.Policy == nftables.ChainPolicyDrop {
				out.Policy = "drop"
			}
		}
		rules, err := c.GetRules(t, ch)
		if err != nil {
			return fmt.Errorf("nftables: listing the rules of %s %s %s: %w", fam, t.Name, ch.Name, err)
		}
		for _, r := range rules {
			out.Rules = append(out.Rules, nftRule(out.Tool, fam, r.Exprs))
		}
		fw.Chains = append(fw.Chains, out)
	}
	return nil
}

func isNoNFT(err error) bool {
	for _, e := range []error{unix.EPROTONOSUPPORT, unix.EAFNOSUPPORT, unix.EOPNOTSUPP, unix.ENOENT} {
		if strings.Contains(err.Error(), e.Error()) {
			return true
		}
	}
	return false
}

func tableKey(t *nftables.Table) string { return fmt.Sprintf("%d/%s", t.Family, t.Name) }

// register is what an nftables register holds while a rule is read.
type register struct {
	what string // iifname, oifname, saddr, daddr, ctstate, l4proto, nfproto
	len  int
	mask []byte
}

// nftRule turns a rule's expressions into conditions and a verdict.
// Expressions it does not know make the rule Unknown; counters, logs and
// comments are skipped.
func nftRule(tool, fam string, exprs []expr.Any) Rule {
	var r Rule
	regs := map[uint32]register{}
	ruleFam := 0
	switch fam {
	case "ip":
		ruleFam = 4
	case "ip6":
		ruleFam = 6
	}
	for _, e := range exprs {
		switch e := e.(type) {
		case *expr.Meta:
			if e.SourceRegister {
				r.Unknown = true
				continue
			}
			switch e.Key {
			case expr.MetaKeyIIFNAME:
				regs[e.Register] = register{what: "iifname"}
			case expr.MetaKeyOIFNAME:
				regs[e.Register] = register{what: "oifname"}
			case expr.MetaKeyL4PROTO:
				regs[e.Register] = register{what: "l4proto"}
			case expr.MetaKeyNFPROTO:
				regs[e.Register] = register{what: "nfproto"}
			default:
				regs[e.Register] = register{what: "?"}
			}
		case *expr.Payload:
			reg := register{what: "?", len: int(e.Len)}
			if e.OperationType == expr.PayloadLoad && e.Base == expr.PayloadBaseNetworkHeader {
				switch {
				case ruleFam == 4 && e.Offset == 12 && e.Len <= 4:
					reg.what = "saddr"
				case ruleFam == 4 && e.Offset == 16 && e.Len <= 4:
					reg.what = "daddr"
				case ruleFam == 6 && e.Offset == 8 && e.Len <= 16:
					reg.what = "saddr"
				case ruleFam == 6 && e.Offset == 24 && e.Len <= 16:
					reg.what = "daddr"
				}
			}
			regs[e.DestRegister] = reg
		case *expr.Ct:
			if e.Key == expr.CtKeySTATE && !e.SourceRegister {
				regs[e.Register] = register{what: "ctstate"}
			} else {
				regs[e.Register] = register{what: "?"}
			}
		case *expr.Bitwise:
			reg := regs[e.SourceRegister]
			if !bytes.Equal(e.Xor, make([]byte, len(e.Xor))) {
				reg.what = "?"
			}
			reg.mask = e.Mask
			regs[e.DestRegister] = reg
		case *expr.Cmp:
			c, ok := cmpCond(regs[e.Register], e, ruleFam)
			if !ok {
				r.Unknown = true
				continue
			}
			if c.Kind == CondFamily {
				ruleFam = c.Family
			}
			r.Conds = append(r.Conds, c)
		case *expr.Counter, *expr.Log:
		case *expr.Match:
			c, ok, skip := xtMatch(e)
			switch {
			case skip:
			case ok:
				r.Conds = append(r.Conds, c)
			default:
				r.Unknown = true
			}
		case *expr.Target:
			switch e.Name {
			case "MASQUERADE":
				r.Verdict = Verdict{Kind: VerdictMasquerade}
			case "SNAT":
				r.Verdict = Verdict{Kind: VerdictSNAT}
			case "REJECT", "DROP":
				r.Verdict = Verdict{Kind: VerdictDrop}
			case "ACCEPT":
				r.Verdict = Verdict{Kind: VerdictAccept}
			case "LOG", "NFLOG", "TRACE", "MARK", "CONNMARK", "TCPMSS":
			default:
				r.Unknown = true
			}
		case *expr.Masq:
			r.Verdict = Verdict{Kind: VerdictMasquerade}
		case *expr.NAT:
			if e.Type == expr.NATTypeSourceNAT {
				r.Verdict = Verdict{Kind: VerdictSNAT}
			} else {
				r.Unknown = true
			}
		case *expr.Reject:
			r.Verdict = Verdict{Kind: VerdictDrop}
		case *expr.Verdict:
			switch e.Kind {
			case expr.VerdictAccept:
				r.Verdict = Verdict{Kind: VerdictAccept}
			case expr.VerdictDrop:
				r.Verdict = Verdict{Kind: VerdictDrop}
			case expr.VerdictJump:
				r.Verdict = Verdict{Kind: VerdictJump, Chain: e.Chain}
			case expr.VerdictGoto:
				r.Verdict = Verdict{Kind: VerdictGoto, Chain: e.Chain}
			case expr.VerdictReturn:
				r.Verdict = Verdict{Kind: VerdictReturn}
			default:
				// continue, break, queue: no decision here
			}
		default:
			r.Unknown = true
		}
	}
	r.Text = ruleText(tool, fam, r)
	return r
}

// cmpCond is the condition a comparison with a register makes.
func cmpCond(reg register, e *expr.Cmp, fam int) (Cond, bool) {
	var c Cond
	switch e.Op {
	case expr.CmpOpEq:
	case expr.CmpOpNeq:
		c.Negate = true
	default:
		return c, false
	}
	switch reg.what {
	case "iifname", "oifname":
		c.Kind = CondIIf
		if reg.what == "oifname" {
			c.Kind = CondOIf
		}
		d := e.Data
		if i := bytes.IndexByte(d, 0); i >= 0 {
			c.Name = string(d[:i])
		} else {
			c.Name, c.Prefix = string(d), true
		}
		return c, reg.mask == nil
	case "saddr", "daddr":
		c.Kind = CondSrc
		if reg.what == "daddr" {
			c.Kind = CondDst
		}
		n := 4
		if fam == 6 {
			n = 16
		}
		buf := make([]byte, n)
		copy(buf, e.Data)
		a, _ := netip.AddrFromSlice(buf)
		ones := reg.len * 8
		if reg.mask != nil {
			ones = 0
			for _, b := range reg.mask {
				ones += bits.OnesCount8(b)
			}
		}
		c.Net = netip.PrefixFrom(a, ones)
		return c, c.Net.IsValid()
	case "ctstate":
		if len(e.Data) != 4 || binary.NativeEndian.Uint32(e.Data) != 0 || reg.mask == nil || len(reg.mask) != 4 {
			return c, false
		}
		// "ct state X" is (state & X) != 0.
		c.Kind = CondCtState
		c.States = ctStates(binary.NativeEndian.Uint32(reg.mask))
		c.Negate = !c.Negate
		return c, true
	case "l4proto":
		if len(e.Data) != 1 || reg.mask != nil {
			return c, false
		}
		c.Kind, c.Proto = CondProto, e.Data[0]
		return c, true
	case "nfproto":
		if len(e.Data) != 1 || c.Negate {
			return c, false
		}
		c.Kind = CondFamily
		switch e.Data[0] {
		case unix.NFPROTO_IPV4:
			c.Family = 4
		case unix.NFPROTO_IPV6:
			c.Family = 6
		default:
			return c, false
		}
		return c, true
	}
	return c, false
}

// ctStates names conntrack state bits (nft's ct state, xt_conntrack's
// state mask: invalid 1, established 2, related 4, new 8, untracked 64).
func ctStates(mask uint32) []string {
	var out []string
	for _, s := range []struct {
		bit  uint32
		name string
	}{{1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}} {
		if mask&s.bit != 0 {
			out = append(out, s.name)
		}
	}
	return out
}

// xtMatch reads an iptables match (iptables-nft): conntrack's state;
// skip is set for a comment.
func xtMatch(m *expr.Match) (c Cond, ok, skip bool) {
	switch m.Name {
	case "comment":
		return c, false, true
	case "conntrack":
		var base xt.ConntrackMtinfoBase
		var mask uint16
		switch i := m.Info.(type) {
		case *xt.ConntrackMtinfo1:
			base, mask = i.ConntrackMtinfoBase, uint16(i.StateMask)
		case *xt.ConntrackMtinfo2:
			base, mask = i.ConntrackMtinfoBase, i.StateMask
		case *xt.ConntrackMtinfo3:
			base, mask = i.ConntrackMtinfoBase, i.StateMask
		default:
			return c, false, false
		}
		if base.MatchFlags&^uint16(xt.ConntrackState|xt.ConntrackStateAlias) != 0 || base.MatchFlags&uint16(xt.ConntrackState) == 0 {
			return c, false, false
		}
		c.Kind = CondCtState
		c.States = ctStates(uint32(mask))
		c.Negate = base.InvertFlags&uint16(xt.ConntrackState) != 0
		return c, true, false
	}
	return c, false, false
}

// ruleText renders a rule as its tool would print it, as far as doctor
// read it ("..." for the parts it did not).
func ruleText(tool, fam string, r Rule) string {
	var w []string
	ipt := tool == "iptables"
	not := func(c Cond) string {
		if c.Negate {
			if ipt {
				return "! "
			}
			return "!= "
		}
		return ""
	}
	for _, c := range r.Conds {
		switch c.Kind {
		case CondIIf, CondOIf:
			name := c.Name
			if c.Prefix {
				name += map[bool]string{true: "+", false: "*"}[ipt]
			}
			if ipt {
				w = append(w, not(c)+map[CondKind]string{CondIIf: "-i ", CondOIf: "-o "}[c.Kind]+name)
			} else {
				w = append(w, map[CondKind]string{CondIIf: "iifname ", CondOIf: "oifname "}[c.Kind]+not(c)+`"`+name+`"`)
			}
		case CondSrc, CondDst:
			p := c.Net.String()
			if ipt {
				w = append(w, not(c)+map[CondKind]string{CondSrc: "-s ", CondDst: "-d "}[c.Kind]+p)
			} else {
				f := "ip"
				if c.Net.Addr().Is6() {
					f = "ip6"
				}
				w = append(w, f+map[CondKind]string{CondSrc: " saddr ", CondDst: " daddr "}[c.Kind]+not(c)+p)
			}
		case CondCtState:
			if ipt {
				w = append(w, "-m conntrack "+not(c)+"--ctstate "+strings.ToUpper(strings.Join(c.States, ",")))
			} else {
				w = append(w, "ct state "+not(c)+strings.Join(c.States, ","))
			}
		case CondProto:
			name := map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"}[c.Proto]
			if name == "" {
				name = fmt.Sprint(c.Proto)
			}
			if ipt {
				w = append(w, not(c)+"-p "+name)
			} else {
				w = append(w, "meta l4proto "+not(c)+name)
			}
		case CondFamily:
			w = append(w, fmt.Sprintf("meta nfproto ipv%d", c.Family))
		}
	}
	if r.Unknown {
		w = append(w, "...")
	}
	v := string(r.Verdict.Kind)
	if ipt {
		switch r.Verdict.Kind {
		case VerdictJump:
			v = "-j " + r.Verdict.Chain
		case VerdictGoto:
			v = "-g " + r.Verdict.Chain
		case VerdictNone:
			v = ""
		default:
			v = "-j " + strings.ToUpper(v)
		}
	} else if r.Verdict.Chain != "" {
		v += " " + r.Verdict.Chain
	}
	if v != "" {
		w = append(w, v)
	}
	return strings.Join(w, " ")
}

// readLegacy reads the legacy iptables tables filter and nat, where the
// kernel has any (the x_tables names under /proc/net).
func readLegacy(fw *Firewall) error {
	for _, f := range []struct{ names, fam, prog string }{
		{"/proc/net/ip_tables_names", "ip", "iptables-legacy"},
		{"/proc/net/ip6_tables_names", "ip6", "ip6tables-legacy"},
	} {
		data, err := os.ReadFile(f.names)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		prog, err := exec.LookPath(f.prog)
		if err != nil {
			if prog, err = exec.LookPath(strings.TrimSuffix(f.prog, "-legacy")); err != nil {
				return fmt.Errorf("legacy iptables tables exist (%s) but neither %s nor %s is installed", f.names, f.prog, strings.TrimSuffix(f.prog, "-legacy"))
			}
		}
		tables := strings.Fields(string(data))
		chains, err := legacyChains(prog, f.fam, tables)
		if err != nil {
			return err
		}
		fw.Chains = append(fw.Chains, chains...)
	}
	return nil
}
