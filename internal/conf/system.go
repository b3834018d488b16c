package conf

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SystemResolver resolves host names with the Go resolver (/etc/hosts, then
// DNS per /etc/resolv.conf), mapping its failures to getaddrinfo's words.
type SystemResolver struct{}

// Resolve returns the first address for host, preferring what the resolver
// ranks first (it orders DNS answers by RFC 6724, as glibc does).
func (SystemResolver) Resolve(host string) (netip.Addr, error) {
	if host == "" {
		return netip.Addr{}, &ResolveError{Msg: "Name or service not known", Permanent: true}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return netip.Addr{}, &ResolveError{Msg: "Name or service not known", Permanent: true}
		}
		return netip.Addr{}, &ResolveError{Msg: "Temporary failure in name resolution"}
	}
	if len(addrs) == 0 {
		return netip.Addr{}, &ResolveError{Msg: "No address associated with hostname", Permanent: true}
	}
	// The Go resolver gives IPv4 answers (from /etc/hosts too) as
	// IPv4-mapped IPv6; getaddrinfo gives them as IPv4.
	return addrs[0].Unmap(), nil
}

// LookupService finds a UDP service's port in /etc/services.
func LookupService(name string) (uint16, bool) {
	f, err := os.Open("/etc/services")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	return lookupService(bufio.NewScanner(f), name)
}

func lookupService(sc *bufio.Scanner, name string) (uint16, bool) {
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		portText, proto, ok := strings.Cut(fields[1], "/")
		if !ok || proto != "udp" {
			continue
		}
		match := fields[0] == name
		for _, alias := range fields[2:] {
			match = match || alias == name
		}
		if !match {
			continue
		}
		if n, err := strconv.ParseUint(portText, 10, 16); err == nil {
			return uint16(n), true
		}
	}
	return 0, false
}

// RTTablesFiles are the files iproute2 reads table names from, in order.
var rtTablesDirs = []string{"/etc/iproute2", "/usr/share/iproute2", "/usr/lib/iproute2"}

// LookupTable maps a routing table name to its number as iproute2 does:
// the built-in names, then rt_tables and rt_tables.d/*.conf.
func LookupTable(name string) (uint32, bool) {
	switch name {
	case "default":
		return 253, true
	case "main":
		return 254, true
	case "local":
		return 255, true
	case "unspec":
		return 0, true
	}
	for _, dir := range rtTablesDirs {
		files := []string{filepath.Join(dir, "rt_tables")}
		more, _ := filepath.Glob(filepath.Join(dir, "rt_tables.d", "*.conf"))
		files = append(files, more...)
		for _, file := range files {
			if id, ok := lookupTableFile(file, name); ok {
				return id, true
			}
		}
	}
	return 0, false
}

func lookupTableFile(path, name string) (uint32, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[1] != name {
			continue
		}
		if n, err := parseTableNumber(fields[0]); err == nil {
			return n, true
		}
	}
	return 0, false
}

func parseTableNumber(s string) (uint32, error) {
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s, base = s[2:], 16
	}
	n, err := parseUnsigned(s, base)
	if err != nil || n > 0xffffffff {
		return 0, strconv.ErrRange
	}
	return uint32(n), nil
}
