package quick

import (
	"context"

	"github.com/gowg/wgtools/internal/dns"
)

// resolvedDNS is systemd-resolved, over D-Bus (Sys.Resolved): the link's
// servers, its domains and, for a full tunnel, the link as resolved's
// default route (dns.Plan), each an Op printing as its resolvectl
// command; undone by reverting the link. resolved forgets a link that is
// deleted, so down reverts it first (OnLink).
type resolvedDNS struct {
	sys *Sys
	bus ResolvedBus
}

func (d resolvedDNS) Set(iface string, s DNSSettings) []Op {
	var ops []Op
	for _, op := range dns.Plan(iface, dns.Settings{Servers: s.Servers, Search: s.Search, FullTunnel: s.FullTunnel}) {
		ops = append(ops, resolvedOp{sys: d.sys, bus: d.bus, iface: iface, op: op})
	}
	return ops
}

func (d resolvedDNS) Unset(iface string) []Op {
	return []Op{resolvedOp{sys: d.sys, bus: d.bus, iface: iface, op: dns.Revert{Link: iface}}}
}

func (resolvedDNS) OnLink() bool       { return true }
func (resolvedDNS) Check(string) error { return nil }

// Want is the servers and the domains dns.Plan sets (with "~." for a full
// tunnel), as Get reads them back.
func (resolvedDNS) Want(s DNSSettings) (servers, search []string) {
	for _, op := range dns.Plan("", dns.Settings{Servers: s.Servers, Search: s.Search, FullTunnel: s.FullTunnel}) {
		switch o := op.(type) {
		case dns.SetDNS:
			servers = dnsRecordOf(o.Servers, nil).servers
		case dns.SetDomains:
			search = domainWords(o.Domains)
		}
	}
	return servers, search
}

func domainWords(list []dns.Domain) []string {
	var out []string
	for _, d := range list {
		out = append(out, d.String())
	}
	return out
}

// Get reads the link's servers and domains from resolved; nothing when
// the link or resolved is not there.
func (d resolvedDNS) Get(ctx context.Context, iface string) (servers, search []string, ok bool) {
	link, found, err := d.sys.Net.LinkByName(iface)
	if err != nil || !found {
		return nil, nil, false
	}
	held, err := d.bus.Link(ctx, link.Index)
	if err != nil {
		return nil, nil, false
	}
	servers = dnsRecordOf(held.Servers, nil).servers
	search = domainWords(held.Domains)
	return servers, search, len(servers) > 0 || len(search) > 0
}

// resolvedOp is one change to systemd-resolved for a link, named by the
// interface (its index is looked up when the change is made).
type resolvedOp struct {
	sys   *Sys
	bus   ResolvedBus
	iface string
	op    dns.Op
}

func (o resolvedOp) String() string { return o.op.String() }

func (o resolvedOp) Do(ctx context.Context) error {
	sys := o.sys
	link, ok, err := sys.Net.LinkByName(o.iface)
	if err != nil || !ok {
		return fail(1, "%s: %s: cannot find device \"%s\"", sys.Prog, o.op, o.iface)
	}
	if err := o.op.Apply(ctx, o.bus, link.Index); err != nil {
		return fail(1, "%s: %v", sys.Prog, err)
	}
	return nil
}

// simulate changes the View's record of the link as resolved would.
func (o resolvedOp) simulate(v *View) {
	if _, ok := o.op.(dns.Revert); ok {
		v.dns[o.iface] = nil
		return
	}
	rec := &dnsRecord{}
	if servers, search, ok := v.DNS(context.Background(), o.iface); ok {
		rec = &dnsRecord{servers: servers, search: search}
	}
	switch op := o.op.(type) {
	case dns.SetDNS:
		rec.servers = dnsRecordOf(op.Servers, nil).servers
	case dns.SetDomains:
		rec.search = domainWords(op.Domains)
	}
	v.dns[o.iface] = rec
}

func (o resolvedOp) Kind() string { return "dns" }

// Fields are those of every DNS change; what the Op does not set is null.
func (o resolvedOp) Fields() map[string]any {
	f := map[string]any{"interface": o.iface, "backend": "systemd-resolved", "record": nil, "action": "set",
		"servers": nil, "search": nil, "default_route": nil}
	switch op := o.op.(type) {
	case dns.SetDNS:
		f["servers"] = append([]string{}, dnsRecordOf(op.Servers, nil).servers...)
	case dns.SetDomains:
		f["search"] = append([]string{}, domainWords(op.Domains)...)
	case dns.SetDefaultRoute:
		f["default_route"] = op.On
	case dns.Revert:
		f["action"] = "unset"
	}
	return f
}
