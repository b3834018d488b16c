package quick

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
)

// DNS goes through the manager dns.Detect finds: a real resolvconf as the
// reference runs it (set_dns, unset_dns), or systemd-resolved over D-Bus
// where the only resolvconf is systemd's shim or there is none. With
// neither, up fails before it changes anything.

// dnsManager finds the host's DNS manager.
func dnsManager(ctx context.Context, sys *Sys) dns.Manager {
	return dns.Detect(dns.Host{
		LookPath:     func(name string) (string, error) { return sys.Exec.LookPath(name, sys.Env) },
		EvalSymlinks: sys.Files.EvalSymlinks,
		Resolved: func() (bool, error) {
			bus, err := resolvedBus(sys)
			if err != nil {
				return false, err
			}
			return bus.Running(ctx)
		},
	})
}

func resolvedBus(sys *Sys) (ResolvedBus, error) {
	if sys.Resolved == nil {
		return nil, fmt.Errorf("no system bus")
	}
	return sys.Resolved()
}

// checkDNS is up's check, before any change, that the file's DNS servers
// can be set: the manager to use.
func checkDNS(ctx context.Context, sys *Sys, l *Loaded) (dns.Manager, error) {
	if len(l.File.Config.Interface.DNS) == 0 {
		return dns.Manager{}, nil
	}
	m := dnsManager(ctx, sys)
	if m.Kind == dns.None {
		return m, fail(1, "%s: cannot set DNS for `%s': %s", sys.Prog, l.Interface, m.Missing)
	}
	return m, nil
}

// resolvconfName is the record name wg-quick gives resolvconf (see
// dns.ResolvconfName).
func resolvconfName(sys *Sys, iface string) string {
	path, _ := sys.Exec.LookPath("resolvconf", sys.Env)
	return dns.ResolvconfName(sys.Files, path, iface)
}

