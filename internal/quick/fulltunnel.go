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

// isFullTunnel reports whether the file asks for the default-route
// handling (a /0 allowed IP with Table unset or auto).
func isFullTunnel(c *conf.Config) bool {
	if t := c.Interface.Table; t != "" && t != conf.TableAuto {
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

// fullTunnel is add_default's state across the families of one up.
type fullTunnel struct {
	// added are the policy rules this up added, as the kernel lists them
	// (with the priority it gave them), for the rollback.
	added     []netlinkx.Rule
	rulesUndo bool // the rollback of added is registered
	fwUndo    bool // the firewall's removal is registered
}

func famName(fam int) string {
	if fam == unix.AF_INET6 {
		return "IPv6"
	}
	return "IPv4"
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

// addDefault is add_default for the prefix p (0.0.0.0/0 or ::/0).
func addDefault(ctx context.Context, sys *Sys, r *runner, l *Loaded, ft *fullTunnel, p netip.Prefix) error {
	iface := l.Interface
	fam, ffam := unix.AF_INET, firewall.IPv4
	if p.Addr().Is6() {
		fam, ffam = unix.AF_INET6, firewall.IPv6
	}
	dev, err := device(sys, iface)
	if err != nil {
		return err
	}
	mark := dev.FwMark
	if mark == 0 {
		if mark, err = freeTable(sys); err != nil {
			return err
		}
		if err := r.do(ctx, fwmarkStep(sys, iface, mark)); err != nil {
			return err
		}
	}
	for _, rule := range []netlinkx.Rule{tableRule(fam, mark), suppressRule(fam)} {
		if err := r.do(ctx, ft.ruleAddStep(sys, rule)); err != nil {
			return err
		}
	}
	route := netlinkx.RouteAdd{Link: iface, Prefix: p, Table: strconv.FormatUint(uint64(mark), 10), TableID: mark}
	if err := r.do(ctx, applyStep(sys, route, nil)); err != nil {
		return err
	}
	if fam == unix.AF_INET {
		if err := enableSrcValidMark(ctx, sys, r, iface); err != nil {
			return err
		}
	}
	return ft.installFirewall(ctx, sys, r, iface, ffam, mark)
}

// canRouteDefault checks, before any route is added, that the kernel can
// do what add_default asks for p: policy routing for its family, and for
// IPv6, IPv6 on the interface.
func canRouteDefault(sys *Sys, iface string, p netip.Prefix) error {
	fam := unix.AF_INET
	if p.Addr().Is6() {
		fam = unix.AF_INET6
	}
	what := fmt.Sprintf("%s: cannot route %s through `%s'", sys.Prog, conf.FormatPrefix(p), iface)
	if fam == unix.AF_INET6 {
		key := "/proc/sys/net/ipv6/conf/" + iface + "/disable_ipv6"
		v, err := sys.Files.ReadFile(key)
		switch {
		case err == nil && strings.TrimSpace(string(v)) == "1":
			return fail(1, "%s: IPv6 is disabled on it (net.ipv6.conf.%s.disable_ipv6 = 1); enable IPv6, or remove %s from AllowedIPs",
				what, iface, conf.FormatPrefix(p))
		case errors.Is(err, fs.ErrNotExist):
			if _, err := sys.Files.Stat("/proc/sys/net/ipv6"); errors.Is(err, fs.ErrNotExist) {
				return fail(1, "%s: this host has no IPv6 (/proc/sys/net/ipv6 does not exist); remove %s from AllowedIPs",
					what, conf.FormatPrefix(p))
			}
		}
	}
	if _, err := sys.Net.Rules(fam); err != nil {
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
func freeTable(sys *Sys) (uint32, error) {
	for t := uint32(firstTable); t < firstTable+maxTableSearch; t++ {
		used, err := sys.Net.TableInUse(t)
		if err != nil {
			return 0, fail(1, "%s: looking for a free routing table: %v", sys.Prog, err)
		}
		if !used {
			return t, nil
		}
	}
	return 0, fail(1, "%s: no free routing table from %d to %d", sys.Prog, firstTable, firstTable+maxTableSearch-1)
}

// fwmarkStep is `wg set IF fwmark MARK`; the interface's deletion undoes it.
func fwmarkStep(sys *Sys, iface string, mark uint32) Step {
	return Step{
		Line: fmt.Sprintf("wg set %s fwmark %d", iface, mark),
		Do: func(context.Context) error {
			if err := sys.Dev.Configure(iface, &conf.Config{Interface: conf.Interface{FwMark: &mark}}); err != nil {
				return fail(1, "Unable to modify interface: %s", conf.Strerror(err))
			}
			return nil
		},
	}
}

// ruleAddStep adds a policy rule and notes which one the kernel made, so
// that a rollback deletes that one and no other.
func (ft *fullTunnel) ruleAddStep(sys *Sys, rule netlinkx.Rule) Step {
	op := netlinkx.RuleAdd{Rule: rule}
	s := Step{Line: op.String(), Do: func(context.Context) error {
		before, _ := sys.Net.Rules(rule.Family)
		if err := sys.Net.Apply(op); err != nil {
			return netFailure(err)
		}
		after, _ := sys.Net.Rules(rule.Family)
		ft.added = append(ft.added, addedRule(before, after, rule))
		ft.rulesUndo = true
		return nil
	}}
	if !ft.rulesUndo {
		s.Undo = &Undo{Rank: rankRules, Do: func(ctx context.Context) error {
			ft.undoRules(ctx, sys)
			return nil
		}}
	}
	return s
}

// addedRule finds the rule the kernel added for want: listed after, not
// before. Where it cannot be told (the listing failed), want itself, whose
// deletion removes the first rule that matches it.
func addedRule(before, after []netlinkx.Rule, want netlinkx.Rule) netlinkx.Rule {
	for _, x := range after {
		if x.Not == want.Not && x.FwMark == want.FwMark && x.Table == want.Table &&
			x.SuppressPrefixlen == want.SuppressPrefixlen && !x.Other && !slices.Contains(before, x) {
			return x
		}
	}
	return want
}

// undoRules deletes the rules this up added, in del_if's order: IPv4 then
// IPv6, the table's rule before the suppress rule.
func (ft *fullTunnel) undoRules(ctx context.Context, sys *Sys) {
	r := &runner{stderr: sys.Stderr}
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		for _, suppress := range []bool{false, true} {
			for _, x := range ft.added {
				if x.Family == fam && (x.SuppressPrefixlen == 0) == suppress {
					if err := r.do(ctx, ruleDeleteStep(sys, x, suppress)); err != nil {
						report(sys.Stderr, err)
					}
				}
			}
		}
	}
	ft.added = nil
}

// ruleDeleteStep deletes one listed rule, by its priority and selectors.
// It prints the reference's command for it (`ip -4 rule delete table 51820`,
// `ip -4 rule delete table main suppress_prefixlength 0`) when that command
// deletes this very rule (the first one it matches), else that command with
// the rule's priority. A rule already gone is not an error.
func ruleDeleteStep(sys *Sys, target netlinkx.Rule, suppress bool) Step {
	shown := netlinkx.Rule{Family: target.Family, Table: target.Table, SuppressPrefixlen: -1, Priority: -1}
	if suppress {
		shown.SuppressPrefixlen = 0
	}
	if target.Priority >= 0 {
		rules, err := sys.Net.Rules(target.Family)
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
	return Step{
		Line: netlinkx.RuleDelete{Rule: shown}.String(),
		Do: func(context.Context) error {
			if err := sys.Net.Apply(netlinkx.RuleDelete{Rule: exact}); err != nil && !errors.Is(err, unix.ENOENT) {
				return netFailure(err)
			}
			return nil
		},
	}
}

// deleteTunnelRules is del_if's rule loops for the table mark: for IPv4,
// then IPv6, every rule that looks up the table, then every "from all
// lookup main suppress_prefixlength 0" rule but one that another full
// tunnel still needs (see keptSuppress).
func deleteTunnelRules(ctx context.Context, sys *Sys, r *runner, mark uint32) error {
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		rules, err := sys.Net.Rules(fam)
		if err != nil {
			continue // the reference's `ip rule show 2>/dev/null` shows nothing
		}
		for _, x := range rules {
			if x.Table == mark {
				if err := r.do(ctx, ruleDeleteStep(sys, x, false)); err != nil {
					return err
				}
			}
		}
		keep := keptSuppress(rules, mark)
		for _, x := range rules {
			if isSuppress(x) && (keep < 0 || x.Priority != keep) {
				if err := r.do(ctx, ruleDeleteStep(sys, x, true)); err != nil {
					return err
				}
			}
		}
	}
	return nil
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

// enableSrcValidMark is `sysctl -q net.ipv4.conf.all.src_valid_mark=1`
// when the value is not 1; the rollback sets it back.
func enableSrcValidMark(ctx context.Context, sys *Sys, r *runner, iface string) error {
	op, err := sys.Firewall.EnableSrcValidMark(iface)
	if err != nil {
		return fail(1, "%s: %v", sys.Prog, err)
	}
	if op == nil {
		return nil
	}
	return r.do(ctx, Step{
		Line: op.Line,
		Do: func(ctx context.Context) error {
			if err := op.Do(ctx); err != nil {
				return fail(1, "%s: %v", sys.Prog, err)
			}
			return nil
		},
		Undo: &Undo{Rank: rankSysctl, Do: func(ctx context.Context) error {
			bestEffort(ctx, &runner{stderr: sys.Stderr}, sys, restoreSrcValidMarkSteps(ctx, sys, iface))
			return nil
		}},
	})
}

// installFirewall is the guard rules of one family, for the addresses the
// interface has now; the rollback removes every rule of the interface.
func (ft *fullTunnel) installFirewall(ctx context.Context, sys *Sys, r *runner, iface string, f firewall.Family, mark uint32) error {
	prefixes, err := sys.Net.Addresses(iface)
	if err != nil {
		return fail(1, "%s: reading the addresses of `%s': %v", sys.Prog, iface, err)
	}
	var addrs []netip.Addr
	for _, a := range prefixes {
		if a.Addr().Is4() == (f == firewall.IPv4) {
			addrs = append(addrs, a.Addr())
		}
	}
	op, err := sys.Firewall.PlanInstall(ctx, firewall.Spec{Iface: iface, Family: f, Mark: mark, Addrs: addrs})
	if err != nil {
		return fail(1, "%s: %v", sys.Prog, err)
	}
	s := Step{Line: op.Line, Do: func(ctx context.Context) error {
		if err := op.Do(ctx); err != nil {
			return fail(1, "%s: %v", sys.Prog, err)
		}
		ft.fwUndo = true
		return nil
	}}
	if !ft.fwUndo {
		s.Undo = &Undo{Rank: rankFirewall, Do: func(ctx context.Context) error {
			bestEffort(ctx, &runner{stderr: sys.Stderr}, sys, removeFirewallSteps(ctx, sys, iface))
			return nil
		}}
	}
	return r.do(ctx, s)
}

// removeFirewallSteps is remove_firewall: every guard rule of the
// interface, of both kinds, found by name and marker. A failure to look is
// a last step that reports it.
func removeFirewallSteps(ctx context.Context, sys *Sys, iface string) []Step {
	ops, err := sys.Firewall.PlanRemove(ctx, iface)
	var steps []Step
	for _, op := range ops {
		steps = append(steps, firewallStep(sys, op))
	}
	if err != nil {
		steps = append(steps, Step{Do: func(context.Context) error { return fail(1, "%s: %v", sys.Prog, err) }})
	}
	return steps
}

// restoreSrcValidMarkSteps sets src_valid_mark back when wg-quick set it
// and no other full tunnel is left.
func restoreSrcValidMarkSteps(ctx context.Context, sys *Sys, iface string) []Step {
	op, err := sys.Firewall.RestoreSrcValidMark(ctx, iface)
	if err != nil {
		return []Step{{Do: func(context.Context) error { return fail(1, "%s: %v", sys.Prog, err) }}}
	}
	if op == nil {
		return nil
	}
	return []Step{firewallStep(sys, *op)}
}

func firewallStep(sys *Sys, op FirewallOp) Step {
	return Step{Line: op.Line, Do: func(ctx context.Context) error {
		if err := op.Do(ctx); err != nil {
			return fail(1, "%s: %v", sys.Prog, err)
		}
		return nil
	}}
}

// leftoverSteps plans the removal of what l's interface left behind when
// the interface itself is gone (deleted by hand, its daemon killed): the
// policy rules of its full tunnel, whose table is read from the file's
// FwMark or from its guard rules and must be empty (its routes went with
// the interface); its resolvconf record; its guard rules; then
// src_valid_mark. Nothing when nothing of it is left.
func leftoverSteps(ctx context.Context, sys *Sys, l *Loaded) []Step {
	iface := l.Interface
	i := &l.File.Config.Interface
	var steps []Step
	if i.Table == "" || i.Table == conf.TableAuto {
		var marks []uint32
		if i.FwMark != nil && *i.FwMark != 0 {
			marks = append(marks, *i.FwMark)
		}
		if m, err := sys.Firewall.Marks(ctx, iface); err == nil {
			marks = append(marks, m...)
		}
		slices.Sort(marks)
		for _, mark := range slices.Compact(marks) {
			if used, err := sys.Net.TableInUse(mark); err != nil || used || !hasRulesOf(sys, mark) {
				continue
			}
			steps = append(steps, Step{Do: func(ctx context.Context) error {
				return deleteTunnelRules(ctx, sys, &runner{stderr: sys.Stderr}, mark)
			}})
		}
	}
	if len(i.DNS) > 0 && len(savedDNS(ctx, sys, iface)) > 0 {
		steps = append(steps, unsetDNSSteps(ctx, sys, l)...)
	}
	steps = append(steps, removeFirewallSteps(ctx, sys, iface)...)
	if len(steps) == 0 {
		return nil
	}
	return append(steps, Step{Do: func(ctx context.Context) error {
		if !bestEffort(ctx, &runner{stderr: sys.Stderr}, sys, restoreSrcValidMarkSteps(ctx, sys, iface)) {
			return &Failure{Code: 1}
		}
		return nil
	}})
}

// hasRulesOf reports whether a rule of either family looks up table mark.
func hasRulesOf(sys *Sys, mark uint32) bool {
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		rules, _ := sys.Net.Rules(fam)
		if slices.ContainsFunc(rules, func(x netlinkx.Rule) bool { return x.Table == mark }) {
			return true
		}
	}
	return false
}
