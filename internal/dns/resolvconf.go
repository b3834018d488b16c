package dns

import (
	"io/fs"
	"net/netip"
	"regexp"
	"strings"
	"sync"

	"github.com/gowg/wgtools/internal/conf"
)

// Files reads the few files the resolvconf naming rule looks at.
type Files interface {
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	ReadFile(name string) ([]byte, error)
}

// Debian's resolvconf keeps its order file and records here.
const (
	InterfaceOrder  = "/etc/resolvconf/interface-order"
	ResolvconfState = "/etc/resolvconf/run/interface/"
)

var interfaceOrderLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z0-9-]+)\*$`) })

// ResolvconfName is the record name the reference gives resolvconf: the
// interface, led by "tun." (or whatever the first "NAME*" line of
// /etc/resolvconf/interface-order says) when that file exists and the
// resolvconf at path is not a symlink (Debian's resolvconf, not openresolv
// or systemd's). path is "" when there is no resolvconf.
func ResolvconfName(files Files, path, iface string) string {
	st, err := files.Stat(InterfaceOrder)
	if err != nil || !st.Mode().IsRegular() {
		return iface
	}
	if path != "" {
		if lst, err := files.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
			return iface
		}
	}
	data, err := files.ReadFile(InterfaceOrder)
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

// ResolvconfAddArgs and ResolvconfDelArgs are the reference's arguments.
func ResolvconfAddArgs(name string) []string { return []string{"-a", name, "-m", "0", "-x"} }
func ResolvconfDelArgs(name string) []string { return []string{"-d", name, "-f"} }

// ResolvconfInput is what the reference's set_dns pipes into resolvconf:
// a nameserver line for each server, then one search line.
func ResolvconfInput(servers []netip.Addr, search []string) string {
	var b strings.Builder
	for _, d := range servers {
		b.WriteString("nameserver " + conf.FormatAddr(d) + "\n")
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	return b.String()
}

var listedNameserver = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^nameserver ([a-zA-Z0-9_=+:%.-]+)$`) })

// ParseListed reads the nameservers from `resolvconf -l NAME`'s output or a
// resolvconf record, as the reference's save does.
func ParseListed(out string) []string {
	var list []string
	for line := range strings.SplitSeq(out, "\n") {
		if m := listedNameserver().FindStringSubmatch(strings.Trim(line, " \t")); m != nil {
			list = append(list, m[1])
		}
	}
	return list
}
