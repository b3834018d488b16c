package netlinkx

import (
	"fmt"
	"strconv"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Rule is a policy routing rule, with the fields wg-quick uses. For a
// deletion, unset fields match any rule.
type Rule struct {
	// Family is unix.AF_INET or unix.AF_INET6.
	Family int
	// Not inverts the selector ("not fwmark M").
	Not bool
	// FwMark selects packets with this mark; 0 means no fwmark selector.
	FwMark uint32
	// Table is the table looked up; 0 means unset.
	Table uint32
	// SuppressPrefixlen suppresses routes with a prefix this long or
	// shorter; -1 means unset.
	SuppressPrefixlen int
	// Priority is the rule's preference; -1 means unset (the kernel
	// chooses when adding, any matches when deleting).
	Priority int
	// Other is set on listed rules that have selectors or actions beyond
	// the fields above (source, destination, interfaces, ports, goto...):
	// such a rule is never one of wg-quick's.
	Other bool
}

// tableName is how ip prints and parses a table number.
func tableName(t uint32) string {
	switch t {
	case unix.RT_TABLE_MAIN:
		return "main"
	case unix.RT_TABLE_LOCAL:
		return "local"
	case unix.RT_TABLE_DEFAULT:
		return "default"
	}
	return strconv.FormatUint(uint64(t), 10)
}

func (r Rule) familyFlag() string {
	if r.Family == unix.AF_INET6 {
		return "-6"
	}
	return "-4"
}

// command renders `ip -4|-6 rule VERB ...` with the selectors in the order
// wg-quick writes them.
func (r Rule) command(verb string) string {
	s := fmt.Sprintf("ip %s rule %s", r.familyFlag(), verb)
	if r.Priority >= 0 {
		s += fmt.Sprintf(" pref %d", r.Priority)
	}
	if r.Not {
		s += " not"
	}
	if r.FwMark != 0 {
		s += fmt.Sprintf(" fwmark %d", r.FwMark)
	}
	if r.Table != 0 {
		s += " table " + tableName(r.Table)
	}
	if r.SuppressPrefixlen >= 0 {
		s += fmt.Sprintf(" suppress_prefixlength %d", r.SuppressPrefixlen)
	}
	return s
}

func (r Rule) netlink() *netlink.Rule {
	n := netlink.NewRule()
	n.Family = r.Family
	n.Invert = r.Not
	n.Mark = r.FwMark
	if r.Table != 0 {
		n.Table = int(r.Table)
	}
	n.SuppressPrefixlen = r.SuppressPrefixlen
	n.Priority = r.Priority
	return n
}

// Rules lists the rules of one family in the kernel's order.
func (h *Handle) Rules(family int) ([]Rule, error) {
	list, err := retryDump("listing rules", func() ([]netlink.Rule, error) { return h.h.RuleList(family) })
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(list))
	for _, n := range list {
		r := Rule{
			Family:            family,
			Not:               n.Invert,
			FwMark:            n.Mark,
			SuppressPrefixlen: n.SuppressPrefixlen,
			Priority:          n.Priority,
		}
		if n.Table > 0 {
			r.Table = uint32(n.Table)
		}
		r.Other = n.Src != nil || n.Dst != nil || n.IifName != "" || n.OifName != "" ||
			n.Tos != 0 || n.Mask != nil && *n.Mask != 0xffffffff || n.Goto >= 0 || n.Flow > 0 ||
			n.SuppressIfgroup >= 0 || n.Dport != nil || n.Sport != nil || n.IPProto != 0 ||
			n.UIDRange != nil || n.Type != 0 && n.Type != unix.RTN_UNICAST
		out = append(out, r)
	}
	return out, nil
}
