package vmtest

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// usrMerged puts a path where a usr-merged system keeps it: /bin, /sbin,
// /lib and /lib64 are symlinks into /usr in the guest.
func usrMerged(p string) string {
	p = clean(p)
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib64"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return "/usr" + p
		}
	}
	return p
}

// libDirs are searched for an ELF file's DT_NEEDED libraries, in this order.
var libDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
}

// builder assembles an initramfs.
type builder struct {
	a *archive
}

func newBuilder() *builder {
	b := &builder{a: newArchive()}
	for _, d := range []string{"bin", "sbin", "lib", "lib64"} {
		b.a.mkdirAll("/usr/" + d)
		b.a.symlink("/"+d, "usr/"+d)
	}
	for _, d := range []string{"/dev", "/proc", "/sys", "/run", "/tmp", "/etc", "/root", "/var", "/out", "/mnt"} {
		b.a.mkdirAll(d)
	}
	b.a.symlink("/var/run", "../run")
	b.a.file("/etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	b.a.file("/etc/group", []byte("root:x:0:\n"), 0o644)
	b.a.file("/etc/hosts", []byte("127.0.0.1\tlocalhost\n::1\tlocalhost\n"), 0o644)
	return b
}

// hostFile copies a host file (following symlinks) to guest path dst.
func (b *builder) hostFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	b.a.file(usrMerged(dst), data, st.Mode().Perm())
	return nil
}

// program copies a host program to the same path in the guest, with the
// dynamic loader and every shared library it needs (found the way ld.so
// would, from DT_NEEDED, in the usual directories).
func (b *builder) program(p string) error {
	return b.programAs(p, p)
}

// programAs copies host program src to guest path dst, with its libraries.
func (b *builder) programAs(src, dst string) error {
	if err := b.hostFile(src, dst); err != nil {
		return err
	}
	return b.libraries(src)
}

func (b *builder) libraries(p string) error {
	interp, needed, err := elfDeps(p)
	if err != nil {
		if errors.Is(err, errNotELF) {
			return nil // a script
		}
		return fmt.Errorf("%s: %w", p, err)
	}
	if interp != "" && !b.a.has(usrMerged(interp)) {
		if err := b.hostFile(interp, interp); err != nil {
			return fmt.Errorf("loader of %s: %w", p, err)
		}
	}
	for _, lib := range needed {
		found := ""
		for _, d := range libDirs {
			if _, err := os.Stat(filepath.Join(d, lib)); err == nil {
				found = filepath.Join(d, lib)
				break
			}
		}
		if found == "" {
			return fmt.Errorf("%s needs %s, which is in none of %s", p, lib, strings.Join(libDirs, " "))
		}
		if b.a.has(usrMerged(found)) {
			continue
		}
		if err := b.hostFile(found, found); err != nil {
			return err
		}
		if err := b.libraries(found); err != nil {
			return err
		}
	}
	return nil
}

var errNotELF = errors.New("not an ELF file")

// elfDeps returns an ELF file's program interpreter ("" when static) and
// its DT_NEEDED entries.
func elfDeps(p string) (string, []string, error) {
	fh, err := os.Open(p)
	if err != nil {
		return "", nil, err
	}
	head := make([]byte, 4)
	n, _ := fh.Read(head)
	fh.Close()
	if n < 4 || string(head) != "\x7fELF" {
		return "", nil, errNotELF
	}
	f, err := elf.Open(p)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	interp := ""
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			buf := make([]byte, prog.Filesz)
			if _, err := prog.ReadAt(buf, 0); err != nil {
				return "", nil, err
			}
			interp = strings.TrimRight(string(buf), "\x00")
		}
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return "", nil, err
	}
	return interp, needed, nil
}

// busybox adds a static busybox as /usr/bin/busybox and links its applets
// where the archive has no program of that name in any PATH directory (so
// iproute2's ip stays ip, and the reference wg is not shadowed).
func (b *builder) busybox(src string) error {
	interp, _, err := elfDeps(src)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if interp != "" {
		return fmt.Errorf("%s is not static (install busybox-static)", src)
	}
	if err := b.hostFile(src, "/usr/bin/busybox"); err != nil {
		return err
	}
	out, err := exec.Command(src, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("%s --list-full: %w", src, err)
	}
	for _, f := range strings.Fields(string(out)) {
		name := path.Base(f)
		taken := false
		for _, d := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"} {
			taken = taken || b.a.has(d+"/"+name)
		}
		if !taken {
			b.a.symlink(usrMerged("/"+f), "/usr/bin/busybox")
		}
	}
	if !b.a.has("/usr/bin/sh") {
		b.a.symlink("/usr/bin/sh", "busybox")
	}
	return nil
}
