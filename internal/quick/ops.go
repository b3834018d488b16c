package quick

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/netlinkx"
	"github.com/gowg/wgtools/internal/osys"
)

// The Ops of wg-quick's own changes. internal/firewall's Op (guard rules,
// src_valid_mark) is an Op as it is.

// netOp is a netlinkx operation on the namespace.
type netOp struct {
	net Net
	op  netlinkx.Op
}

func (o netOp) String() string { return o.op.String() }

func (o netOp) Do(context.Context) error {
	if err := o.net.Apply(o.op); err != nil {
		return netFailure(err)
	}
	return nil
}

func (o netOp) netlinkOp() netlinkx.Op { return o.op }

// willFail foresees the kernel's "File exists" for a route or an address
// the View has already.
func (o netOp) willFail(v *View) error {
	exists := false
	switch op := o.op.(type) {
	case netlinkx.RouteAdd:
		table := op.TableID
		if table == 0 {
			table = unix.RT_TABLE_MAIN
		}
		routes, _ := v.Routes(famOf(op.Prefix), table)
		exists = slices.ContainsFunc(routes, func(r netlinkx.Route) bool { return r.Dst == op.Prefix.Masked() })
	case netlinkx.AddrAdd:
		addrs, _ := v.Addresses(op.Link)
		exists = slices.Contains(addrs, op.Prefix)
	}
	if exists {
		return netFailure(netlinkx.NewError(o.op.String(), unix.EEXIST))
	}
	return nil
}
func (o netOp) simulate(v *View)       { v.applyNet(o.op) }
func (o netOp) Kind() string           { return netKind(o.op) }
func (o netOp) Fields() map[string]any { return netFields(o.op) }

// netFailure turns a netlinkx error into the failure ip would report.
func netFailure(err error) error {
	var e *netlinkx.Error
	if errors.As(err, &e) {
		return &Failure{Msg: e.Error(), Code: e.ExitCode(), Err: e}
	}
	return fail(2, "%v", err)
}

func netKind(op netlinkx.Op) string {
	switch op.(type) {
	case netlinkx.AddrAdd, netlinkx.AddrDelete:
		return "address"
	case netlinkx.RouteAdd, netlinkx.RouteDelete:
		return "route"
	case netlinkx.RuleAdd, netlinkx.RuleDelete:
		return "rule"
	}
	return "link"
}

func familyName(ipv6 bool) string {
	if ipv6 {
		return "inet6"
	}
	return "inet"
}

func ruleFields(action string, r netlinkx.Rule) map[string]any {
	f := map[string]any{
		"action": action, "family": familyName(r.Family == unix.AF_INET6), "not": r.Not,
		"fwmark": nil, "table": nil, "suppress_prefixlength": nil, "priority": nil,
	}
	if r.FwMark != 0 {
		f["fwmark"] = r.FwMark
	}
	if r.Table != 0 {
		f["table"] = r.Table
	}
	if r.SuppressPrefixlen >= 0 {
		f["suppress_prefixlength"] = r.SuppressPrefixlen
	}
	if r.Priority >= 0 {
		f["priority"] = r.Priority
	}
	return f
}

func tableField(name string, id uint32) any {
	if name == "" {
		return "main"
	}
	if id != 0 {
		return id
	}
	return name
}

func netFields(op netlinkx.Op) map[string]any {
	switch o := op.(type) {
	case netlinkx.LinkAdd:
		return map[string]any{"action": "add", "interface": o.Name, "type": "wireguard", "mtu": nil, "up": nil}
	case netlinkx.LinkDelete:
		return map[string]any{"action": "delete", "interface": o.Name, "type": nil, "mtu": nil, "up": nil}
	case netlinkx.LinkSetMTUUp:
		return map[string]any{"action": "set", "interface": o.Name, "type": nil, "mtu": o.MTU, "up": true}
	case netlinkx.LinkSetMTU:
		return map[string]any{"action": "set", "interface": o.Name, "type": nil, "mtu": o.MTU, "up": nil}
	case netlinkx.AddrAdd:
		return map[string]any{"action": "add", "interface": o.Link, "address": o.Raw}
	case netlinkx.AddrDelete:
		return map[string]any{"action": "delete", "interface": o.Link, "address": o.Raw}
	case netlinkx.RouteAdd:
		return map[string]any{"action": "add", "interface": o.Link, "destination": conf.FormatPrefix(o.Prefix), "table": tableField(o.Table, o.TableID)}
	case netlinkx.RouteDelete:
		return map[string]any{"action": "delete", "interface": o.Link, "destination": conf.FormatPrefix(o.Prefix), "table": tableField(o.Table, o.TableID)}
	case netlinkx.RuleAdd:
		return ruleFields("add", o.Rule)
	case netlinkx.RuleDelete:
		return ruleFields("delete", o.Rule)
	}
	return map[string]any{}
}

