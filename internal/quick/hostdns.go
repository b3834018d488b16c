package quick

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gowg/wgtools/internal/dns"
)

// HostDNS is the host's DNS manager as up finds it (internal/dns's
// Detect), when DNS is first asked about: a real resolvconf, as the
// reference; else systemd-resolved when it answers on the system bus;
// else none (noDNS, which up and reload refuse before any change).
// cmd/wg-quick/host.go makes it the real machine's Sys.DNS; doctor reads
// the same choice (Manager, ResolvedLink).
type HostDNS struct {
	sys *Sys
	// bus connects to systemd-resolved's bus (once; the caller closes
	// it); nil means there is no bus.
	bus  func() (ResolvedBus, error)
	once sync.Once
	m    dns.Manager
	d    DNS
}

// detectWait bounds the D-Bus questions of the detection.
const detectWait = 10 * time.Second

// NewHostDNS is sys's DNS manager, found with bus.
func NewHostDNS(sys *Sys, bus func() (ResolvedBus, error)) *HostDNS {
	return &HostDNS{sys: sys, bus: bus}
}

func (h *HostDNS) resolved() (ResolvedBus, error) {
	if h.bus == nil {
		return nil, errNoBus
	}
	return h.bus()
}

var errNoBus = errors.New("no system bus")

// choice finds the manager, once.
func (h *HostDNS) choice() DNS {
	h.once.Do(func() {
		sys := h.sys
		ctx, cancel := context.WithTimeout(context.Background(), detectWait)
		defer cancel()
		h.m = dns.Detect(dns.Host{
			LookPath:     func(name string) (string, error) { return sys.Exec.LookPath(name, sys.Env) },
			EvalSymlinks: sys.Files.EvalSymlinks,
			Resolved: func() (bool, error) {
				bus, err := h.resolved()
				if err != nil {
					return false, err
				}
				return bus.Running(ctx)
			},
		})
		switch h.m.Kind {
		case dns.Resolvconf:
			h.d = resolvconfDNS{sys: sys}
		case dns.Resolved:
			bus, err := h.resolved()
			if err != nil {
				h.d = noDNS{sys: sys, missing: "systemd-resolved cannot be reached on the system bus: " + err.Error()}
				return
			}
			h.d = resolvedDNS{sys: sys, bus: bus}
		default:
			h.d = noDNS{sys: sys, missing: h.m.Missing}
		}
	})
	return h.d
}

// Manager is the manager found (dns.Detect's answer).
func (h *HostDNS) Manager() dns.Manager {
	h.choice()
	return h.m
}

func (h *HostDNS) Set(iface string, s DNSSettings) []Op { return h.choice().Set(iface, s) }
func (h *HostDNS) Unset(iface string) []Op              { return h.choice().Unset(iface) }
func (h *HostDNS) Want(s DNSSettings) ([]string, []string) {
	return h.choice().Want(s)
}
func (h *HostDNS) Check(iface string) error { return h.choice().Check(iface) }
func (h *HostDNS) OnLink() bool             { return h.choice().OnLink() }
func (h *HostDNS) Get(ctx context.Context, iface string) (servers, search []string, ok bool) {
	return h.choice().Get(ctx, iface)
}

// ResolvedLink reads what systemd-resolved holds for the link with index
// ifindex, over the bus up uses (doctor).
func (h *HostDNS) ResolvedLink(ctx context.Context, ifindex int) (dns.Link, error) {
	bus, err := h.resolved()
	if err != nil {
		return dns.Link{}, err
	}
	return bus.Link(ctx, ifindex)
}
