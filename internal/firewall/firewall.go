package firewall

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
)

// Options say where the rules go.
type Options struct {
	// NetNS is an open file descriptor of the network namespace to work
	// in; 0 is the caller's own.
	NetNS int
	// Backend forces a backend for Install; Auto (the zero value) probes.
	// Removal always looks at both.
	Backend Backend
}

// Firewall installs and removes the full-tunnel rules in one network
// namespace. It holds no state between calls, so separate processes (up,
// down) see the same thing.
type Firewall struct {
	opts Options
}

// New returns a Firewall for the namespace and backend of opts.
func New(opts Options) *Firewall { return &Firewall{opts: opts} }

func (fw *Firewall) nft() nft { return nft{netns: fw.opts.NetNS} }

func (fw *Firewall) ipt(f Family) ipt { return ipt{netns: fw.opts.NetNS, family: f} }

// Backend is the backend Install uses: the forced one, else nftables when
// nf_tables answers over netlink, else iptables.
func (fw *Firewall) Backend(ctx context.Context) (Backend, error) {
	if fw.opts.Backend != Auto {
		return fw.opts.Backend, nil
	}
	if err := ctx.Err(); err != nil {
		return Auto, err
	}
	switch ok, err := fw.nft().usable(); {
	case err != nil:
		return Auto, fmt.Errorf("firewall: choosing between nftables and iptables: %w", err)
	case ok:
		return NFTables, nil
	}
	return IPTables, nil
}

// PlanInstall returns the step that installs s's rules: its String is
// "nft -f /dev/fd/63" or "iptables-restore -n"/"ip6tables-restore -n"
// depending on the backend, its Payload the reference's input for it.
// With nftables the install is one transaction (an earlier table of the
// same name and family is replaced); with iptables, a failure part way
// removes what the step added.
func (fw *Firewall) PlanInstall(ctx context.Context, s Spec) (Op, error) {
	if err := s.check(); err != nil {
		return Op{}, err
	}
	s.Addrs = s.addrs()
	b, err := fw.Backend(ctx)
	if err != nil {
		return Op{}, err
	}
	if b == IPTables {
		return Op{line: restoreLine(s.Family), payload: IPTablesPayload(s), do: func() error {
			return fw.ipt(s.Family).install(s, fw.nftNames(fw.nft().probe() == nil, s.Family))
		}}, nil
	}
	return Op{line: lineNFT, payload: NFTPayload(s), do: func() error {
		return fw.nft().install(s)
	}}, nil
}

// Install installs s's rules (PlanInstall, then Do).
func (fw *Firewall) Install(ctx context.Context, s Spec) error {
	op, err := fw.PlanInstall(ctx, s)
	if err != nil {
		return err
	}
	return op.Do(ctx)
}

