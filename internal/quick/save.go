package quick

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/ipv6"
)

// Save writes the interface's running configuration over l's file, as the
// reference's cmd_save does, and returns the exit status.
func Save(ctx context.Context, sys *Sys, l *Loaded) int {
	lock, err := sys.lock(l.Interface, "save")
	if err != nil {
		return die(sys, err)
	}
	defer lock.Release()
	if ok, err := isWireGuard(sys, l.Interface); err != nil || !ok {
		return die(sys, fmt.Errorf("`%s' is not a WireGuard interface", l.Interface))
	}
	r := &runner{stderr: sys.Stderr}
	if err := saveConfig(ctx, sys, r, l); err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	return 0
}

// savedConfig builds the state save_config writes: the interface's
// addresses (as `ip -brief address` lists them), its nameservers (read
// back from the DNS manager, else the file's) and the file's search
// domains, its MTU when the file sets one, the file's Table, SaveConfig and
// hooks (hooks verbatim, %i unexpanded), then the device as `wg showconf`
// prints it.
// The "[#] wg showconf IF" line is printed where the reference prints it.
func savedConfig(ctx context.Context, sys *Sys, r *runner, l *Loaded) (*conf.Config, error) {
	fi := &l.File.Config.Interface
	var out conf.Config
	i := &out.Interface
	// Read failures leave a part out, as the reference's `|| true` does.
	addrs, _ := sys.Net.Addresses(l.Interface)
	for _, p := range addrs {
		i.Addresses = append(i.Addresses, conf.Address{Raw: conf.FormatPrefix(p), Prefix: p})
	}
	// Addresses the host has no IPv6 for were skipped, not removed.
	if ipv6.Probe(sys.Files).Disabled {
		for _, a := range fi.Addresses {
			if a.Is6() {
				i.Addresses = append(i.Addresses, a)
			}
		}
	}
	// The servers read back; the file's when none can be (the reference
	// then loses them). Search domains cannot be read back: the file's.
	i.DNS = parseNameservers(savedDNS(ctx, sys, l.Interface))
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
	r.trace("wg showconf " + l.Interface)
	dev, err := device(sys, l.Interface)
	if err != nil {
		return nil, err
	}
	shown := conf.ConfigOf(dev)
	dev.Wipe()
	i.ListenPort, i.FwMark, i.PrivateKey = shown.Interface.ListenPort, shown.Interface.FwMark, shown.Interface.PrivateKey
	out.Peers = shown.Peers
	return &out, nil
}

// saveConfig is save_config, keeping the file: the state merged into the
// file's lines, written atomically with mode 0600.
func saveConfig(ctx context.Context, sys *Sys, r *runner, l *Loaded) error {
	cfg, err := savedConfig(ctx, sys, r, l)
	if err != nil {
		return err
	}
	// The file as it is now, with the state merged in (see
	// conf.MergeSaved); the reference's layout if it cannot be read.
	var text []byte
	if data, err := sys.Files.ReadFile(l.Path); err == nil {
		text, _ = conf.MergeSaved(l.Path, data, cfg)
		clear(data)
	}
	if text == nil {
		text = []byte(cfg.FormatSaved())
	}
	cfg.Wipe()
	defer clear(text)
	write := sys.WriteFile
	if write == nil {
		write = WriteAtomic
	}
	if err := write(l.Path, text); err != nil {
		var we *WriteError
		if errors.As(err, &we) && we.Moving {
			return fail(1, "%s: Could not move configuration file", sys.Prog)
		}
		return fail(1, "%s: Could not write configuration file", sys.Prog)
	}
	return nil
}

// WriteError is a failed WriteAtomic. Moving tells a failed rename from a
// failed write.
type WriteError struct {
	Moving bool
	Err    error
}

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// WriteAtomic replaces path with data: a temporary file in the same
// directory, created with mode 0600, written and synced, renamed over path,
// and the directory synced. On failure path is unchanged and the temporary
// file is gone.
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return &WriteError{Err: err}
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return &WriteError{Err: err}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return &WriteError{Err: err}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return &WriteError{Err: err}
	}
	if err := f.Close(); err != nil {
		return &WriteError{Err: err}
	}
	if err := os.Rename(tmp, path); err != nil {
		return &WriteError{Moving: true, Err: err}
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
