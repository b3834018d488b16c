package doctor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/netlinkx"
	"github.com/gowg/wgtools/internal/quick"
	"github.com/gowg/wgtools/internal/wgdev"
)

// Options say what Read looks at beyond the defaults.
type Options struct {
	// Watch is how long to watch the interface (0: no watch).
	Watch time.Duration
	// Targets are addresses the user wants to reach (--to).
	Targets []netip.Prefix
	// Sys is wg-quick's view of the machine, for the resolvconf record
	// (its files and programs); nil skips the DNS check.
	Sys *quick.Sys
	// DNS is the host's DNS manager as up finds it (nil: found without
	// a system bus).
	DNS *quick.HostDNS
	// ProcSys is where the sysctls are read ("/proc/sys" when empty).
	ProcSys string
}

// ErrNoLook is wrapped by Read's error when it could not look at all.
var ErrNoLook = errors.New("could not look")

// Read takes the snapshot the checks need, of the current network
// namespace, for the interface l names. It changes nothing. What it cannot
// read is listed in State.NotChecked; the error is set only when it could
// not look at the interface at all (doctor then exits 2).
func Read(ctx context.Context, l *quick.Loaded, o Options) (*State, error) {
	s := &State{
		Iface:   l.Interface,
		Path:    l.Path,
		File:    &l.File.Config,
		Now:     time.Now(),
		Targets: o.Targets,
		Sysctl:  map[string]string{},
	}
	h := &netlink.Handle{}
	if err := readLinks(h, s); err != nil {
		return nil, fmt.Errorf("%w: listing the network interfaces: %v", ErrNoLook, err)
	}
	if s.Link == nil {
		return s, nil
	}
	dev := wgdev.New()
	defer dev.Close()
	d, err := dev.Device(s.Iface)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the WireGuard device %s: %v", ErrNoLook, s.Iface, conf.Strerror(err))
	}
	d.PrivateKey.Wipe()
	s.Dev = d
	readRoutes(h, s)
	readRules(s)
	readSysctls(s, o.ProcSys)
	readFirewall(ctx, s)
	if o.Sys != nil && len(s.File.Interface.DNS) > 0 {
		hd := o.DNS
		if hd == nil {
			hd = quick.NewHostDNS(o.Sys, nil)
		}
		readDNS(ctx, s, o.Sys, hd)
	}
	if o.Sys != nil {
		readDrift(ctx, s, l, o.Sys)
	}
	if o.Watch > 0 && s.Link.Up {
		w, err := watch(ctx, s, o.Watch)
		if err != nil {
			s.NotChecked = append(s.NotChecked, NotChecked{"watching " + s.Iface, err.Error()})
		} else {
			s.Watch = w
			if d, err := dev.Device(s.Iface); err == nil {
				d.PrivateKey.Wipe()
				s.DevAfter = d
			}
		}
	}
	for _, q := range Queries(s) {
		s.Lookups = append(s.Lookups, lookup(h, s, q))
	}
	return s, nil
}

func readLinks(h *netlink.Handle, s *State) error {
	links, err := h.LinkList()
	if err != nil {
		return err
	}
	for _, nl := range links {
		a := nl.Attrs()
		l := Link{Index: a.Index, Name: a.Name, MTU: a.MTU, Up: a.Flags&net.FlagUp != 0, Kind: nl.Type()}
		s.Links = append(s.Links, l)
		if l.Name == s.Iface {
			s.Link = &l
		}
	}
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		ones, _ := a.Mask.Size()
		s.Local = append(s.Local, ip)
		if s.Link != nil && a.LinkIndex == s.Link.Index {
			s.Addrs = append(s.Addrs, netip.PrefixFrom(ip, ones))
		}
	}
	return nil
}

// readRoutes reads the main table, the file's Table and the fwmark table.
func readRoutes(h *netlink.Handle, s *State) {
	tables := []uint32{rtTableMain}
	if t := s.File.Interface.TableID; t != 0 && t != rtTableMain {
		tables = append(tables, t)
	}
	if m := s.Dev.FwMark; m != 0 && !slices.Contains(tables, m) {
		tables = append(tables, m)
	}
	for _, t := range tables {
		list, err := h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: int(t)}, netlink.RT_FILTER_TABLE)
		if err != nil {
			s.NotChecked = append(s.NotChecked, NotChecked{fmt.Sprintf("routes of table %d", t), err.Error()})
			continue
		}
		for _, r := range list {
			s.Routes = append(s.Routes, routeOf(s, r))
		}
	}
}

func routeOf(s *State, r netlink.Route) Route {
	out := Route{LinkIndex: r.LinkIndex, Table: uint32(r.Table), Type: r.Type, MTU: r.MTU, Metric: r.Priority}
	if r.Dst != nil {
		if a, ok := netip.AddrFromSlice(r.Dst.IP); ok {
			ones, _ := r.Dst.Mask.Size()
			out.Dst = netip.PrefixFrom(a.Unmap(), ones)
		}
	}
	if !out.Dst.IsValid() {
		if r.Family == unix.AF_INET6 {
			out.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			out.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	}
	if a, ok := netip.AddrFromSlice(r.Gw); ok {
		out.Gateway = a.Unmap()
	}
	if a, ok := netip.AddrFromSlice(r.Src); ok {
		out.Src = a.Unmap()
	}
	if l, ok := s.linkByIndex(r.LinkIndex); ok {
		out.Dev = l.Name
	}
	return out
}

func readRules(s *State) {
	h := netlinkx.New()
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		rules, err := h.Rules(fam)
		if err != nil {
			if fam == unix.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT) {
				continue
			}
			s.NotChecked = append(s.NotChecked, NotChecked{"policy rules", err.Error()})
			continue
		}
		s.Rules = append(s.Rules, rules...)
	}
}

