package quick

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/osys"
)

// DNS is where an interface's nameservers and search domains go while it
// is up. Its changes are Ops like any other (they print their line, a dry
// run shows them, a rollback undoes them). Two backends: resolvconf, as
// the reference runs it (set_dns, unset_dns), and systemd-resolved over
// D-Bus (resolved.go), whose Ops print as the resolvectl commands that do
// the same. Sys.DNS is the one chosen (HostDNS on the real machine: see
// cmd/wg-quick/host.go); nil means resolvconf.
type DNS interface {
	// Set plans giving iface the settings (set_dns): its Ops, in order.
	Set(iface string, s DNSSettings) []Op
	// Unset plans taking iface's away (unset_dns).
	Unset(iface string) []Op
	// Get reads what iface has now, in the form Want gives; ok false
	// when it has nothing.
	Get(ctx context.Context, iface string) (servers, search []string, ok bool)
	// Want is what Get reads once Set's Ops have run on an interface that
	// had nothing.
	Want(s DNSSettings) (servers, search []string)
	// Check says why Set cannot work on this host (no DNS manager), nil
	// when it can.
	Check(iface string) error
	// OnLink reports whether the settings are the link's own (resolved
	// forgets them when the link goes, and Set changes only what it
	// names): down unsets them before it deletes the link, and a change
	// unsets before it sets. Otherwise they are a record of their own
	// (resolvconf's), which Set replaces and which outlives the link.
	OnLink() bool
}

// DNSSettings are what a file asks of DNS.
type DNSSettings struct {
	Servers []netip.Addr
	// Search are the search domains, as written.
	Search []string
	// FullTunnel: the file routes everything through the interface (a
	// backend may send every name through it too).
	FullTunnel bool
}

// dnsOf is what l's file asks of DNS.
func dnsOf(l *Loaded) DNSSettings {
	c := &l.File.Config
	return DNSSettings{Servers: c.Interface.DNS, Search: c.Interface.DNSSearch, FullTunnel: IsFullTunnel(c)}
}

// dns is the DNS backend: Sys.DNS, else resolvconf (the reference's).
func (s *Sys) dns() DNS {
	if s.DNS != nil {
		return s.DNS
	}
	return resolvconfDNS{sys: s}
}

// checkDNS is up's and reload's check, before any change, that the
// file's DNS servers can be set: a DNS manager is there.
func checkDNS(sys *Sys, l *Loaded) error {
	if len(l.File.Config.Interface.DNS) == 0 {
		return nil
	}
	return sys.dns().Check(l.Interface)
}

// DNS is what iface has in the View: as a simulated step left it, else as
// the backend reads it.
func (v *View) DNS(ctx context.Context, iface string) (servers, search []string, ok bool) {
	if r, set := v.dns[iface]; set {
		if r == nil {
			return nil, nil, false
		}
		return slices.Clone(r.servers), slices.Clone(r.search), true
	}
	return v.sys.dns().Get(ctx, iface)
}

// dnsRecordOf is the record a simulation keeps for servers and search.
func dnsRecordOf(servers []netip.Addr, search []string) *dnsRecord {
	rec := &dnsRecord{search: slices.Clone(search)}
	for _, s := range servers {
		rec.servers = append(rec.servers, conf.FormatAddr(s))
	}
	return rec
}

// resolvconfDNS is the reference's backend: one `resolvconf -a` with every
// nameserver and one search line, undone by `resolvconf -d`.
type resolvconfDNS struct{ sys *Sys }

// name is the record name wg-quick gives resolvconf (see
// dns.ResolvconfName: "tun.IFACE" with Debian's resolvconf).
func (d resolvconfDNS) name(iface string) string {
	path, _ := d.sys.Exec.LookPath("resolvconf", d.sys.Env)
	return dns.ResolvconfName(d.sys.Files, path, iface)
}

func (d resolvconfDNS) Set(iface string, s DNSSettings) []Op {
	name := d.name(iface)
	return []Op{dnsOp{sys: d.sys, iface: iface, name: name, args: dns.ResolvconfAddArgs(name),
		stdin: dns.ResolvconfInput(s.Servers, s.Search), rec: dnsRecordOf(s.Servers, s.Search)}}
}

func (d resolvconfDNS) Unset(iface string) []Op {
	name := d.name(iface)
	return []Op{dnsOp{sys: d.sys, iface: iface, name: name, args: dns.ResolvconfDelArgs(name)}}
}

func (d resolvconfDNS) Want(s DNSSettings) (servers, search []string) {
	rec := dnsRecordOf(s.Servers, s.Search)
	return rec.servers, rec.search
}

func (resolvconfDNS) OnLink() bool       { return false }
func (resolvconfDNS) Check(string) error { return nil }

