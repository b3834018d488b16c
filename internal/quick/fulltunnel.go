package quick

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// Full tunnel: an allowed IP of /0 with Table unset or auto. As the
// reference's add_default, per address family: the interface's fwmark (its
// own, or the first free table from 51820 up, set as its fwmark) names a
// routing table; the rules "not fwmark M table M" and "table main
// suppress_prefixlength 0" send everything but the tunnel's own packets
// there, past the main table's specific routes; the default route goes into
// table M; then (IPv4) src_valid_mark, and the guard rules of
// internal/firewall for the addresses the interface has at that moment.

// firstTable is where the search for a free table starts, and
// maxTableSearch bounds it.
const (
	firstTable     = 51820
	maxTableSearch = 10000
)

// IsFullTunnel reports whether the file asks for the default-route
// handling (a /0 allowed IP with Table unset or auto); doctor judges by
// it too.
func IsFullTunnel(c *conf.Config) bool {
	if !autoTable(c.Interface.Table) {
		return false
	}
	for i := range c.Peers {
		for _, a := range c.Peers[i].AllowedIPs {
			if !a.Remove && a.Prefix.Bits() == 0 {
				return true
			}
		}
	}
	return false
}

func autoTable(t string) bool { return t == "" || t == conf.TableAuto }

func famName(fam int) string {
	if fam == unix.AF_INET6 {
		return "IPv6"
	}
	return "IPv4"
}