// daemonExitTimeout bounds the wait for a userspace daemon to go away.
const daemonExitTimeout = 5 * time.Second

// deleteLinkOp deletes the interface (and with it its addresses and
// routes) and waits, bounded, for a userspace device's daemon to exit.
type deleteLinkOp struct {
	sys   *Sys
	iface string
}

func (o deleteLinkOp) String() string { return netlinkx.LinkDelete{Name: o.iface}.String() }

func (o deleteLinkOp) Do(context.Context) error {
	wait := o.sys.Userspace.Watch(o.iface)
	if err := o.sys.Net.Apply(netlinkx.LinkDelete{Name: o.iface}); err != nil {
		return netFailure(err)
	}
	if wait != nil && !wait(daemonExitTimeout) {
		fmt.Fprintf(o.sys.Stderr, "[!] The userspace daemon of `%s' did not exit.\n", o.iface)
	}
	return nil
}

func (o deleteLinkOp) simulate(v *View) { v.deleteLink(o.iface) }
func (o deleteLinkOp) Kind() string     { return "link" }
func (o deleteLinkOp) Fields() map[string]any {
	return netFields(netlinkx.LinkDelete{Name: o.iface})
}

// ruleAddOp adds a policy rule and notes which one the kernel made (with
// the priority it gave it), so that its undo deletes that rule and no
// other.
type ruleAddOp struct {
	net  Net
	rule netlinkx.Rule
	made *netlinkx.Rule // set by Do
}

func newRuleAdd(net Net, r netlinkx.Rule) ruleAddOp {
	return ruleAddOp{net: net, rule: r, made: new(netlinkx.Rule)}
}

func (o ruleAddOp) String() string { return netlinkx.RuleAdd{Rule: o.rule}.String() }

func (o ruleAddOp) Do(context.Context) error {
	before, _ := o.net.Rules(o.rule.Family)
	if err := o.net.Apply(netlinkx.RuleAdd{Rule: o.rule}); err != nil {
		return netFailure(err)
	}
	after, _ := o.net.Rules(o.rule.Family)
	*o.made = addedRule(before, after, o.rule)
	return nil
}

func (o ruleAddOp) simulate(v *View) {
	before, _ := v.Rules(o.rule.Family)
	v.ruleAdd(o.rule)
	after, _ := v.Rules(o.rule.Family)
	*o.made = addedRule(before, after, o.rule)
}

func (o ruleAddOp) Kind() string           { return "rule" }
func (o ruleAddOp) Fields() map[string]any { return ruleFields("add", o.rule) }

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

// ruleDeleteOp deletes one rule exactly (by its priority and selectors);
// its line is the reference's command for it (see ruleDeleteStep). A rule
// already gone is not an error.
type ruleDeleteOp struct {
	net          Net
	shown, exact netlinkx.Rule
}

func (o ruleDeleteOp) String() string { return netlinkx.RuleDelete{Rule: o.shown}.String() }

func (o ruleDeleteOp) Do(context.Context) error {
	if err := o.net.Apply(netlinkx.RuleDelete{Rule: o.exact}); err != nil && !errors.Is(err, unix.ENOENT) {
		return netFailure(err)
	}
	return nil
}

func (o ruleDeleteOp) simulate(v *View)       { v.ruleDelete(o.exact) }
func (o ruleDeleteOp) Kind() string           { return "rule" }
func (o ruleDeleteOp) Fields() map[string]any { return ruleFields("delete", o.exact) }

// deviceOp configures the WireGuard device (`wg addconf`, `wg set`).
type deviceOp struct {
	dev   Devices
	iface string
	line  string
	cfg   *conf.Config
	// fields describe the change (never a secret); describe, when set,
	// makes them when asked.
	fields   map[string]any
	describe func() map[string]any
}

func (o deviceOp) String() string { return o.line }

func (o deviceOp) Do(context.Context) error {
	if err := o.dev.Configure(o.iface, o.cfg); err != nil {
		return fail(1, "Unable to modify interface: %s", conf.Strerror(err))
	}
	return nil
}

