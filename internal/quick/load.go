package quick

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/gowg/wgtools/internal/conf"
)

// Loaded is a configuration file found and read as wg-quick does.
type Loaded struct {
	// Interface is the name taken from the path as given.
	Interface string
	// Path is the file with symlinks resolved (where save writes).
	Path string
	File *conf.File
	// Loose holds what down reads from the wg lines of a file parsed with
	// StripOnly (keys to hide, FwMark); nil when the file was parsed whole.
	Loose *conf.Loose
}

// secrets are the file's private and preshared keys, which a trace hides.
func (l *Loaded) secrets() []conf.Key {
	if l.Loose != nil {
		return l.Loose.Secrets
	}
	var keys []conf.Key
	c := &l.File.Config
	if c.Interface.PrivateKey != nil {
		keys = append(keys, *c.Interface.PrivateKey)
	}
	for i := range c.Peers {
		if c.Peers[i].PresharedKey != nil {
			keys = append(keys, *c.Peers[i].PresharedKey)
		}
	}
	return keys
}

// fwMark is the file's FwMark, 0 when it has none (or it does not parse).
func (l *Loaded) fwMark() uint32 {
	if l.Loose != nil {
		return l.Loose.FwMark
	}
	if m := l.File.Config.Interface.FwMark; m != nil {
		return *m
	}
	return 0
}

// Wipe clears the keys l holds.
func (l *Loaded) Wipe() {
	l.File.Config.Wipe()
	if l.Loose != nil {
		l.Loose.Wipe()
	}
}

// Load finds the configuration for wg-quick's argument (an interface name
// or a path), checks its name, warns through warn when others may read it,
// and parses it (with opts.StripOnly, only wg-quick's keys: what down and
// save need, without resolving a name or checking the wg part). Errors carry wg-quick's wording without the program-name
// prefix.
func Load(arg string, opts *conf.Options, warn func(string)) (*Loaded, error) {
	path := conf.QuickConfigPath(arg)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("`%s' does not exist", conf.HideKeys(path))
	}
	iface, ok := conf.InterfaceFromConfigPath(path)
	if !ok {
		// The reference's message, and its rule.
		return nil, fmt.Errorf("The config file must be a valid interface name, followed by .conf\n%s: %s", conf.InterfaceNameRule, conf.ConfigNameProblem(path))
	}
	resolved, err := resolvePath(path)
	if err != nil {
		return nil, fmt.Errorf("`%s' cannot be resolved: %s", path, conf.Strerror(err))
	}
	if worldAccessible(resolved) && warn != nil {
		warn(fmt.Sprintf("Warning: `%s' is world accessible", resolved))
	}
	data, err := readConfig(resolved)
	if err != nil {
		return nil, err
	}
	f, err := conf.ParseQuick(resolved, data, opts)
	clear(data)
	if err != nil {
		return nil, err
	}
	l := &Loaded{Interface: iface, Path: resolved, File: f}
	if opts != nil && opts.StripOnly {
		loose := f.Loose()
		l.Loose = &loose
	}
	return l, nil
}

// resolvePath is readlink -f: absolute, every symlink resolved.
func resolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// worldAccessible applies wg-quick's test: a permission bit for others set
// on both the file and its directory.
func worldAccessible(path string) bool {
	fst, err := os.Stat(path)
	if err != nil {
		return false
	}
	dst, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return false
	}
	return fst.Mode().Perm()&dst.Mode().Perm()&0o007 != 0
}

// readConfig reads the whole file, refusing what cannot be a configuration
// before reading much of it.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("Unable to read `%s': %s", path, conf.Strerror(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("Unable to read `%s': %s", path, conf.Strerror(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("Unable to read `%s': %s", path, conf.ErrnoString(syscall.EISDIR))
	}
	// Sized from the file at once (one read, not a doubling series),
	// still bounded by MaxFileSize should it grow meanwhile.
	var buf bytes.Buffer
	buf.Grow(int(min(max(st.Size(), 0), conf.MaxFileSize)) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, conf.MaxFileSize+1)); err != nil {
		return nil, fmt.Errorf("Unable to read `%s': %s", path, conf.Strerror(err))
	}
	return buf.Bytes(), nil
}
