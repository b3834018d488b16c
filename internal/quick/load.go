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
}

// Load finds the configuration for wg-quick's argument (an interface name
// or a path), checks its name, warns through warn when others may read it,
// and parses it. Errors carry wg-quick's wording without the program-name
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
	return &Loaded{Interface: iface, Path: resolved, File: f}, nil
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
