package firewall

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// ipt is the iptables backend of one family in one namespace. Each use
// runs iptables (or ip6tables) on a thread inside the namespace.
type ipt struct {
	netns  int
	family Family
}

// iptTables are the tables wg-quick's rules live in, in the order
// iptables-nft's iptables-save lists them.
var iptTables = [...]string{"mangle", "raw"}

// errNoProgram marks a missing iptables/ip6tables program.
var errNoProgram = errors.New("program not found")

// with runs fn with an iptables handle inside the namespace.
func (b ipt) with(fn func(*iptables.IPTables) error) error {
	return inNetNS(b.netns, func() error {
		proto := iptables.ProtocolIPv4
		if b.family == IPv6 {
			proto = iptables.ProtocolIPv6
		}
		t, err := iptables.New(iptables.IPFamily(proto))
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%s: %w", b.family.iptables(), errNoProgram)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", b.family.iptables(), err)
		}
		return fn(t)
	})
}

// markedRule is a rule found by its marker.
type markedRule struct {
	table, chain string
	spec         []string // as `iptables -S` prints it, after "-A CHAIN"
	iface        string   // the interface named by the marker
}

// line is the rule as iptables-save prints it, with -A replaced by op.
func (r markedRule) line(op string) string {
	return op + " " + r.chain + " " + quoteArgs(r.spec)
}

// marked lists the rules of raw and mangle whose comment is a wg-quick
// marker, in iptables-save order (mangle, then raw; chains in -S order).
func marked(t *iptables.IPTables, family Family, tables map[string]bool) ([]markedRule, error) {
	var out []markedRule
	for _, table := range iptTables {
		if !tables[table] {
			continue // listing would create it (iptables-legacy)
		}
		chains, err := t.ListChains(table)
		if err != nil {
			return nil, fmt.Errorf("%s: listing table %s: %w", family.iptables(), table, err)
		}
		for _, chain := range chains {
			lines, err := t.List(table, chain)
			if err != nil {
				return nil, fmt.Errorf("%s: listing %s %s: %w", family.iptables(), table, chain, err)
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "-A ") {
					continue
				}
				args, err := splitArgs(l)
				if err != nil || len(args) < 2 {
					return nil, fmt.Errorf("%s: reading rule of %s %s: %q: %v", family.iptables(), table, chain, l, err)
				}
				if iface, ok := markerIface(args[2:]); ok {
					out = append(out, markedRule{table: table, chain: args[1], spec: args[2:], iface: iface})
				}
			}
		}
	}
	return out, nil
}

// mark is the value of the rule's `-m mark --mark M` match, if it has one.
func (r markedRule) mark() (uint32, bool) {
	for i := 0; i+1 < len(r.spec); i++ {
		if r.spec[i] != "--mark" {
			continue
		}
		v, _, _ := strings.Cut(r.spec[i+1], "/")
		m, err := strconv.ParseUint(v, 0, 32)
		return uint32(m), err == nil
	}
	return 0, false
}

// markerIface finds `-m comment --comment "wg-quick(8) rule for IFACE"`.
func markerIface(spec []string) (string, bool) {
	for i := 0; i+3 < len(spec); i++ {
		if spec[i] == "-m" && spec[i+1] == "comment" && spec[i+2] == "--comment" {
			if iface, ok := strings.CutPrefix(spec[i+3], Marker("")); ok && iface != "" {
				return iface, true
			}
		}
	}
	return "", false
}

// install inserts s's rules, each at the head of its chain, in the
// reference's order. Rules of the same interface and family left over from
// before are deleted first. A failure deletes the rules this call made.
func (b ipt) install(s Spec, nftTables func() ([]string, error)) error {
	tables, err := b.tables(nftTables)
	if err != nil {
		return err
	}
	return b.with(func(t *iptables.IPTables) error {
		old, err := marked(t, b.family, tables)
		if err != nil {
			return err
		}
		for _, r := range old {
			if r.iface != s.Iface {
				continue
			}
			if err := deleteRule(t, r); err != nil {
				return err
			}
		}
		rules := iptablesRules(s)
		for i, r := range rules {
			if err := t.Insert(r.table, r.chain, 1, r.spec...); err != nil {
				for j := i - 1; j >= 0; j-- {
					t.Delete(rules[j].table, rules[j].chain, rules[j].spec...)
				}
				return fmt.Errorf("%s: adding to %s: -I %s %s: %w", b.family.iptables(), r.table, r.chain, quoteArgs(r.spec), err)
			}
		}
		return nil
	})
}

func deleteRule(t *iptables.IPTables, r markedRule) error {
	err := t.Delete(r.table, r.chain, r.spec...)
	var e *iptables.Error
	if errors.As(err, &e) && e.IsNotExist() {
		return nil // already gone: that is what was asked for
	}
	if err != nil {
		return fmt.Errorf("deleting from %s: %s: %w", r.table, r.line("-D"), err)
	}
	return nil
}

// find lists the family's rules marked for iface ("" for every interface).
// It spawns nothing and finds nothing when iptables holds no raw or
// mangle table (see hasTables) or the program is not installed.
func (b ipt) find(iface string, nftTables func() ([]string, error)) ([]markedRule, error) {
	tables, err := b.tables(nftTables)
	if err != nil || len(tables) == 0 {
		return nil, err
	}
	var found []markedRule
	err = b.with(func(t *iptables.IPTables) error {
		all, err := marked(t, b.family, tables)
		for _, r := range all {
			if iface == "" || r.iface == iface {
				found = append(found, r)
			}
		}
		return err
	})
	if errors.Is(err, errNoProgram) {
		return nil, nil
	}
	return found, err
}

// deleteOp deletes found rules; its payload is the reference's
// iptables-restore input for them.
func (b ipt) deleteOp(rules []markedRule) Op {
	var p strings.Builder
	for _, table := range iptTables {
		p.WriteString("*" + table + "\n")
		for _, r := range rules {
			if r.table == table {
				p.WriteString(r.line("-D") + "\n")
			}
		}
		p.WriteString("COMMIT\n")
	}
	return Op{line: restoreLine(b.family), payload: p.String(), do: func() error {
		return b.with(func(t *iptables.IPTables) error {
			for _, r := range rules {
				if err := deleteRule(t, r); err != nil {
					return fmt.Errorf("%s: %w", b.family.iptables(), err)
				}
			}
			return nil
		})
	}}
}

// tables says which of raw and mangle iptables may hold rules of the
// family in: tables of x_tables (iptables-legacy, listed in
// /proc/thread-self/net/ip{,6}_tables_names) or of nf_tables with the
// family's name (made by iptables-nft; nftTables lists them, nil when
// nf_tables is unavailable).
func (b ipt) tables(nftTables func() ([]string, error)) (map[string]bool, error) {
	names := "/proc/thread-self/net/ip_tables_names"
	if b.family == IPv6 {
		names = "/proc/thread-self/net/ip6_tables_names"
	}
	var legacy []string
	err := inNetNS(b.netns, func() error {
		f, err := os.Open(names)
		if errors.Is(err, os.ErrNotExist) {
			return nil // no x_tables in this kernel
		}
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			legacy = append(legacy, sc.Text())
		}
		return sc.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", b.family.iptables(), names, err)
	}
	var nftNames []string
	if nftTables != nil {
		if nftNames, err = nftTables(); err != nil {
			return nil, err
		}
	}
	found := map[string]bool{}
	for _, n := range append(legacy, nftNames...) {
		if n == "raw" || n == "mangle" {
			found[n] = true
		}
	}
	return found, nil
}
