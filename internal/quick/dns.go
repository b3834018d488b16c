package quick

import (
	"bytes"
	"context"
	"io/fs"
	"regexp"
	"strings"
	"sync"

	"github.com/gowg/wgtools/internal/conf"
)

const (
	interfaceOrder  = "/etc/resolvconf/interface-order"
	resolvconfState = "/etc/resolvconf/run/interface/"
)

var interfaceOrderLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9-]+)\*$`) })

// resolvconfName is the record name wg-quick gives resolvconf: the
// interface, led by "tun." (or whatever the first "NAME*" line of
// /etc/resolvconf/interface-order says) when that file exists and the
// resolvconf in PATH is not a symlink (Debian's resolvconf, not openresolv
// or systemd's).
func resolvconfName(sys *Sys, iface string) string {
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
func dnsInput(i *conf.Interface) string {
	var b strings.Builder
	for _, d := range i.DNS {
		b.WriteString("nameserver " + conf.FormatAddr(d) + "\n")
	}
	if len(i.DNSSearch) > 0 {
		b.WriteString("search " + strings.Join(i.DNSSearch, " ") + "\n")
	}
	return b.String()
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

// dnsSteps is set_dns: one resolvconf -a with every nameserver and one
// search line, undone by resolvconf -d. Nothing when the file names no
// nameserver (search domains alone do nothing, as in the reference).
func dnsSteps(sys *Sys, l *Loaded) []Step {
	i := &l.File.Config.Interface
	if len(i.DNS) == 0 {
		return nil
	}
	name := resolvconfName(sys, l.Interface)
	return []Step{{
		Line: "resolvconf -a " + name + " -m 0 -x",
		Do: func(ctx context.Context) error {
			return resolvconf(ctx, sys, dnsInput(i), "-a", name, "-m", "0", "-x")
		},
		Undo: &Undo{Rank: rankDNS, Line: "resolvconf -d " + name + " -f", Do: func(ctx context.Context) error {
			return resolvconf(ctx, sys, "", "-d", name, "-f")
		}},
	}}
}

// unsetDNS is unset_dns: resolvconf -d when the file names a nameserver.
func unsetDNSSteps(sys *Sys, l *Loaded) []Step {
	if len(l.File.Config.Interface.DNS) == 0 {
		return nil
	}
	name := resolvconfName(sys, l.Interface)
	return []Step{{
		Line: "resolvconf -d " + name + " -f",
		Do: func(ctx context.Context) error {
			return resolvconf(ctx, sys, "", "-d", name, "-f")
		},
	}}
}

var savedNameserver = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^nameserver ([a-zA-Z0-9_=+:%.-]+)$`) })

// savedDNS reads back the nameservers of the interface's resolvconf record
// (`resolvconf -l NAME`, else resolvconf's state file), as save does.
func savedDNS(ctx context.Context, sys *Sys, iface string) []string {
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
		out, _ = sys.Files.ReadFile(resolvconfState + name)
	}
	var list []string
	for line := range strings.SplitSeq(string(out), "\n") {
		if m := savedNameserver().FindStringSubmatch(strings.Trim(line, " \t")); m != nil {
			list = append(list, m[1])
		}
	}
	return list
}