// maxSysctlLinks bounds how many interfaces' sysctls are read.
const maxSysctlLinks = 512

func readSysctls(s *State, root string) {
	if root == "" {
		root = "/proc/sys"
	}
	keys := []string{"net/ipv4/ip_forward", "net/ipv4/conf/all/src_valid_mark", "net/ipv6/conf/all/forwarding",
		"net/ipv6/conf/" + s.Iface + "/forwarding"}
	names := []string{"all"}
	for i, l := range s.Links {
		if i < maxSysctlLinks || l.Name == s.Iface {
			names = append(names, l.Name)
		}
	}
	for _, n := range names {
		keys = append(keys, "net/ipv4/conf/"+n+"/rp_filter", "net/ipv4/conf/"+n+"/forwarding")
	}
	for _, k := range keys {
		if v, err := os.ReadFile(filepath.Join(root, k)); err == nil {
			s.Sysctl[k] = strings.TrimSpace(string(v))
		}
	}
}

// readDNS reads where up would have put the file's DNS: systemd-resolved's
// link over D-Bus where it is the manager; else resolvconf's record,
// resolved's state file and /etc/resolv.conf.
func readDNS(ctx context.Context, s *State, sys *quick.Sys, hd *quick.HostDNS) {
	m := hd.Manager()
	s.DNS.Manager, s.DNS.Missing = m.Kind, m.Missing
	if m.Kind == dns.Resolved {
		s.DNS.Sources = append(s.DNS.Sources, "systemd-resolved's link "+s.Iface)
		held, err := hd.ResolvedLink(ctx, s.Link.Index)
		if err != nil {
			s.NotChecked = append(s.NotChecked, NotChecked{"DNS in systemd-resolved", err.Error()})
			s.DNS.Sources = nil
			return
		}
		s.DNS.Resolved = &held
		s.DNS.Servers = slices.Clone(held.Servers)
		return
	}
	path, err := sys.Exec.LookPath("resolvconf", sys.Env)
	if err != nil {
		path = ""
	}
	s.DNS.Record = dns.ResolvconfName(sys.Files, path, s.Iface)
	add := func(list []string) {
		for _, v := range list {
			if a, err := netip.ParseAddr(v); err == nil && !slices.Contains(s.DNS.Servers, a) {
				s.DNS.Servers = append(s.DNS.Servers, a.Unmap())
			}
		}
	}
	if m.Kind == dns.Resolvconf {
		// The record as up's resolvconf backend reads it back.
		s.DNS.Sources = append(s.DNS.Sources, "resolvconf's record "+s.DNS.Record)
		servers, _, _ := hd.Get(ctx, s.Iface)
		add(servers)
	}
	// systemd-resolved keeps what was set for a link in a state file.
	if data, err := os.ReadFile(fmt.Sprintf("/run/systemd/resolve/netif/%d", s.Link.Index)); err == nil {
		s.DNS.Sources = append(s.DNS.Sources, "systemd-resolved's link "+s.Iface)
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "SERVERS="); ok {
				add(strings.Fields(v))
			}
		}
	}
	if data, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		s.DNS.Sources = append(s.DNS.Sources, "/etc/resolv.conf")
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && f[0] == "nameserver" {
				add(f[1:2])
			}
		}
	}
}

// lookup asks the kernel one Query.
func lookup(h *netlink.Handle, s *State, q Query) Lookup {
	opts := &netlink.RouteGetOptions{Mark: q.Mark}
	if q.Iif != "" {
		opts.Iif = q.Iif
		opts.SrcAddr = net.IP(q.Src.AsSlice())
	}
	routes, err := h.RouteGetWithOptions(net.IP(q.Dst.AsSlice()), opts)
	l := Lookup{Query: q}
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			l.Err = conf.ErrnoString(errno)
		} else {
			l.Err = err.Error()
		}
		return l
	}
	if len(routes) == 0 {
		return l
	}
	l.OK = true
	l.Route = routeOf(s, routes[0])
	l.Route.Dst = netip.PrefixFrom(q.Dst, q.Dst.BitLen())
	return l
}

// readFirewall reads the forward and nat chains, and wg-quick's guard
// rules' marks.
func readFirewall(ctx context.Context, s *State) {
	fw, err := ReadFirewall()
	if err != nil {
		s.NotChecked = append(s.NotChecked, NotChecked{"the firewall", err.Error()})
	} else {
		s.Firewall = fw
	}
	if quick.IsFullTunnel(s.File) {
		marks, err := firewall.New(firewall.Options{}).Marks(ctx, s.Iface)
		if err != nil {
			s.NotChecked = append(s.NotChecked, NotChecked{"wg-quick's full-tunnel rules", err.Error()})
		}
		s.GuardMarks = marks
	}
}