// PlanRemove returns the steps that remove every rule of iface, found by
// name and marker as they are now, in the reference's order: one
// "nft -f /dev/fd/63" deleting the tables wg-quick-IFACE of all families,
// then "iptables-restore -n" and "ip6tables-restore -n" deleting the
// marked rules. A kind with nothing to remove has no step. When part of
// the host could not be inspected the error says so, and the steps for
// what was found are still returned.
func (fw *Firewall) PlanRemove(ctx context.Context, iface string) ([]Op, error) {
	if !conf.ValidInterfaceName(iface) {
		return nil, fmt.Errorf("firewall: invalid interface name %q", iface)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ops []Op
	var errs []error
	n := fw.nft()
	nftOK, err := n.usable()
	if err != nil {
		errs = append(errs, err)
	}
	if nftOK {
		tables, err := n.tables(TableName(iface))
		if err != nil {
			errs = append(errs, err)
		} else if len(tables) > 0 {
			ops = append(ops, n.deleteOp(tables))
		}
	}
	for _, f := range []Family{IPv4, IPv6} {
		b := fw.ipt(f)
		rules, err := b.find(iface, fw.nftNames(nftOK, f))
		if err != nil {
			errs = append(errs, err)
		}
		if len(rules) > 0 {
			ops = append(ops, b.deleteOp(rules))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ops, fmt.Errorf("firewall: looking for the rules of %s: %w", iface, err)
	}
	return ops, nil
}

// Remove removes every rule of iface (PlanRemove, then each step's Do),
// calling trace with each step's line before doing it (trace may be nil).
// It goes on past failures and reports them all.
func (fw *Firewall) Remove(ctx context.Context, iface string, trace func(line string)) error {
	ops, err := fw.PlanRemove(ctx, iface)
	errs := []error{err}
	for _, op := range ops {
		if trace != nil {
			trace(op.String())
		}
		errs = append(errs, op.Do(ctx))
	}
	return errors.Join(errs...)
}

// Present reports whether any rule of iface exists, of either kind.
func (fw *Firewall) Present(ctx context.Context, iface string) (bool, error) {
	ops, err := fw.PlanRemove(ctx, iface)
	return len(ops) > 0, err
}

// Others lists the other interfaces (not iface) that have full-tunnel
// rules of family f, of either kind, sorted. wg-quick made those rules,
// this one or the reference: their tunnels still need src_valid_mark.
func (fw *Firewall) Others(ctx context.Context, iface string, f Family) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var names []string
	n := fw.nft()
	nftOK, err := n.usable()
	if err != nil {
		return nil, err
	}
	if nftOK {
		c, err := n.conn()
		if err != nil {
			return nil, err
		}
		tables, err := c.ListTablesOfFamily(tableFamily(f))
		if err != nil {
			return nil, fmt.Errorf("nftables: listing %s tables: %w", f, err)
		}
		for _, t := range tables {
			if other, ok := strings.CutPrefix(t.Name, TableName("")); ok && other != iface && other != "" {
				names = append(names, other)
			}
		}
	}
	rules, err := fw.ipt(f).find("", fw.nftNames(nftOK, f))
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if r.iface != iface {
			names = append(names, r.iface)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// nftNames lists the names of the nf_tables tables of family f (for
// finding iptables-nft's tables); nil when nf_tables is not usable.
func (fw *Firewall) nftNames(ok bool, f Family) func() ([]string, error) {
	if !ok {
		return nil
	}
	return func() ([]string, error) {
		c, err := fw.nft().conn()
		if err != nil {
			return nil, err
		}
		tables, err := c.ListTablesOfFamily(tableFamily(f))
		if err != nil {
			return nil, fmt.Errorf("nftables: listing %s tables: %w", f, err)
		}
		names := make([]string, len(tables))
		for i, t := range tables {
			names[i] = t.Name
		}
		return names, nil
	}
}

// Marks lists the fwmarks iface's rules save into conntrack (in wg-quick,
// the number of the full tunnel's routing table), read from its nftables
// tables and its marked iptables rules, sorted, without repeats. It lets
// `down` find the policy rules of an interface that is gone, and its
// fwmark with it.
func (fw *Firewall) Marks(ctx context.Context, iface string) ([]uint32, error) {
	if !conf.ValidInterfaceName(iface) {
		return nil, fmt.Errorf("firewall: invalid interface name %q", iface)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var marks []uint32
	n := fw.nft()
	nftOK, err := n.usable()
	if err != nil {
		return nil, err
	}
	if nftOK {
		m, err := n.marks(TableName(iface))
		if err != nil {
			return nil, err
		}
		marks = append(marks, m...)
	}
	for _, f := range []Family{IPv4, IPv6} {
		rules, err := fw.ipt(f).find(iface, fw.nftNames(nftOK, f))
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			if m, ok := r.mark(); ok {
				marks = append(marks, m)
			}
		}
	}
	slices.Sort(marks)
	return slices.Compact(marks), nil
}

// Families lists the families in which iface has guard rules, of either
// kind (for wg-quick reload, which adds what a full tunnel lacks).
func (fw *Firewall) Families(ctx context.Context, iface string) ([]Family, error) {
	if !conf.ValidInterfaceName(iface) {
		return nil, fmt.Errorf("firewall: invalid interface name %q", iface)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	have := map[Family]bool{}
	n := fw.nft()
	nftOK, err := n.usable()
	if err != nil {
		return nil, err
	}
	if nftOK {
		tables, err := n.tables(TableName(iface))
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			for _, f := range []Family{IPv4, IPv6} {
				if t.Family == tableFamily(f) {
					have[f] = true
				}
			}
		}
	}
	var out []Family
	for _, f := range []Family{IPv4, IPv6} {
		if !have[f] {
			rules, err := fw.ipt(f).find(iface, fw.nftNames(nftOK, f))
			if err != nil {
				return nil, err
			}
			have[f] = len(rules) > 0
		}
		if have[f] {
			out = append(out, f)
		}
	}
	return out, nil
}
