package quick

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// BenchmarkUpPlan runs up with 1000 and 5000 peers (each a /32, every
// other one a /128 too) on a machine that does every change at once and
// costs nothing: what wg-quick itself computes (the device read back, the
// route list and its order, the covered-prefix checks, the steps, the
// trace), without the kernel's or the device's time.
func BenchmarkUpPlan(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			text := manyPeers(n, "")
			f, err := conf.ParseQuick("/etc/wireguard/wg0.conf", []byte(text), &conf.Options{})
			if err != nil {
				b.Fatal(err)
			}
			l := &Loaded{Interface: "wg0", Path: "/etc/wireguard/wg0.conf", File: f}
			for b.Loop() {
				m := &nullHost{}
				sys := &Sys{Net: m, Dev: m, Userspace: m, Files: m, Prog: "wg-quick", Stderr: io.Discard, Stdout: io.Discard,
					LookupEnv: func(string) (string, bool) { return "", false }}
				if code := Up(context.Background(), sys, l); code != 0 {
					b.Fatalf("up: %d", code)
				}
				if m.routes != n+n/2+1 { // and manyPeers' covered one: no connected route here
					b.Fatalf("%d routes", m.routes)
				}
			}
		})
	}
}

// nullHost is a machine on which every change succeeds at no cost: one
// kernel WireGuard interface, wg0 (index 5), and its device.
type nullHost struct {
	link   bool
	dev    *conf.Device
	routes int
}

func (m *nullHost) LinkByName(name string) (netlinkx.Link, bool, error) {
	return netlinkx.Link{Index: 5, Name: name, MTU: 1420, Kind: "wireguard"}, m.link, nil
}

// Files: a machine with IPv6 on (/proc/sys/net/ipv6 there, nothing read
// from it) and no other file wg-quick looks at.
func (m *nullHost) ReadFile(name string) ([]byte, error) { return nil, fs.ErrNotExist }
func (m *nullHost) Stat(name string) (fs.FileInfo, error) {
	if name == "/proc/sys/net/ipv6" {
		return nil, nil
	}
	return nil, fs.ErrNotExist
}
func (m *nullHost) Lstat(name string) (fs.FileInfo, error)   { return nil, fs.ErrNotExist }
func (m *nullHost) EvalSymlinks(name string) (string, error) { return name, nil }

func (m *nullHost) LinkByIndex(int) (netlinkx.Link, bool, error) { return netlinkx.Link{}, false, nil }
func (m *nullHost) Apply(op netlinkx.Op) error {
	switch op.(type) {
	case netlinkx.LinkAdd:
		m.link = true
	case netlinkx.RouteAdd:
		m.routes++
	}
	return nil
}
func (m *nullHost) ApplyBatch(ops []netlinkx.Op) []error {
	for _, op := range ops {
		m.Apply(op)
	}
	return make([]error, len(ops))
}
func (m *nullHost) Addresses(string) ([]netip.Prefix, error)     { return nil, nil }
func (m *nullHost) Routes(int, uint32) ([]netlinkx.Route, error) { return nil, nil }
func (m *nullHost) RouteGetAll(d []netip.Addr) []netlinkx.RouteLookup {
	return make([]netlinkx.RouteLookup, len(d))
}
func (m *nullHost) Rules(int) ([]netlinkx.Rule, error)  { return nil, nil }
func (m *nullHost) TableInUse(uint32) (bool, error)     { return false, nil }
func (m *nullHost) Interfaces() ([]string, error)       { return []string{"wg0"}, nil }
func (m *nullHost) Device(string) (*conf.Device, error) { return m.dev, nil }
func (m *nullHost) KernelModule() bool                  { return true }
func (m *nullHost) ModuleAvailable() bool               { return true }
func (m *nullHost) StartEmbedded(string) error          { return nil }
func (m *nullHost) SocketOwner(string) (int, bool)      { return 0, false }

func (m *nullHost) Watch(string) func(time.Duration) bool { return nil }
func (m *nullHost) Configure(name string, cfg *conf.Config) error {
	m.dev = &conf.Device{Name: name}
	for _, p := range cfg.Peers {
		dp := conf.DevicePeer{PublicKey: p.PublicKey}
		for _, a := range p.AllowedIPs {
			dp.AllowedIPs = append(dp.AllowedIPs, a.Prefix.Masked())
		}
		m.dev.Peers = append(m.dev.Peers, dp)
	}
	return nil
}

// BenchmarkAllowedIPs5000 is the route list of 5000 peers: formatted,
// filtered and sorted as `wg show IF allowed-ips | sort -nr -k 2 -t /`.
func BenchmarkAllowedIPs5000(b *testing.B) {
	dev := &conf.Device{Name: "wg0"}
	for i := range 5000 {
		p := conf.DevicePeer{AllowedIPs: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.1.%d.%d/32", i/250, i%250+1))}}
		if i%2 == 0 {
			p.AllowedIPs = append(p.AllowedIPs, netip.MustParsePrefix(fmt.Sprintf("fd01::%x/128", i+1)))
		}
		dev.Peers = append(dev.Peers, p)
	}
	for b.Loop() {
		if len(allowedIPs(dev)) != 7500 {
			b.Fatal("wrong count")
		}
	}
}
