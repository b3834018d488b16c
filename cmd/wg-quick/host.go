package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/netlinkx"
	"github.com/gowg/wgtools/internal/osys"
	"github.com/gowg/wgtools/internal/quick"
	"github.com/gowg/wgtools/internal/userspace"
	"github.com/gowg/wgtools/internal/wgdev"
)

// The real machine as the engine (internal/quick) sees it: netlinkx for the
// namespace, wgdev for the devices, internal/firewall for the full tunnel's
// rules and src_valid_mark, internal/userspace for the embedded device,
// internal/dns's Bus for systemd-resolved on the system bus, osys for
// programs, files, the lock and signals.

// osOptions are what the real machine's Sys needs from main.
type osOptions struct {
	Prog string // program name for messages
	Self string // this executable (re-executed for the userspace device)
	// Environ and LookupEnv are wg-quick's own environment.
	Environ   []string
	LookupEnv func(string) (string, bool)
	Stdin     *os.File
	Stdout    *os.File
	Stderr    *os.File
	// Firewall is the full tunnel's firewall backend (WG_QUICK_FIREWALL).
	Firewall firewall.Backend
}

// newOSSys wires the real machine: netlink, wgdev, the embedded userspace
// device, programs run with the reference's environment (LC_ALL=C, the
// directory of wg-quick first in PATH), the per-interface lock in
// /var/run/wireguard, the DNS manager up finds (HostDNS, over the system
// bus connected when DNS first needs it). The returned closer closes what
// was opened.
func newOSSys(o osOptions) (*quick.Sys, *quick.HostDNS, func()) {
	h := netlinkx.New() // its ApplyBatch sends route additions together
	dev := wgdev.New()
	env := osys.ChildEnv(o.Environ, o.Self)
	sys := &quick.Sys{
		Net:       h,
		Dev:       dev,
		Exec:      osys.Exec{},
		Files:     osys.Files{},
		Firewall:  newOSFirewall(o.Firewall, o.Stderr),
		Prog:      o.Prog,
		Env:       env,
		LookupEnv: o.LookupEnv,
		Stdin:     o.Stdin,
		Stdout:    o.Stdout,
		Stderr:    o.Stderr,
		Lock: func(iface, verb string) (*osys.Lock, error) {
			return osys.AcquireLock(wgdev.DefaultRunDir, iface, verb)
		},
		PeekLock: func(iface string) (string, error) {
			return osys.PeekLock(wgdev.DefaultRunDir, iface)
		},
	}
	sys.Userspace = &osUserspace{net: h, opts: o, env: env}
	bus := &systemBus{}
	hd := quick.NewHostDNS(sys, bus.connect)
	sys.DNS = hd
	return sys, hd, func() {
		dev.Close()
		bus.close()
	}
}

// systemBus is systemd-resolved on the system bus, connected on first use
// (only a host without a real resolvconf, with DNS in the file, needs it).
type systemBus struct {
	once sync.Once
	bus  *dns.Bus
	err  error
}

func (b *systemBus) connect() (quick.ResolvedBus, error) {
	b.once.Do(func() { b.bus, b.err = dns.ConnectSystemBus() })
	if b.err != nil {
		return nil, b.err
	}
	return b.bus, nil
}

func (b *systemBus) close() {
	if b.bus != nil {
		b.bus.Close()
	}
}

type osUserspace struct {
	net  *netlinkx.Handle
	opts osOptions
	env  []string
}

// ModuleAvailable looks for wireguard in the running kernel's module
// lists (built in, or a module modprobe can load).
func (u *osUserspace) ModuleAvailable() bool {
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return false
	}
	dir := "/lib/modules/" + strings.TrimSpace(string(rel))
	for _, f := range []string{"modules.builtin", "modules.dep"} {
		if data, err := os.ReadFile(dir + "/" + f); err == nil && strings.Contains(string(data), "/wireguard.ko") {
			return true
		}
	}
	return false
}

func (u *osUserspace) KernelModule() bool {
	_, err := os.Stat("/sys/module/wireguard")
	return err == nil
}

func (u *osUserspace) StartEmbedded(name string) error {
	level, _ := u.opts.LookupEnv("LOG_LEVEL")
	return userspace.Start(name, userspace.Options{
		Self:     u.opts.Self,
		Stdout:   u.opts.Stdout,
		Stderr:   u.opts.Stderr,
		LogLevel: level,
		Env:      u.env,
		Warn: func(msg string) {
			if u.opts.Stderr != nil {
				io.WriteString(u.opts.Stderr, "[!] "+msg+"\n")
			}
		},
		Prepare: func(name string) error {
			// No IPv6 link-local address, as on a kernel interface. Best
			// effort: it fails only where IPv6 is off, and then there is
			// no link-local address anyway.
			u.net.SetAddrGenModeNone(name)
			return nil
		},
	})
}

func (u *osUserspace) SocketOwner(name string) (int, bool) { return userspace.SocketOwner(name) }

func (u *osUserspace) Watch(name string) func(time.Duration) bool {
	s := userspace.Watch(name)
	if s == nil {
		return nil
	}
	return s.Wait
}

// osFirewall is internal/firewall in wg-quick's own network namespace.
type osFirewall struct {
	fw  *firewall.Firewall
	svm firewall.SrcValidMark
}

func newOSFirewall(b firewall.Backend, stderr io.Writer) *osFirewall {
	return &osFirewall{
		fw:  firewall.New(firewall.Options{Backend: b}),
		svm: firewall.SrcValidMark{Warn: func(s string) { fmt.Fprintf(stderr, "[!] %s\n", s) }},
	}
}

// The firewall's Ops are the engine's as they are: its planners' results
// pass through unwrapped.

func (f *osFirewall) PlanInstall(ctx context.Context, s firewall.Spec) (quick.Op, error) {
	op, err := f.fw.PlanInstall(ctx, s)
	if err != nil {
		return nil, err
	}
	return op, nil
}

func (f *osFirewall) PlanRemove(ctx context.Context, iface string) ([]quick.Op, error) {
	ops, err := f.fw.PlanRemove(ctx, iface)
	out := make([]quick.Op, len(ops))
	for i, op := range ops {
		out[i] = op
	}
	return out, err
}

func (f *osFirewall) Families(ctx context.Context, iface string) ([]firewall.Family, error) {
	return f.fw.Families(ctx, iface)
}

func (f *osFirewall) Marks(ctx context.Context, iface string) ([]uint32, error) {
	return f.fw.Marks(ctx, iface)
}

func (f *osFirewall) EnableSrcValidMark(iface string) (quick.Op, error) {
	op, err := f.svm.PlanEnable(iface)
	if op == nil || err != nil {
		return nil, err
	}
	return *op, nil
}

func (f *osFirewall) RestoreSrcValidMark(ctx context.Context, iface string) (quick.Op, error) {
	op, err := f.svm.PlanRestore(ctx, iface, f.fw)
	if op == nil || err != nil {
		return nil, err
	}
	return *op, nil
}