func famOf(p netip.Prefix) int {
	if p.Addr().Is6() {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// tableRule is "not fwmark MARK table MARK".
func tableRule(fam int, mark uint32) netlinkx.Rule {
	return netlinkx.Rule{Family: fam, Not: true, FwMark: mark, Table: mark, SuppressPrefixlen: -1, Priority: -1}
}

// suppressRule is "table main suppress_prefixlength 0".
func suppressRule(fam int) netlinkx.Rule {
	return netlinkx.Rule{Family: fam, Table: unix.RT_TABLE_MAIN, SuppressPrefixlen: 0, Priority: -1}
}

// isSuppress: a listed rule is "from all lookup main suppress_prefixlength
// 0" (what del_if's loop looks for).
func isSuppress(x netlinkx.Rule) bool {
	return x.Table == unix.RT_TABLE_MAIN && x.SuppressPrefixlen == 0 && !x.Not && x.FwMark == 0 && !x.Other
}

// isTunnelRule: a listed rule is a full tunnel's "not fwmark M lookup M"
// (made by this wg-quick or the reference).
func isTunnelRule(x netlinkx.Rule) bool {
	return x.Not && x.FwMark != 0 && x.FwMark == x.Table && x.SuppressPrefixlen < 0 && !x.Other
}

// ruleRank is where a rule's deletion goes in a rollback.
func ruleRank(fam int, suppress bool) rank {
	r := rankRules4Table
	if fam == unix.AF_INET6 {
		r = rankRules6Table
	}
	if suppress {
		r++
	}
	return r
}

// defaultSteps is add_default for the prefix p (0.0.0.0/0 or ::/0), planned
// from v: the fwmark (when the device has none: the first free table, set
// as its fwmark), the two rules, the default route in the table, for IPv4
// src_valid_mark, and the guard rules. With reloading, the fwmark and the
// route are undone on their own (a reload keeps the interface, whose
// deletion takes them in up's rollback).
func defaultSteps(ctx context.Context, sys *Sys, v *View, iface string, p netip.Prefix, reloading bool) ([]Step, error) {
	fam, ffam := famOf(p), firewall.IPv4
	if fam == unix.AF_INET6 {
		ffam = firewall.IPv6
	}
	dev, err := v.Device(iface)
	if err != nil {
		return nil, deviceFailure(err)
	}
	var steps []Step
	mark := dev.FwMark
	if mark == 0 {
		if mark, err = freeTable(sys, v); err != nil {
			return nil, err
		}
		s := Step{Op: fwmarkOp(sys, iface, mark), Note: "the first routing table from 51820 up with no route in it now"}
		if reloading {
			s.Undo = undoWith(rankSetBack, fwmarkOp(sys, iface, 0))
		}
		steps = append(steps, s)
	}
	for _, rule := range []netlinkx.Rule{tableRule(fam, mark), suppressRule(fam)} {
		op := newRuleAdd(sys.Net, rule)
		suppress := rule.SuppressPrefixlen == 0
		steps = append(steps, Step{Op: op, Undo: &Undo{Rank: ruleRank(fam, suppress), Plan: func(ctx context.Context, v *View) ([]Step, error) {
			return []Step{ruleDeleteStep(sys, v, *op.made, suppress)}, nil
		}}})
	}
	route := netlinkx.RouteAdd{Link: iface, Prefix: p, Table: strconv.FormatUint(uint64(mark), 10), TableID: mark}
	s := Step{Op: netOp{sys.Net, route}}
	if reloading {
		s.Undo = undoWith(rankSetBack, netOp{sys.Net, netlinkx.RouteDelete{Link: iface, Prefix: p, Table: route.Table, TableID: mark}})
	}
	steps = append(steps, s)
	if fam == unix.AF_INET {
		op, err := enableSrcValidMark(sys, v, iface)
		if err != nil {
			return nil, err
		}
		if op != nil {
			steps = append(steps, Step{Op: op, Undo: &Undo{Rank: rankSysctl, Plan: func(ctx context.Context, v *View) ([]Step, error) {
				return restoreSrcValidMarkSteps(ctx, sys, iface)
			}}})
		}
	}
	fw, err := firewallStep(ctx, sys, v, iface, ffam, mark)
	if err != nil {
		return nil, err
	}
	return append(steps, fw), nil
}

// canRouteDefault checks, before any route is added, that the kernel can
// do what add_default asks for p: policy routing for its family, and for
// IPv6, IPv6 on the interface.
func canRouteDefault(sys *Sys, v *View, iface string, p netip.Prefix) error {
	fam := famOf(p)
	what := fmt.Sprintf("%s: cannot route %s through `%s'", sys.Prog, conf.FormatPrefix(p), iface)
	if fam == unix.AF_INET6 {
		key := "/proc/sys/net/ipv6/conf/" + iface + "/disable_ipv6"
		val, err := sys.Files.ReadFile(key)
		switch {
		case err == nil && strings.TrimSpace(string(val)) == "1":
			return fail(1, "%s: IPv6 is disabled on it (net.ipv6.conf.%s.disable_ipv6 = 1); enable IPv6, or remove %s from AllowedIPs",
				what, iface, conf.FormatPrefix(p))
		case errors.Is(err, fs.ErrNotExist):
			if _, err := sys.Files.Stat("/proc/sys/net/ipv6"); errors.Is(err, fs.ErrNotExist) {
				return fail(1, "%s: this host has no IPv6 (/proc/sys/net/ipv6 does not exist); remove %s from AllowedIPs",
					what, conf.FormatPrefix(p))
			}
		}
	}
	if _, err := v.Rules(fam); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EPROTONOSUPPORT) {
			return fail(1, "%s: this kernel has no %s policy routing (%s); use Table = off, or a table of your own, and route it yourself",
				what, famName(fam), conf.Strerror(err))
		}
		return fail(1, "%s: reading the %s policy rules: %v", what, famName(fam), err)
	}
	return nil
}

// freeTable is the first table number from 51820 up that has no route of
// either family, as add_default looks for it.
func freeTable(sys *Sys, v *View) (uint32, error) {
	for t := uint32(firstTable); t < firstTable+maxTableSearch; t++ {
		used, err := v.TableInUse(t)
		if err != nil {
			return 0, fail(1, "%s: looking for a free routing table: %v", sys.Prog, err)
		}
		if !used {
			return t, nil
		}
	}
	return 0, fail(1, "%s: no free routing table from %d to %d", sys.Prog, firstTable, firstTable+maxTableSearch-1)
}

