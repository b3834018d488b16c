package wgdev

import (
	"errors"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/gowg/wgtools/internal/conf"
)

// DefaultRunDir is where userspace implementations put their UAPI sockets.
const DefaultRunDir = "/var/run/wireguard"

// Client talks to WireGuard devices. The zero value is not usable; use New.
type Client struct {
	runDir string
	kernel *kernel // nil until first needed
}

// New returns a client using DefaultRunDir.
func New() *Client { return &Client{runDir: DefaultRunDir} }

// NewWithRunDir returns a client looking for UAPI sockets in dir.
func NewWithRunDir(dir string) *Client { return &Client{runDir: dir} }

// Close releases the netlink socket, if one was opened.
func (c *Client) Close() error {
	if c.kernel != nil {
		return c.kernel.close()
	}
	return nil
}

func (c *Client) kernelClient() (*kernel, error) {
	if c.kernel == nil {
		k, err := openKernel()
		if err != nil {
			return nil, err
		}
		c.kernel = k
	}
	return c.kernel, nil
}

// SocketPath is the UAPI socket of a userspace device named name.
func (c *Client) SocketPath(name string) string {
	return filepath.Join(c.runDir, name+".sock")
}

// userspace reports whether name is a userspace device, as wg's
// userspace_has_wireguard_interface decides: its socket exists, is a
// socket, and does not refuse connections (a refusing socket is stale and
// is removed).
func (c *Client) userspace(name string) bool {
	if strings.ContainsRune(name, '/') {
		return false
	}
	path := c.SocketPath(name)
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 {
		return false
	}
	conn, err := dialUAPI(path)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			os.Remove(path)
			return false
		}
		return true
	}
	conn.Close()
	return true
}

// Interfaces lists WireGuard interfaces: kernel ones, then userspace ones.
func (c *Client) Interfaces() ([]string, error) {
	names, err := kernelInterfaces()
	if err != nil {
		return nil, err
	}
	dir, err := os.Open(c.runDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return names, nil
		}
		return nil, err
	}
	defer dir.Close()
	entries, err := dir.Readdirnames(-1) // directory order, as readdir(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e, ".sock")
		if !ok || name == "" {
			continue
		}
		if c.userspace(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// IsUserspace reports whether name is served by a userspace implementation.
func (c *Client) IsUserspace(name string) bool { return c.userspace(name) }

// Device returns the live state of the named device.
//
// As wg does, a name's UAPI socket is looked for first; a name of 16 bytes
// or more that has none fails with ENAMETOOLONG before the kernel is asked.
func (c *Client) Device(name string) (*conf.Device, error) {
	if c.userspace(name) {
		short := name
		if len(short) > conf.MaxInterfaceNameLen {
			short = short[:conf.MaxInterfaceNameLen]
		}
		return uapiGet(c.SocketPath(name), short)
	}
	if len(name) > conf.MaxInterfaceNameLen {
		return nil, syscall.ENAMETOOLONG
	}
	k, err := c.kernelClient()
	if err != nil {
		return nil, err
	}
	return k.get(name)
}

// StreamDevice reads the named device as Device does, handing out its
// interface and then its peers as they are read (see ParseUAPIGetStream):
// header before the first peer, peer for each (one variable, reused). A
// userspace device is read in the memory of one peer; a kernel device is
// read whole first. An error may come after some peers were handed out.
func (c *Client) StreamDevice(name string, header func(*conf.Device), peer func(*conf.DevicePeer)) error {
	if c.userspace(name) {
		short := name
		if len(short) > conf.MaxInterfaceNameLen {
			short = short[:conf.MaxInterfaceNameLen]
		}
		return uapiGetStream(c.SocketPath(name), short, header, peer)
	}
	dev, err := c.Device(name)
	if err != nil {
		return err
	}
	peers := dev.Peers
	dev.Peers = nil
	header(dev)
	for i := range peers {
		peer(&peers[i])
		peers[i].PresharedKey.Wipe()
	}
	// The interface (its private key) is header's receiver's to wipe, as
	// on the userspace path: wiping it here blanked it before pretty
	// `wg show` printed it.
	return nil
}

// Configure applies cfg to the named device. Allowed IPs marked Remove are
// removed; on the kernel path that is done by reading the peer's list and
// replacing it, which works on every kernel version.
func (c *Client) Configure(name string, cfg *conf.Config) error {
	return c.ConfigureStream(name, cfg, nil)
}

// ConfigureStream is Configure with more peers after cfg's own: those more
// yields (nil for none), which may be one variable, reused. A userspace
// device is sent them as they come, so that a configuration of any size
// goes out in the memory of one peer; for a kernel device they are
// gathered first.
func (c *Client) ConfigureStream(name string, cfg *conf.Config, more iter.Seq[*conf.Peer]) error {
	if len(name) > conf.MaxInterfaceNameLen {
		name = name[:conf.MaxInterfaceNameLen]
	}
	if c.userspace(name) {
		return uapiSet(c.SocketPath(name), cfg, more)
	}
	k, err := c.kernelClient()
	if err != nil {
		return err
	}
	if more != nil {
		all := *cfg
		all.Peers = slices.Clone(cfg.Peers)
		for p := range more {
			all.Peers = append(all.Peers, p.Clone())
		}
		defer func() {
			for i := len(cfg.Peers); i < len(all.Peers); i++ {
				if psk := all.Peers[i].PresharedKey; psk != nil {
					psk.Wipe()
				}
			}
		}()
		cfg = &all
	}
	cfg, err = c.resolveRemovals(k, name, cfg)
	if err != nil {
		return err
	}
	return k.set(name, cfg)
}

// resolveRemovals rewrites peers with '-' allowed IPs into "replace with
// the current list minus these, plus the additions".
func (c *Client) resolveRemovals(k *kernel, name string, cfg *conf.Config) (*conf.Config, error) {
	needs := false
	for i := range cfg.Peers {
		for _, a := range cfg.Peers[i].AllowedIPs {
			needs = needs || a.Remove
		}
	}
	if !needs {
		return cfg, nil
	}
	dev, err := k.get(name)
	if err != nil {
		return nil, err
	}
	current := map[conf.Key][]conf.AllowedIP{}
	for _, p := range dev.Peers {
		for _, a := range p.AllowedIPs {
			current[p.PublicKey] = append(current[p.PublicKey], conf.AllowedIP{Prefix: a})
		}
	}
	out := *cfg
	out.Peers = make([]conf.Peer, len(cfg.Peers))
	copy(out.Peers, cfg.Peers)
	for i := range out.Peers {
		p := &out.Peers[i]
		if p.ReplaceAllowedIPs || p.Remove {
			continue
		}
		hasRemove := false
		for _, a := range p.AllowedIPs {
			hasRemove = hasRemove || a.Remove
		}
		if !hasRemove {
			continue
		}
		list := current[p.PublicKey]
		for _, a := range p.AllowedIPs {
			masked := a.Prefix.Masked()
			kept := list[:0:0]
			for _, have := range list {
				if have.Prefix.Masked() != masked {
					kept = append(kept, have)
				}
			}
			list = kept
			if !a.Remove {
				list = append(list, conf.AllowedIP{Prefix: a.Prefix})
			}
		}
		current[p.PublicKey] = list
		p.AllowedIPs = list
		p.ReplaceAllowedIPs = true
	}
	return &out, nil
}