// The pattern is compiled on first use: the embedded device's daemon is
// this binary too, and would pay for it at every start.
var savedSearch = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^search (.+)$`) })

// Get reads the interface's resolvconf record: Debian's resolvconf's
// record file where there is one (its `resolvconf -l` ignores the name and
// lists every record, so the reference's save also keeps the nameservers
// of other interfaces), else `resolvconf -l NAME` (openresolv), else the
// older record path, as the reference's save.
func (d resolvconfDNS) Get(ctx context.Context, iface string) (servers, search []string, ok bool) {
	sys := d.sys
	name := d.name(iface)
	out, err := sys.Files.ReadFile(dns.ResolvconfRecords + name)
	if path, lerr := sys.Exec.LookPath("resolvconf", sys.Env); err != nil && lerr == nil {
		var b bytes.Buffer
		code, rerr := sys.Exec.Run(ctx, osys.Command{
			Path: path, Args: []string{"resolvconf", "-l", name}, Env: sys.Env,
			Stdin: strings.NewReader(""), Stdout: &b, Stderr: nil,
		})
		if rerr == nil && code == 0 {
			out, err = b.Bytes(), nil
		}
	}
	if err != nil {
		out, _ = sys.Files.ReadFile(dns.ResolvconfState + name)
	}
	servers = dns.ParseListed(string(out))
	for line := range strings.SplitSeq(string(out), "\n") {
		if m := savedSearch().FindStringSubmatch(strings.Trim(line, " \t")); m != nil {
			search = append(search, strings.Fields(m[1])...)
		}
	}
	return servers, search, len(servers) > 0 || len(search) > 0
}

// dnsOp runs resolvconf: -a NAME with the record on its input, or -d.
type dnsOp struct {
	sys   *Sys
	iface string
	name  string
	args  []string
	stdin string
	rec   *dnsRecord // what -a sets; nil for -d
}

func (o dnsOp) String() string { return "resolvconf " + strings.Join(o.args, " ") }

// Do runs resolvconf; a status other than 0 is a *Failure with that
// status (127 when it is not installed).
func (o dnsOp) Do(ctx context.Context) error {
	sys := o.sys
	path, err := sys.Exec.LookPath("resolvconf", sys.Env)
	if err != nil {
		return fail(127, "%s: resolvconf: command not found", sys.Prog)
	}
	code, err := sys.Exec.Run(ctx, osys.Command{
		Path:   path,
		Args:   append([]string{"resolvconf"}, o.args...),
		Env:    sys.Env,
		Stdin:  strings.NewReader(o.stdin),
		Stdout: sys.Stdout,
		Stderr: sys.Stderr,
	})
	if err != nil {
		return fail(126, "%s: resolvconf: %v", sys.Prog, err)
	}
	if code != 0 {
		return &Failure{Code: code}
	}
	return nil
}

func (o dnsOp) simulate(v *View) { v.dns[o.iface] = o.rec }
func (o dnsOp) Kind() string     { return "dns" }
func (o dnsOp) Fields() map[string]any {
	f := map[string]any{"interface": o.iface, "backend": "resolvconf", "record": o.name, "action": "unset", "servers": []string{}, "search": []string{}}
	if o.rec != nil {
		f["action"] = "set"
		f["servers"] = append([]string{}, o.rec.servers...)
		f["search"] = append([]string{}, o.rec.search...)
	}
	return f
}

// noDNS is a host with no DNS manager: up and reload refuse a file with
// DNS servers before any change (checkDNS); nothing is there to read or
// unset.
type noDNS struct {
	sys     *Sys
	missing string // what is missing, in words for the user
}

func (n noDNS) err(iface string) error {
	return fmt.Errorf("cannot set DNS for `%s': %s", iface, n.missing)
}

func (n noDNS) Set(iface string, s DNSSettings) []Op {
	return []Op{failOp{kind: "dns", err: fail(1, "%s: %v", n.sys.Prog, n.err(iface))}}
}
func (noDNS) Unset(string) []Op                                      { return nil }
func (noDNS) Get(context.Context, string) ([]string, []string, bool) { return nil, nil, false }
func (noDNS) Want(s DNSSettings) ([]string, []string)                { return nil, nil }
func (noDNS) OnLink() bool                                           { return false }
func (n noDNS) Check(iface string) error                             { return n.err(iface) }

// dnsSteps is set_dns: nothing when the file names no nameserver (search
// domains alone do nothing, as in the reference); undone by unset_dns
// (registered with the first Op).
func dnsSteps(ctx context.Context, sys *Sys, l *Loaded) []Step {
	if len(l.File.Config.Interface.DNS) == 0 {
		return nil
	}
	d := sys.dns()
	ops := d.Set(l.Interface, dnsOf(l))
	steps := make([]Step, len(ops))
	for i, op := range ops {
		steps[i] = Step{Op: op}
	}
	if len(steps) > 0 {
		steps[0].Undo = undoWith(rankDNS, d.Unset(l.Interface)...)
	}
	return steps
}

// unsetDNSSteps is unset_dns, when the file names a nameserver: for a
// backend whose settings are the link's (onLink), while the link is
// there; for the others, after it is gone.
func unsetDNSSteps(ctx context.Context, sys *Sys, l *Loaded, onLink bool) []Step {
	if len(l.File.Config.Interface.DNS) == 0 {
		return nil
	}
	d := sys.dns()
	if d.OnLink() != onLink {
		return nil
	}
	var steps []Step
	for _, op := range d.Unset(l.Interface) {
		steps = append(steps, Step{Op: op})
	}
	return steps
}
