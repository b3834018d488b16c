package vmtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// moduleIndex is a kernel's modules.dep and modules.alias, read from its
// modules directory (lib/modules/RELEASE).
type moduleIndex struct {
	dir     string
	paths   map[string]string   // module name -> path relative to dir
	deps    map[string][]string // module name -> names it depends on
	aliases map[string][]string // module name -> alias lines naming it
	builtin map[string]bool
}

// moduleName is the name a module file gives a module: its base name
// without .ko and a compression suffix, '-' written as '_'.
func moduleName(p string) string {
	base := filepath.Base(p)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// uncompressedPath drops a .xz, .zst or .gz suffix.
func uncompressedPath(p string) string {
	for _, s := range []string{".xz", ".zst", ".gz"} {
		if strings.HasSuffix(p, s) {
			return strings.TrimSuffix(p, s)
		}
	}
	return p
}

func readModuleIndex(dir string) (*moduleIndex, error) {
	mi := &moduleIndex{dir: dir, paths: map[string]string{}, deps: map[string][]string{},
		aliases: map[string][]string{}, builtin: map[string]bool{}}
	dep, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("%w (run depmod for this kernel)", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(dep))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		mod, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		name := moduleName(mod)
		mi.paths[name] = mod
		for _, d := range strings.Fields(rest) {
			mi.deps[name] = append(mi.deps[name], moduleName(d))
		}
	}
	if alias, err := os.ReadFile(filepath.Join(dir, "modules.alias")); err == nil {
		for _, line := range strings.Split(string(alias), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "alias" {
				n := moduleName(f[2])
				mi.aliases[n] = append(mi.aliases[n], line)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, line := range strings.Fields(string(b)) {
			mi.builtin[moduleName(line)] = true
		}
	}
	return mi, nil
}

// closure returns the named modules and everything they depend on, each
// once, dependencies first (an order insmod can follow). Built-in modules
// are left out; an unknown name is an error.
func (mi *moduleIndex) closure(names []string, skip map[string]bool) ([]string, error) {
	var order []string
	seen := map[string]bool{}
	var visit func(n string) error
	visit = func(n string) error {
		n = moduleName(n)
		if seen[n] || skip[n] {
			return nil
		}
		seen[n] = true
		if _, ok := mi.paths[n]; !ok {
			if mi.builtin[n] {
				return nil
			}
			return fmt.Errorf("module %s is not in %s/modules.dep", n, mi.dir)
		}
		for _, d := range mi.deps[n] {
			if err := visit(d); err != nil {
				return err
			}
		}
		order = append(order, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// depLines is what modules.dep says for the given modules, with
// uncompressed file names.
func (mi *moduleIndex) depLines(mods []string) string {
	var b strings.Builder
	for _, m := range mods {
		fmt.Fprintf(&b, "%s:", uncompressedPath(mi.paths[m]))
		for _, d := range mi.deps[m] {
			if p, ok := mi.paths[d]; ok {
				fmt.Fprintf(&b, " %s", uncompressedPath(p))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// aliasLines is what modules.alias says for the given modules.
func (mi *moduleIndex) aliasLines(mods []string) string {
	var b strings.Builder
	for _, m := range mods {
		for _, l := range mi.aliases[m] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// contents returns a module file's bytes, decompressed.
func (mi *moduleIndex) contents(mod string) ([]byte, error) {
	p := filepath.Join(mi.dir, mi.paths[mod])
	var tool []string
	switch {
	case strings.HasSuffix(p, ".xz"):
		tool = []string{"xz", "-dc", p}
	case strings.HasSuffix(p, ".zst"):
		tool = []string{"zstd", "-dcq", p}
	case strings.HasSuffix(p, ".gz"):
		tool = []string{"gzip", "-dc", p}
	default:
		return os.ReadFile(p)
	}
	out, err := exec.Command(tool[0], tool[1:]...).Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(tool, " "), err)
	}
	return out, nil
}