// enableSrcValidMark plans src_valid_mark=1 where it is not 1 (in a
// simulation, as the simulated steps left it).
func enableSrcValidMark(sys *Sys, v *View, iface string) (Op, error) {
	if v.svm != "" {
		if v.svm == "1" {
			return nil, nil
		}
		return shownOp{line: "sysctl -q " + firewall.SrcValidMarkKey + "=1", kind: "sysctl",
			fields: map[string]any{"key": firewall.SrcValidMarkKey, "value": "1", "drop_record": false}}, nil
	}
	op, err := sys.Firewall.EnableSrcValidMark(iface)
	if err != nil {
		return nil, fail(1, "%s: %v", sys.Prog, err)
	}
	return op, nil
}

// fwmarkOp is `wg set IF fwmark MARK` (0: off).
func fwmarkOp(sys *Sys, iface string, mark uint32) deviceOp {
	return deviceOp{
		dev: sys.Dev, iface: iface,
		line:   fmt.Sprintf("wg set %s fwmark %s", iface, markWord(mark)),
		cfg:    &conf.Config{Interface: conf.Interface{FwMark: &mark}},
		fields: map[string]any{"command": "set", "fwmark": mark},
	}
}

// ruleDeleteStep deletes one listed rule, by its priority and selectors.
// Its line is the reference's command for it (`ip -4 rule delete table
// 51820`, `ip -4 rule delete table main suppress_prefixlength 0`) when
// that command deletes this very rule (the first one it matches in v),
// else that command with the rule's priority. A rule already gone is not
// an error.
func ruleDeleteStep(sys *Sys, v *View, target netlinkx.Rule, suppress bool) Step {
	shown := netlinkx.Rule{Family: target.Family, Table: target.Table, SuppressPrefixlen: -1, Priority: -1}
	if suppress {
		shown.SuppressPrefixlen = 0
	}
	if target.Priority >= 0 {
		rules, err := v.Rules(target.Family)
		first := -1
		if err == nil {
			first = slices.IndexFunc(rules, func(x netlinkx.Rule) bool {
				return x.Table == shown.Table && (!suppress || x.SuppressPrefixlen == 0)
			})
		}
		if first < 0 || rules[first].Priority != target.Priority {
			shown.Priority = target.Priority
		}
	}
	exact := target
	exact.Other = false
	if exact.Priority < 0 {
		exact = shown
	}
	return Step{Op: ruleDeleteOp{net: sys.Net, shown: shown, exact: exact}}
}

// tunnelRuleSteps is del_if's rule loops for the table mark: for IPv4,
// then IPv6, every rule that looks up the table, then every "from all
// lookup main suppress_prefixlength 0" rule but one that another full
// tunnel still needs (see keptSuppress). Each line is worked out against
// the rules as the deletions before it leave them.
func tunnelRuleSteps(sys *Sys, v *View, mark uint32) []Step {
	var steps []Step
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		rules, err := v.Rules(fam)
		if err != nil {
			continue // the reference's `ip rule show 2>/dev/null` shows nothing
		}
		keep := keptSuppress(rules, mark)
		work := newSimView(sys)
		work.rules[fam] = slices.Clone(rules)
		for _, suppress := range []bool{false, true} {
			for _, x := range rules {
				if (!suppress && x.Table == mark) || (suppress && isSuppress(x) && (keep < 0 || x.Priority != keep)) {
					s := ruleDeleteStep(sys, work, x, suppress)
					work.ruleDelete(s.Op.(ruleDeleteOp).exact)
					steps = append(steps, s)
				}
			}
		}
	}
	return steps
}

// keptSuppress is the priority of the suppress rule to keep when the
// full tunnel of table mark goes: while another full tunnel of the family
// is up (its "not fwmark M lookup M" rule is listed), the first suppress
// rule before that tunnel's rule stays, so that its local routes keep
// working (the reference deletes them all). -1 when none is kept.
func keptSuppress(rules []netlinkx.Rule, mark uint32) int {
	other := -1
	for _, x := range rules {
		if isTunnelRule(x) && x.Table != mark && x.Priority >= 0 && (other < 0 || x.Priority < other) {
			other = x.Priority
		}
	}
	if other < 0 {
		return -1
	}
	for _, x := range rules {
		if isSuppress(x) && x.Priority >= 0 && x.Priority < other {
			return x.Priority
		}
	}
	return -1
}

