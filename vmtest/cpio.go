package vmtest

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// archive is an initramfs being built: a file tree kept in memory and
// written out as a newc cpio archive (the format the kernel unpacks).
type archive struct {
	entries map[string]*entry // by absolute, clean path
}

type entry struct {
	mode   fs.FileMode // type bits and permissions
	data   []byte      // file contents
	target string      // symlink target
}

func newArchive() *archive { return &archive{entries: map[string]*entry{}} }

func clean(p string) string { return path.Clean("/" + p) }

// has reports whether p exists in the archive (as anything).
func (a *archive) has(p string) bool { _, ok := a.entries[clean(p)]; return ok }

// mkdirAll adds p and its parents as directories (mode 0755); existing
// entries are left alone.
func (a *archive) mkdirAll(p string) {
	p = clean(p)
	for p != "/" {
		if _, ok := a.entries[p]; !ok {
			a.entries[p] = &entry{mode: fs.ModeDir | 0o755}
		}
		p = path.Dir(p)
	}
}

// file adds a regular file, replacing what was at p.
func (a *archive) file(p string, data []byte, perm fs.FileMode) {
	p = clean(p)
	a.mkdirAll(path.Dir(p))
	a.entries[p] = &entry{mode: perm.Perm(), data: data}
}

// symlink adds a symbolic link, replacing what was at p.
func (a *archive) symlink(p, target string) {
	p = clean(p)
	a.mkdirAll(path.Dir(p))
	a.entries[p] = &entry{mode: fs.ModeSymlink | 0o777, target: target}
}

// size is the total of the file contents.
func (a *archive) size() int {
	n := 0
	for _, e := range a.entries {
		n += len(e.data) + len(e.target)
	}
	return n
}

// writeTo writes the archive in newc format, parents before children, and
// the trailer. Owners are root, times are zero: the same tree gives the same
// bytes.
func (a *archive) writeTo(w io.Writer) error {
	paths := make([]string, 0, len(a.entries))
	for p := range a.entries {
		paths = append(paths, p)
	}
	sort.Strings(paths) // a parent sorts before its children
	cw := &cpioWriter{w: w}
	for i, p := range paths {
		e := a.entries[p]
		body := e.data
		if e.mode&fs.ModeSymlink != 0 {
			body = []byte(e.target)
		}
		if err := cw.entry(strings.TrimPrefix(p, "/"), unixMode(e.mode), body, uint32(i+1)); err != nil {
			return err
		}
	}
	if err := cw.entry("TRAILER!!!", 0, nil, 0); err != nil {
		return err
	}
	return cw.err
}

// unixMode turns a Go file mode into st_mode bits.
func unixMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	switch {
	case m&fs.ModeDir != 0:
		mode |= 0o040000
	case m&fs.ModeSymlink != 0:
		mode |= 0o120000
	default:
		mode |= 0o100000
	}
	return mode
}

type cpioWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// entry writes one newc header, the NUL-terminated name and the body, each
// padded to 4 bytes.
func (c *cpioWriter) entry(name string, mode uint32, body []byte, ino uint32) error {
	nlink := 1
	if mode&0o170000 == 0o040000 {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, len(body), 0, 0, 0, 0, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write(append([]byte(name), 0))
	c.pad()
	c.write(body)
	c.pad()
	return c.err
}
