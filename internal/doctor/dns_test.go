package doctor

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
)

// dnsState is wg0 up with a file whose DNS line is servers and search
// domains, a full tunnel or not, and systemd-resolved as the manager
// holding held for the link.
func dnsState(full bool, dnsLine []string, held dns.Link) *State {
	allowed := "10.0.0.2/32"
	if full {
		allowed = "0.0.0.0/0"
	}
	var i conf.Interface
	for _, v := range dnsLine {
		if a, err := netip.ParseAddr(v); err == nil {
			i.DNS = append(i.DNS, a)
		} else {
			i.DNSSearch = append(i.DNSSearch, v)
		}
	}
	return &State{
		Iface: "wg0", Path: "/etc/wireguard/wg0.conf",
		File: &conf.Config{Interface: i, Peers: []conf.Peer{{AllowedIPs: []conf.AllowedIP{{Prefix: netip.MustParsePrefix(allowed)}}}}},
		Link: &Link{Index: 5, Name: "wg0", MTU: 1420, Up: true, Kind: "wireguard"},
		DNS: DNS{Manager: dns.Resolved, Resolved: &held, Servers: held.Servers,
			Sources: []string{"systemd-resolved's link wg0"}},
	}
}

func addrList(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, v := range s {
		out = append(out, netip.MustParseAddr(v))
	}
	return out
}

func domains(s ...string) []dns.Domain {
	var out []dns.Domain
	for _, v := range s {
		out = append(out, dns.ParseDomain(v))
	}
	return out
}

func fixLines(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		for _, x := range f.Fix {
			out = append(out, x.String())
		}
	}
	return out
}

// TestCheckDNSResolved: with systemd-resolved as the DNS manager, the link
// must hold what up sets (servers, domains, default route); where it does
// not, the fix is up's own resolvectl lines (a revert first when only a
// revert clears the link's domains).
func TestCheckDNSResolved(t *testing.T) {
	line := []string{"10.0.0.53", "fd00::53", "example.com"}
	splitLines := []string{"resolvectl dns wg0 10.0.0.53 fd00::53", "resolvectl domain wg0 example.com", "resolvectl default-route wg0 no"}
	fullLines := []string{"resolvectl dns wg0 10.0.0.53 fd00::53", "resolvectl domain wg0 example.com '~.'", "resolvectl default-route wg0 yes"}
	for _, c := range []struct {
		name    string
		full    bool
		line    []string
		held    dns.Link
		summary []string // what the summary must say; none: no finding
		fix     []string
	}{
		{name: "split applied", line: line,
			held: dns.Link{Servers: addrList("10.0.0.53", "fd00::53"), Domains: domains("example.com")}},
		{name: "split applied, names spelt otherwise", line: line,
			held: dns.Link{Servers: addrList("fd00::53", "10.0.0.53"), Domains: domains("Example.COM.")}},
		{name: "split reverted", line: line, held: dns.Link{},
			summary: []string{"the file's DNS 10.0.0.53, fd00::53 is not in use", "the link's domains are none, the file's DNS makes them example.com"},
			fix:     splitLines},
		{name: "split, resolved's default route", line: line,
			held:    dns.Link{Servers: addrList("10.0.0.53", "fd00::53"), Domains: domains("example.com"), DefaultRoute: true},
			summary: []string{"wg0 is systemd-resolved's default route: names outside the file's domains go through the tunnel too"},
			fix:     splitLines},
		{name: "a server too many", line: line,
			held:    dns.Link{Servers: addrList("10.0.0.53", "fd00::53", "192.0.2.53"), Domains: domains("example.com")},
			summary: []string{"wg0's queries also go to 192.0.2.53, which the file does not name"},
			fix:     splitLines},
		{name: "full applied", full: true, line: line,
			held: dns.Link{Servers: addrList("10.0.0.53", "fd00::53"), Domains: domains("example.com", "~."), DefaultRoute: true}},
		{name: "full without ~. and default route", full: true, line: line,
			held: dns.Link{Servers: addrList("10.0.0.53", "fd00::53"), Domains: domains("example.com")},
			summary: []string{"wg0 is not systemd-resolved's default route: names under no link's domain do not go through the tunnel",
				"the link's domains are example.com, the file's DNS makes them example.com ~."},
			fix: fullLines},
		{name: "servers only, applied", line: []string{"10.0.0.53"},
			held: dns.Link{Servers: addrList("10.0.0.53"), DefaultRoute: true}},
		{name: "servers only, a domain left", line: []string{"10.0.0.53"},
			held:    dns.Link{Servers: addrList("10.0.0.53"), Domains: domains("~corp")},
			summary: []string{"the link's domains are ~corp, the file's DNS makes them none"},
			fix:     []string{"resolvectl revert wg0", "resolvectl dns wg0 10.0.0.53"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := checkDNS(dnsState(c.full, c.line, c.held))
			if len(c.summary) == 0 {
				if len(fs) != 0 {
					t.Fatalf("findings for what up sets: %+v", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].Check != "dns-not-applied" || fs[0].Severity != Problem {
				t.Fatalf("findings: %+v", fs)
			}
			if got, want := fs[0].Summary, strings.Join(c.summary, "; "); got != want {
				t.Errorf("summary:\n %s\nwant\n %s", got, want)
			}
			if got := fixLines(fs); !slices.Equal(got, c.fix) {
				t.Errorf("fix:\n %q\nwant\n %q", got, c.fix)
			}
			if ev := strings.Join(fs[0].Evidence, "\n"); !strings.HasPrefix(ev, "systemd-resolved's link wg0 (read over D-Bus): servers ") {
				t.Errorf("evidence: %s", ev)
			}
		})
	}
}

// TestCheckDNSResolvconf: with a resolvconf, the fix is up's resolvconf line;
// with no DNS manager at all, what is missing.
func TestCheckDNSResolvconf(t *testing.T) {
	s := dnsState(false, []string{"10.0.0.53", "example.com"}, dns.Link{})
	s.DNS = DNS{Manager: dns.Resolvconf, Record: "tun.wg0", Sources: []string{"resolvconf's record tun.wg0", "/etc/resolv.conf"},
		Servers: addrList("192.0.2.53")}
	fs := checkDNS(s)
	want := []string{`printf 'nameserver 10.0.0.53\nsearch example.com\n' | resolvconf -a tun.wg0 -m 0 -x`}
	if got := fixLines(fs); len(fs) != 1 || !slices.Equal(got, want) || fs[0].Summary != "the file's DNS 10.0.0.53 is not in use" {
		t.Errorf("resolvconf: %+v\nfix %q", fs, got)
	}
	s.DNS.Servers = append(s.DNS.Servers, addrList("10.0.0.53")...)
	if fs := checkDNS(s); len(fs) != 0 {
		t.Errorf("resolvconf, applied: %+v", fs)
	}

	s.DNS = DNS{Manager: dns.None, Sources: []string{"/etc/resolv.conf"}, Servers: addrList("192.0.2.53"),
		Missing: "there is no resolvconf in PATH and systemd-resolved is not running; install openresolv or resolvconf, or start systemd-resolved, or remove DNS from the file"}
	fs = checkDNS(s)
	if got := fixLines(fs); len(fs) != 1 || !slices.Equal(got, []string{s.DNS.Missing}) || fs[0].Fix[0].Command != "" {
		t.Errorf("no manager: %+v", fs)
	}
}