// firewallStep is the guard rules of one family, for the addresses the
// interface has (in v); its undo removes every rule of the interface.
func firewallStep(ctx context.Context, sys *Sys, v *View, iface string, f firewall.Family, mark uint32) (Step, error) {
	prefixes, err := v.Addresses(iface)
	if err != nil {
		return Step{}, fail(1, "%s: reading the addresses of `%s': %v", sys.Prog, iface, err)
	}
	var addrs []netip.Addr
	for _, a := range prefixes {
		if a.Addr().Is4() == (f == firewall.IPv4) {
			addrs = append(addrs, a.Addr())
		}
	}
	op, err := sys.Firewall.PlanInstall(ctx, firewall.Spec{Iface: iface, Family: f, Mark: mark, Addrs: addrs})
	if err != nil {
		return Step{}, fail(1, "%s: %v", sys.Prog, err)
	}
	v.planFirewall(ctx, iface, &f)
	return Step{Op: op, Undo: &Undo{Rank: rankFirewall, Plan: func(ctx context.Context, v *View) ([]Step, error) {
		return removeFirewallSteps(ctx, sys, iface)
	}}}, nil
}

// removeFirewallSteps is remove_firewall: every guard rule of the
// interface, of both kinds, found by name and marker. A failure to look is
// the phase's error, after the steps for what was found.
func removeFirewallSteps(ctx context.Context, sys *Sys, iface string) ([]Step, error) {
	ops, err := sys.Firewall.PlanRemove(ctx, iface)
	steps := make([]Step, 0, len(ops))
	for _, op := range ops {
		steps = append(steps, Step{Op: op})
	}
	if err != nil {
		err = fail(1, "%s: %v", sys.Prog, err)
	}
	return steps, err
}

// restoreSrcValidMarkSteps sets src_valid_mark back when wg-quick set it
// and no other full tunnel is left.
func restoreSrcValidMarkSteps(ctx context.Context, sys *Sys, iface string) ([]Step, error) {
	op, err := sys.Firewall.RestoreSrcValidMark(ctx, iface)
	if err != nil {
		return nil, fail(1, "%s: %v", sys.Prog, err)
	}
	if op == nil {
		return nil, nil
	}
	return []Step{{Op: op}}, nil
}

// leftoverSteps plans the removal of what l's interface left behind when
// the interface itself is gone (deleted by hand, its daemon killed): the
// policy rules of its full tunnel, whose table is read from the file's
// FwMark or from its guard rules and must be empty (its routes went with
// the interface); its DNS; its guard rules; then src_valid_mark. Nothing
// when nothing of it is left.
func leftoverSteps(ctx context.Context, sys *Sys, v *View, l *Loaded) ([]Step, error) {
	iface := l.Interface
	i := &l.File.Config.Interface
	var steps []Step
	if autoTable(i.Table) {
		var marks []uint32
		if m := l.fwMark(); m != 0 {
			marks = append(marks, m)
		}
		if m, err := sys.Firewall.Marks(ctx, iface); err == nil {
			marks = append(marks, m...)
		}
		slices.Sort(marks)
		for _, mark := range slices.Compact(marks) {
			if used, err := v.TableInUse(mark); err != nil || used || !hasRulesOf(v, mark) {
				continue
			}
			steps = append(steps, tunnelRuleSteps(sys, v, mark)...)
		}
	}
	if len(i.DNS) > 0 {
		if servers, _, _ := v.DNS(ctx, iface); len(servers) > 0 {
			steps = append(steps, unsetDNSSteps(ctx, sys, l, false)...)
		}
	}
	fw, ferr := removeFirewallSteps(ctx, sys, iface)
	steps = append(steps, fw...)
	if len(steps) == 0 && ferr == nil {
		return nil, nil
	}
	svm, err := restoreSrcValidMarkSteps(ctx, sys, iface)
	return append(steps, svm...), errors.Join(ferr, err)
}

// hasRulesOf reports whether a rule of either family looks up table mark.
func hasRulesOf(v *View, mark uint32) bool {
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		rules, _ := v.Rules(fam)
		if slices.ContainsFunc(rules, func(x netlinkx.Rule) bool { return x.Table == mark }) {
			return true
		}
	}
	return false
}