func (o deviceOp) simulate(v *View) { v.configure(o.iface, o.cfg) }
func (o deviceOp) Kind() string     { return "device" }
func (o deviceOp) Fields() map[string]any {
	f := map[string]any{"interface": o.iface}
	fields := o.fields
	if o.describe != nil {
		fields = o.describe()
	}
	for k, val := range fields {
		f[k] = val
	}
	return f
}

// hookOp runs a PreUp, PostUp, PreDown or PostDown hook.
type hookOp struct {
	sys  *Sys
	l    *Loaded
	text string // %i expanded
	line string // text with the file's secrets hidden
	key  string // "PreUp", ...
}

func (o hookOp) String() string { return o.line }

func (o hookOp) Do(ctx context.Context) error { return runHook(ctx, o.sys, o.l, o.text) }

func (o hookOp) simulate(v *View) { v.unsure(o.key + " hooks") }
func (o hookOp) Kind() string     { return "hook" }
func (o hookOp) Fields() map[string]any {
	return map[string]any{"hook": o.key, "command": o.line}
}

// userspaceOp starts a userspace device: the embedded one, or the program
// WG_QUICK_USERSPACE_IMPLEMENTATION names (found at path).
type userspaceOp struct {
	sys        *Sys
	iface      string
	impl, path string // "" for the embedded device
}

func (o userspaceOp) String() string {
	if o.impl == "" {
		return "wireguard-go " + o.iface
	}
	return o.impl + " " + o.iface
}

func (o userspaceOp) Do(ctx context.Context) error {
	sys := o.sys
	if o.impl == "" {
		if err := sys.Userspace.StartEmbedded(o.iface); err != nil {
			return fail(1, "%v", err)
		}
		return nil
	}
	code, err := sys.Exec.Run(ctx, osys.Command{
		Path: o.path, Args: []string{o.impl, o.iface}, Env: sys.Env,
		Stdin: sys.Stdin, Stdout: sys.Stdout, Stderr: sys.Stderr,
	})
	if err != nil {
		return fail(126, "%s: %s: %v", sys.Prog, o.impl, err)
	}
	if code != 0 {
		return &Failure{Code: code}
	}
	return nil
}

func (o userspaceOp) simulate(v *View) { v.addLink(o.iface, "tun") }
func (o userspaceOp) Kind() string     { return "userspace" }
func (o userspaceOp) Fields() map[string]any {
	impl := any(nil)
	if o.impl != "" {
		impl = o.impl
	}
	return map[string]any{"interface": o.iface, "implementation": impl}
}

// hidden is how a secret shows in a line or a field.
const hidden = "(hidden)"

// keyFields describe the keys of an interface change without their values.
func keyFields(i *conf.Interface) map[string]any {
	f := map[string]any{"private_key": nil, "listen_port": nil, "fwmark": nil}
	if i.PrivateKey != nil {
		f["private_key"] = hidden
	}
	if i.ListenPort != nil {
		f["listen_port"] = *i.ListenPort
	}
	if i.FwMark != nil {
		f["fwmark"] = *i.FwMark
	}
	return f
}

// peerNames are the public keys of peers, for a change's fields.
func peerNames(peers []conf.Peer) []string {
	out := make([]string, 0, len(peers))
	for _, p := range peers {
		out = append(out, p.PublicKey.String())
	}
	return out
}

// joinFields is a, with b's keys added.
func joinFields(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// lineWords quotes nothing: wg-quick's lines are made of words that need
// none.
func lineWords(w ...string) string { return strings.Join(w, " ") }

// failOp is a step that fails when the run gets to it, with its line
// printed first: the reference's command that fails there (a route into a
// table rt_tables does not know).
type failOp struct {
	line string
	kind string
	err  error
}

func (o failOp) String() string           { return o.line }
func (o failOp) Do(context.Context) error { return o.err }
func (o failOp) simulate(*View)           {}
func (o failOp) Kind() string             { return o.kind }
func (o failOp) Fields() map[string]any   { return map[string]any{"fails": o.err.Error()} }

// shownOp is a change a simulation plans where the machine's own planner
// would plan none (it reads the machine, which the simulated steps have
// not changed): it prints, and a real run never meets it.
type shownOp struct {
	line, kind string
	fields     map[string]any
}

func (o shownOp) String() string { return o.line }
func (o shownOp) Do(context.Context) error {
	return fmt.Errorf("internal error: a simulated step (%s) was run", o.line)
}
func (o shownOp) simulate(*View)         {}
func (o shownOp) Kind() string           { return o.kind }
func (o shownOp) Fields() map[string]any { return o.fields }