// resolvconf runs resolvconf with args; a status other than 0 is a
// *Failure with that status (127 when it is not installed).
func resolvconf(ctx context.Context, sys *Sys, stdin string, args ...string) error {
	path, err := sys.Exec.LookPath("resolvconf", sys.Env)
	if err != nil {
		return fail(127, "%s: resolvconf: command not found", sys.Prog)
	}
	code, err := sys.Exec.Run(ctx, Command{
		Path:   path,
		Args:   append([]string{"resolvconf"}, args...),
		Env:    sys.Env,
		Stdin:  strings.NewReader(stdin),
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

// dnsSteps is set_dns. With resolvconf: one resolvconf -a with every
// nameserver and one search line, undone by resolvconf -d. With
// systemd-resolved: the link's servers, domains and (for a full tunnel)
// default route, undone by reverting the link. Nothing when the file names
// no nameserver (search domains alone do nothing, as in the reference).
func dnsSteps(sys *Sys, l *Loaded, m dns.Manager) []Step {
	i := &l.File.Config.Interface
	if len(i.DNS) == 0 {
		return nil
	}
	if m.Kind == dns.Resolved {
		return resolvedSteps(sys, l)
	}
	name := resolvconfName(sys, l.Interface)
	return []Step{{
		Line: "resolvconf " + strings.Join(dns.ResolvconfAddArgs(name), " "),
		Do: func(ctx context.Context) error {
			return resolvconf(ctx, sys, dns.ResolvconfInput(i.DNS, i.DNSSearch), dns.ResolvconfAddArgs(name)...)
		},
		Undo: &Undo{Rank: rankDNS, Line: "resolvconf " + strings.Join(dns.ResolvconfDelArgs(name), " "), Do: func(ctx context.Context) error {
			return resolvconf(ctx, sys, "", dns.ResolvconfDelArgs(name)...)
		}},
	}}
}

// resolvedSteps sets the link's DNS in systemd-resolved; the first step
// registers the revert.
func resolvedSteps(sys *Sys, l *Loaded) []Step {
	i := &l.File.Config.Interface
	ops := dns.Plan(l.Interface, dns.Settings{Servers: i.DNS, Search: i.DNSSearch, FullTunnel: isFullTunnel(&l.File.Config)})
	steps := make([]Step, len(ops))
	for n, op := range ops {
		steps[n] = resolvedStep(sys, l.Interface, op)
	}
	if len(steps) > 0 {
		revert := resolvedStep(sys, l.Interface, dns.Revert{Link: l.Interface})
		steps[0].Undo = &Undo{Rank: rankDNS, Line: revert.Line, Do: revert.Do}
	}
	return steps
}

func resolvedStep(sys *Sys, iface string, op dns.Op) Step {
	return Step{Line: op.String(), Do: func(ctx context.Context) error {
		link, ok, err := sys.Net.LinkByName(iface)
		if err != nil || !ok {
			return fail(1, "%s: %s: cannot find device \"%s\"", sys.Prog, op, iface)
		}
		bus, err := resolvedBus(sys)
		if err == nil {
			err = op.Apply(ctx, bus, link.Index)
		}
		if err != nil {
			return fail(1, "%s: %v", sys.Prog, err)
		}
		return nil
	}}
}

// unsetDNSSteps is unset_dns, after the interface is gone: resolvconf -d
// when the file names a nameserver and a real resolvconf is there.
// (systemd-resolved forgets a link when it goes; down reverts it before,
// see revertDNSSteps.)
func unsetDNSSteps(ctx context.Context, sys *Sys, l *Loaded) []Step {
	if len(l.File.Config.Interface.DNS) == 0 || dnsManager(ctx, sys).Kind != dns.Resolvconf {
		return nil
	}
	name := resolvconfName(sys, l.Interface)
	return []Step{{
		Line: "resolvconf " + strings.Join(dns.ResolvconfDelArgs(name), " "),
		Do: func(ctx context.Context) error {
			return resolvconf(ctx, sys, "", dns.ResolvconfDelArgs(name)...)
		},
	}}
}

// revertDNSSteps is down's revert of the link in systemd-resolved, while
// the link is still there; nothing with another manager.
func revertDNSSteps(ctx context.Context, sys *Sys, l *Loaded) []Step {
	if len(l.File.Config.Interface.DNS) == 0 || dnsManager(ctx, sys).Kind != dns.Resolved {
		return nil
	}
	return []Step{resolvedStep(sys, l.Interface, dns.Revert{Link: l.Interface})}
}

// savedDNS reads back the interface's nameservers, as save does: from
// resolvconf (`resolvconf -l NAME`, else resolvconf's state file), or
// from systemd-resolved.
func savedDNS(ctx context.Context, sys *Sys, iface string) []string {
	if dnsManager(ctx, sys).Kind == dns.Resolved {
		link, ok, err := sys.Net.LinkByName(iface)
		bus, berr := resolvedBus(sys)
		if err != nil || !ok || berr != nil {
			return nil
		}
		servers, err := bus.LinkDNS(ctx, link.Index)
		if err != nil {
			return nil
		}
		var list []string
		for _, a := range servers {
			list = append(list, conf.FormatAddr(a))
		}
		return list
	}
	name := resolvconfName(sys, iface)
	var out []byte
	listed := false
	if path, err := sys.Exec.LookPath("resolvconf", sys.Env); err == nil {
		var b bytes.Buffer
		code, err := sys.Exec.Run(ctx, Command{
			Path: path, Args: []string{"resolvconf", "-l", name}, Env: sys.Env,
			Stdin: strings.NewReader(""), Stdout: &b, Stderr: nil,
		})
		if err == nil && code == 0 {
			out, listed = b.Bytes(), true
		}
	}
	if !listed {
		out, _ = sys.Files.ReadFile(dns.ResolvconfState + name)
	}
	return dns.ParseListed(string(out))
}

// parseNameservers keeps the addresses of a list savedDNS gave.
func parseNameservers(list []string) []netip.Addr {
	var out []netip.Addr
	for _, d := range list {
		if a, err := netip.ParseAddr(d); err == nil {
			out = append(out, a)
		}
	}
	return out
}
