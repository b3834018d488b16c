package quick

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/ipv6"
	"github.com/gowg/wgtools/internal/osys"
)

// Save writes the interface's running configuration over l's file, as the
// reference's cmd_save does, and returns the exit status.
func Save(ctx context.Context, sys *Sys, l *Loaded) int {
	lock, err := sys.lock(l.Interface, "save")
	if err != nil {
		return die(sys, err)
	}
	defer lock.Release()
	if ok, err := NewView(sys).IsWireGuard(l.Interface); err != nil || !ok {
		return die(sys, errNotWireGuard(l.Interface))
	}
	if err := newRunner(sys).run(ctx, phaseOf("save_config", stop, Step{Op: saveOp{sys: sys, l: l}})); err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	return 0
}

// saveOp is save_config: "[#] wg showconf IF", then what the interface
// has merged into the file (conf.MergeSaved: its comments and layout
// kept), written atomically with mode 0600.
type saveOp struct {
	sys *Sys
	l   *Loaded
}

func (o saveOp) String() string { return "wg showconf " + o.l.Interface }

func (o saveOp) Do(ctx context.Context) error { return saveConfig(ctx, o.sys, o.l) }

func (o saveOp) simulate(*View) {}
func (o saveOp) Kind() string   { return "file" }
func (o saveOp) Fields() map[string]any {
	return map[string]any{"path": o.l.Path, "interface": o.l.Interface}
}

// savedConfig builds the state save_config writes: the interface's
// addresses (as `ip -brief address` lists them, and the file's IPv6 ones
// where the host has IPv6 off: up skipped them, they are not removed), its
// nameservers (read back from the DNS manager, else the file's) and the
// file's search domains, its MTU when the file sets one, the file's Table,
// SaveConfig and hooks (hooks verbatim, %i unexpanded), then the device as
// `wg showconf` prints it.
func savedConfig(ctx context.Context, sys *Sys, l *Loaded) (*conf.Config, error) {
	fi := &l.File.Config.Interface
	var out conf.Config
	i := &out.Interface
	// Read failures leave a part out, as the reference's `|| true` does.
	addrs, _ := sys.Net.Addresses(l.Interface)
	for _, p := range addrs {
		i.Addresses = append(i.Addresses, conf.Address{Raw: conf.FormatPrefix(p), Prefix: p})
	}
	if ipv6.Probe(sys.Files).Disabled {
		for _, a := range fi.Addresses {
			if a.Is6() {
				i.Addresses = append(i.Addresses, a)
			}
		}
	}
	// The servers read back; the file's when none can be (the reference
	// then loses them). Search domains cannot be told from what a
	// manager adds (resolved's "~."): the file's.
	servers, _, _ := sys.dns().Get(ctx, l.Interface)
	for _, d := range servers {
		if a, err := netip.ParseAddr(d); err == nil {
			i.DNS = append(i.DNS, a)
		}
	}
	if len(i.DNS) == 0 {
		i.DNS = fi.DNS
	}
	i.DNSSearch = fi.DNSSearch
	if fi.MTU != nil {
		if link, ok, err := sys.Net.LinkByName(l.Interface); err == nil && ok {
			m := link.MTU
			i.MTU = &m
		}
	}
	i.Table = fi.Table
	i.SaveConfig = fi.SaveConfig
	i.PreUp, i.PostUp, i.PreDown, i.PostDown = fi.PreUp, fi.PostUp, fi.PreDown, fi.PostDown
	dev, err := sys.Dev.Device(l.Interface)
	if err != nil {
		return nil, deviceFailure(err)
	}
	shown := conf.ConfigOf(dev)
	dev.Wipe()
	i.ListenPort, i.FwMark, i.PrivateKey = shown.Interface.ListenPort, shown.Interface.FwMark, shown.Interface.PrivateKey
	out.Peers = shown.Peers
	return &out, nil
}

// checkWG reads data as up would, but resolves no name (each is taken to
// resolve): the error of a line wg would refuse.
func checkWG(path string, data []byte) error {
	f, err := conf.ParseQuick(path, data, &conf.Options{
		Resolver: conf.ResolverFunc(func(string) (netip.Addr, error) { return netip.IPv4Unspecified(), nil }),
	})
	if err == nil {
		f.Config.Wipe()
	}
	return err
}

// saveConfig is save_config, keeping the file: the state merged into the
// file as it is now (conf.MergeSaved; the reference's layout if it cannot
// be read), written atomically with mode 0600.
func saveConfig(ctx context.Context, sys *Sys, l *Loaded) error {
	cfg, err := savedConfig(ctx, sys, l)
	if err != nil {
		return err
	}
	var text []byte
	if data, err := sys.Files.ReadFile(l.Path); err == nil {
		// The file is kept only if wg could read it (save read only
		// wg-quick's keys): one with a typo in its wg part is written
		// over, as the reference's save does, and said so.
		if err := checkWG(l.Path, data); err != nil {
			fmt.Fprintf(sys.Stderr, "[!] %v: writing the interface's state over the file\n", err)
		} else {
			text, _ = conf.MergeSaved(l.Path, data, cfg)
		}
		clear(data)
	}
	if text == nil {
		text = []byte(cfg.FormatSaved())
	}
	cfg.Wipe()
	defer clear(text)
	write := sys.WriteFile
	if write == nil {
		write = osys.WriteAtomic
	}
	if err := write(l.Path, text); err != nil {
		var we *osys.WriteError
		if errors.As(err, &we) && we.Moving {
			return fail(1, "%s: Could not move configuration file", sys.Prog)
		}
		return fail(1, "%s: Could not write configuration file", sys.Prog)
	}
	return nil
}
