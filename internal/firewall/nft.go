package firewall

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// nft is the nftables backend: netlink to the nf_tables of one namespace.
type nft struct{ netns int }

func (n nft) conn() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.WithNetNSFd(n.netns))
	if err != nil {
		return nil, fmt.Errorf("nftables: opening netlink: %w", err)
	}
	return c, nil
}

// errUnavailable marks a kernel without nf_tables.
var errUnavailable = errors.New("nf_tables is not available")

// probe asks for the list of tables: nil when nf_tables answers, an error
// wrapping errUnavailable when the kernel lacks it, another error else.
func (n nft) probe() error {
	c, err := n.conn()
	if err == nil {
		_, err = c.ListTablesOfFamily(nftables.TableFamilyUnspecified)
	}
	return probeResult(err)
}

// usable reports whether nf_tables answers (probe): false without an
// error when the kernel lacks it, false with the error when asking failed
// otherwise.
func (n nft) usable() (bool, error) {
	switch err := n.probe(); {
	case errors.Is(err, errUnavailable):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// probeResult classifies the error of listing the tables: the errors a
// kernel without nfnetlink (no NETLINK_NETFILTER protocol) or without its
// nf_tables subsystem gives mean "unavailable".
func probeResult(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EPROTONOSUPPORT), errors.Is(err, syscall.EAFNOSUPPORT),
		errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.EINVAL):
		return fmt.Errorf("%w: listing tables over netlink: %w", errUnavailable, err)
	}
	return fmt.Errorf("nftables: listing tables over netlink: %w", err)
}

func tableFamily(f Family) nftables.TableFamily {
	if f == IPv6 {
		return nftables.TableFamilyIPv6
	}
	return nftables.TableFamilyIPv4
}

// FamilyName is nft's name of a table family (ip, ip6, inet, ...).
func FamilyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyARP:
		return "arp"
	case nftables.TableFamilyBridge:
		return "bridge"
	case nftables.TableFamilyNetdev:
		return "netdev"
	}
	return fmt.Sprintf("family%d", f)
}

// install replaces s's table with a fresh one in one transaction: any
// table of that name and family is deleted in the same batch, so a left
// over table is not appended to.
func (n nft) install(s Spec) error {
	c, err := n.conn()
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: TableName(s.Iface), Family: tableFamily(s.Family)}
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	chain := func(name string, hook *nftables.ChainHook, prio int32) *nftables.Chain {
		return c.AddChain(&nftables.Chain{Name: name, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: hook, Priority: nftables.ChainPriorityRef(nftables.ChainPriority(prio))})
	}
	preraw := chain("preraw", nftables.ChainHookPrerouting, -300)
	premangle := chain("premangle", nftables.ChainHookPrerouting, -150)
	postmangle := chain("postmangle", nftables.ChainHookPostrouting, -150)
	for _, a := range s.addrs() {
		c.AddRule(&nftables.Rule{Table: t, Chain: preraw, Exprs: antiSpoofExprs(s.Iface, a.AsSlice())})
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: postmangle, Exprs: saveMarkExprs(s.Mark)})
	c.AddRule(&nftables.Rule{Table: t, Chain: premangle, Exprs: restoreMarkExprs()})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: adding table %s %s (chains preraw, premangle, postmangle, %d rules): %w",
			s.Family, t.Name, len(s.Addrs)+2, err)
	}
	return nil
}

// tables lists the tables named name, in every family, in the kernel's
// order.
func (n nft) tables(name string) ([]*nftables.Table, error) {
	c, err := n.conn()
	if err != nil {
		return nil, err
	}
	all, err := c.ListTablesOfFamily(nftables.TableFamilyUnspecified)
	if err != nil {
		return nil, fmt.Errorf("nftables: listing tables: %w", err)
	}
	var out []*nftables.Table
	for _, t := range all {
		if t.Name == name {
			out = append(out, t)
		}
	}
	return out, nil
}

// deleteOp is the removal of tables, as one transaction.
func (n nft) deleteOp(tables []*nftables.Table) Op {
	var b strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&b, "delete table %s %s\n", FamilyName(t.Family), t.Name)
	}
	return Op{line: lineNFT, payload: b.String(), do: func() error {
		c, err := n.conn()
		if err != nil {
			return err
		}
		for _, t := range tables {
			c.DelTable(t)
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables: %s: %w", strings.TrimSpace(strings.ReplaceAll(b.String(), "\n", "; ")), err)
		}
		return nil
	}}
}

// Expressions, as nft 1.0.6 generates them for the reference's payload
// (seen with `nft --debug=netlink`).

// antiSpoofExprs: iifname != "IFACE" ip[6] daddr ADDR fib saddr type != local drop.
func antiSpoofExprs(iface string, addr []byte) []expr.Any {
	name := make([]byte, unix.IFNAMSIZ) // the whole name, zero padded
	copy(name, iface)
	offset := uint32(16) // IPv4 destination
	if len(addr) == 16 {
		offset = 24 // IPv6 destination
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: name},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: uint32(len(addr))},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr},
		&expr.Fib{Register: 1, FlagSADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
}

// saveMarkExprs: meta l4proto udp meta mark MARK ct mark set meta mark.
func saveMarkExprs(mark uint32) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(mark)},
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true},
	}
}

// restoreMarkExprs: meta l4proto udp meta mark set ct mark.
func restoreMarkExprs() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1},
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1, SourceRegister: true},
	}
}

// marks reads the mark compared in the postmangle chains of the tables
// named name (the rule saveMarkExprs makes).
func (n nft) marks(name string) ([]uint32, error) {
	tables, err := n.tables(name)
	if err != nil || len(tables) == 0 {
		return nil, err
	}
	c, err := n.conn()
	if err != nil {
		return nil, err
	}
	var marks []uint32
	for _, t := range tables {
		rules, err := c.GetRules(t, &nftables.Chain{Name: "postmangle", Table: t})
		if errors.Is(err, syscall.ENOENT) {
			continue // no such chain: not a table we made
		}
		if err != nil {
			return nil, fmt.Errorf("nftables: listing %s %s postmangle: %w", FamilyName(t.Family), t.Name, err)
		}
		for _, r := range rules {
			if m, ok := comparedMark(r.Exprs); ok {
				marks = append(marks, m)
			}
		}
	}
	return marks, nil
}

// comparedMark finds "meta mark == M" in a rule's expressions.
func comparedMark(exprs []expr.Any) (uint32, bool) {
	for i := 0; i+1 < len(exprs); i++ {
		m, ok := exprs[i].(*expr.Meta)
		if !ok || m.Key != expr.MetaKeyMARK || m.SourceRegister {
			continue
		}
		if c, ok := exprs[i+1].(*expr.Cmp); ok && c.Op == expr.CmpOpEq && c.Register == m.Register && len(c.Data) == 4 {
			return binaryutil.NativeEndian.Uint32(c.Data), true
		}
	}
	return 0, false
}
