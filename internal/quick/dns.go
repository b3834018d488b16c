package quick

import (
	"bytes"
	"context"
	"io/fs"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/osys"
)

// DNS is where an interface's nameservers and search domains go while it
// is up. Its changes are Ops like any other (they print their line, a dry
// run shows them, a rollback undoes them). The reference's backend is
// resolvconf (set_dns, unset_dns); Sys.DNS nil means that one.
type DNS interface {
	// Set plans giving iface servers and search domains (set_dns).
	Set(iface string, servers []netip.Addr, search []string) Op
	// Unset plans taking iface's away (unset_dns).
	Unset(iface string) Op
	// Get reads what iface has now, ok false when it has nothing.
	Get(ctx context.Context, iface string) (servers, search []string, ok bool)
}

func (s *Sys) dns() DNS {
	if s.DNS != nil {
		return s.DNS
	}
	return resolvconfDNS{sys: s}
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

const (
	interfaceOrder  = "/etc/resolvconf/interface-order"
	resolvconfState = "/etc/resolvconf/run/interface/"
)

var interfaceOrderLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9-]+)\*$`) })

// resolvconfDNS is the reference's backend: one `resolvconf -a` with every
// nameserver and one search line, undone by `resolvconf -d`.
type resolvconfDNS struct{ sys *Sys }

// name is the record name wg-quick gives resolvconf: the interface, led
// by "tun." (or whatever the first "NAME*" line of
// /etc/resolvconf/interface-order says) when that file exists and the
// resolvconf in PATH is not a symlink (Debian's resolvconf, not openresolv
// or systemd's).
func (d resolvconfDNS) name(iface string) string {
	sys := d.sys
	st, err := sys.Files.Stat(interfaceOrder)
	if err != nil || !st.Mode().IsRegular() {
		return iface
	}
	if path, err := sys.Exec.LookPath("resolvconf", sys.Env); err == nil {
		if lst, err := sys.Files.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
			return iface
		}
	}
	data, err := sys.Files.ReadFile(interfaceOrder)
	if err != nil {
		return iface
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if m := interfaceOrderLine().FindStringSubmatch(strings.Trim(line, " \t")); m != nil {
			return m[1] + "." + iface
		}
	}
	return iface
}

// dnsInput is what set_dns pipes into resolvconf.
func dnsInput(servers []netip.Addr, search []string) string {
	var b strings.Builder
	for _, d := range servers {
		b.WriteString("nameserver " + conf.FormatAddr(d) + "\n")
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	return b.String()
}

func (d resolvconfDNS) Set(iface string, servers []netip.Addr, search []string) Op {
	name := d.name(iface)
	rec := &dnsRecord{search: slices.Clone(search)}
	for _, s := range servers {
		rec.servers = append(rec.servers, conf.FormatAddr(s))
	}
	return dnsOp{sys: d.sys, iface: iface, name: name, args: []string{"-a", name, "-m", "0", "-x"}, stdin: dnsInput(servers, search), rec: rec}
}

func (d resolvconfDNS) Unset(iface string) Op {
	name := d.name(iface)
	return dnsOp{sys: d.sys, iface: iface, name: name, args: []string{"-d", name, "-f"}}
}

// The patterns are compiled on first use: the embedded device's daemon is
// this binary too, and would pay for them at every start.
var (
	savedNameserver = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^nameserver ([a-zA-Z0-9_=+:%.-]+)$`) })
	savedSearch     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^search (.+)$`) })
)

// Get reads the interface's resolvconf record (`resolvconf -l NAME`, else
// resolvconf's state file), as save does.
func (d resolvconfDNS) Get(ctx context.Context, iface string) (servers, search []string, ok bool) {
	sys := d.sys
	name := d.name(iface)
	var out []byte
	listed := false
	if path, err := sys.Exec.LookPath("resolvconf", sys.Env); err == nil {
		var b bytes.Buffer
		code, err := sys.Exec.Run(ctx, osys.Command{
			Path: path, Args: []string{"resolvconf", "-l", name}, Env: sys.Env,
			Stdin: strings.NewReader(""), Stdout: &b, Stderr: nil,
		})
		if err == nil && code == 0 {
			out, listed = b.Bytes(), true
		}
	}
	if !listed {
		out, _ = sys.Files.ReadFile(resolvconfState + name)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		line = strings.Trim(line, " \t")
		if m := savedNameserver().FindStringSubmatch(line); m != nil {
			servers = append(servers, m[1])
		} else if m := savedSearch().FindStringSubmatch(line); m != nil {
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

// dnsSteps is set_dns: nothing when the file names no nameserver (search
// domains alone do nothing, as in the reference); undone by unset_dns.
func dnsSteps(sys *Sys, l *Loaded) []Step {
	i := &l.File.Config.Interface
	if len(i.DNS) == 0 {
		return nil
	}
	return []Step{{
		Op:   sys.dns().Set(l.Interface, i.DNS, i.DNSSearch),
		Undo: undoWith(rankDNS, sys.dns().Unset(l.Interface)),
	}}
}

// unsetDNSSteps is unset_dns: when the file names a nameserver.
func unsetDNSSteps(sys *Sys, l *Loaded) []Step {
	if len(l.File.Config.Interface.DNS) == 0 {
		return nil
	}
	return []Step{{Op: sys.dns().Unset(l.Interface)}}
}
