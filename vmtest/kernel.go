package vmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Kernel is a kernel release whose image and modules are on this machine.
type Kernel struct {
	Release string // e.g. 6.12.117+deb12-cloud-amd64
	Root    string // holds boot/vmlinuz-RELEASE and lib/modules/RELEASE ("/" when installed)
	Source  string // how it was found: installed, cached, downloaded
}

// ModulesDir is the kernel's lib/modules/RELEASE directory.
func (k *Kernel) ModulesDir() string { return filepath.Join(k.Root, "lib/modules", k.Release) }

// Image is the kernel's compressed boot image (a bzImage).
func (k *Kernel) Image() string { return filepath.Join(k.Root, "boot", "vmlinuz-"+k.Release) }

// hasWireguard reports whether a modules directory has wireguard.ko.
func hasWireguard(modDir string) bool {
	dep, err := os.ReadFile(filepath.Join(modDir, "modules.dep"))
	return err == nil && bytes.Contains(dep, []byte("/wireguard.ko"))
}

// kernelFinder finds or fetches a kernel. Logf reports what it does.
type kernelFinder struct {
	cache   string // cache directory (VMTEST_CACHE)
	release string // wanted release; "" follows the metapackage; "installed" takes /boot's newest
	metapkg string // the metapackage followed when release is ""
	boot    string // where installed kernels are ("/")
	logf    func(format string, args ...any)

	// Seams for tests; nil means apt.
	lookup func(ctx context.Context, pkg string) (string, error) // the release a metapackage depends on
	fetch  func(ctx context.Context, rel string) error           // puts the release under cache/rel
}

// metaTTL is how long the metapackage's answer is kept: apt-cache takes
// about a second, and the answer changes with a kernel ABI bump only.
const metaTTL = 12 * time.Hour

func (f *kernelFinder) find(ctx context.Context) (*Kernel, error) {
	switch f.release {
	case "installed":
		if k := f.newest(f.boot, "installed"); k != nil {
			return k, nil
		}
		return nil, errors.New("no kernel with wireguard.ko in /boot and /lib/modules")
	case "":
		rel, err := f.followMeta(ctx)
		if err != nil {
			return f.fallback(fmt.Errorf("which kernel %s points at: %w", f.metapkg, err))
		}
		f.release = rel
	}
	if k := f.at(f.boot, f.release, "installed"); k != nil {
		return k, nil
	}
	if k := f.at(filepath.Join(f.cache, f.release), f.release, "cached"); k != nil {
		return k, nil
	}
	fetch := f.download
	if f.fetch != nil {
		fetch = f.fetch
	}
	if err := fetch(ctx, f.release); err != nil {
		return f.fallback(fmt.Errorf("fetching linux-image-%s: %w", f.release, err))
	}
	k := f.at(filepath.Join(f.cache, f.release), f.release, "downloaded")
	if k == nil {
		return nil, fmt.Errorf("linux-image-%s has no wireguard.ko", f.release)
	}
	return k, nil
}

// at returns the kernel release under root if its image and wireguard.ko
// are there.
func (f *kernelFinder) at(root, rel, source string) *Kernel {
	k := &Kernel{Release: rel, Root: root, Source: source}
	if _, err := os.Stat(k.Image()); err != nil {
		return nil
	}
	if !hasWireguard(k.ModulesDir()) {
		return nil
	}
	return k
}

// newest returns the newest release (by version order of names) under
// root/lib/modules that has an image and wireguard.ko.
func (f *kernelFinder) newest(root, source string) *Kernel {
	ents, _ := os.ReadDir(filepath.Join(root, "lib/modules"))
	var rels []string
	for _, e := range ents {
		rels = append(rels, e.Name())
	}
	sort.Sort(sort.Reverse(sort.StringSlice(rels)))
	for _, r := range rels {
		if k := f.at(root, r, source); k != nil {
			return k
		}
	}
	return nil
}

// fallback is used offline: the newest cached kernel, else an installed one.
func (f *kernelFinder) fallback(why error) (*Kernel, error) {
	ents, _ := os.ReadDir(f.cache)
	var best *Kernel
	var bestTime time.Time
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		k := f.at(filepath.Join(f.cache, e.Name()), e.Name(), "cached")
		if k == nil {
			continue
		}
		if info, err := e.Info(); err == nil && (best == nil || info.ModTime().After(bestTime)) {
			best, bestTime = k, info.ModTime()
		}
	}
	if best == nil {
		best = f.newest(f.boot, "installed")
	}
	if best == nil {
		return nil, fmt.Errorf("%w; and no kernel with wireguard.ko is cached in %s or installed", why, f.cache)
	}
	f.logf("%v; using the %s kernel %s", why, best.Source, best.Release)
	return best, nil
}

// followMeta asks apt which release the metapackage depends on; the
// answer is cached for metaTTL.
func (f *kernelFinder) followMeta(ctx context.Context) (string, error) {
	memo := filepath.Join(f.cache, "meta-"+f.metapkg)
	if st, err := os.Stat(memo); err == nil && time.Since(st.ModTime()) < metaTTL {
		if b, err := os.ReadFile(memo); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return string(bytes.TrimSpace(b)), nil
		}
	}
	rel, err := f.askApt(ctx)
	if err != nil {
		// Offline: the last answer, however old, names the kernel this
		// metapackage stands for (the newest cached kernel may be
		// another metapackage's).
		if b, rerr := os.ReadFile(memo); rerr == nil && len(bytes.TrimSpace(b)) > 0 {
			last := string(bytes.TrimSpace(b))
			if f.at(filepath.Join(f.cache, last), last, "cached") != nil || f.at(f.boot, last, "installed") != nil {
				f.logf("%v; using %s's last known kernel, %s", err, f.metapkg, last)
				return last, nil
			}
		}
		return "", err
	}
	if err := os.MkdirAll(f.cache, 0o755); err == nil {
		os.WriteFile(memo, []byte(rel+"\n"), 0o644)
	}
	return rel, nil
}

// askApt asks apt (or the test's seam) which release the metapackage
// depends on.
func (f *kernelFinder) askApt(ctx context.Context) (string, error) {
	if f.lookup != nil {
		rel, err := f.lookup(ctx, f.metapkg)
		if err == nil && rel == "" {
			err = fmt.Errorf("no package %s", f.metapkg)
		}
		return rel, err
	}
	rel, err := aptDepends(ctx, f.metapkg)
	if rel == "" && err == nil && os.Geteuid() == 0 && aptListsEmpty() {
		f.logf("apt has no package lists; running apt-get update")
		if out, err := exec.CommandContext(ctx, "apt-get", "update", "-qq").CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get update: %w: %s", err, out)
		}
		rel, err = aptDepends(ctx, f.metapkg)
	}
	if err != nil {
		return "", err
	}
	if rel == "" {
		return "", fmt.Errorf("apt-cache knows no package %s", f.metapkg)
	}
	return rel, nil
}

func aptDepends(ctx context.Context, pkg string) (string, error) {
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", pkg).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", nil // unknown package: empty answer
		}
		return "", fmt.Errorf("apt-cache: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rel, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: linux-image-"); ok {
			return strings.TrimSpace(rel), nil
		}
	}
	return "", nil
}

func aptListsEmpty() bool {
	m, _ := filepath.Glob("/var/lib/apt/lists/*_Packages*")
	return len(m) == 0
}

// download fetches linux-image-REL without installing it: apt-get
// download, dpkg -x into the cache, depmod (the package's postinst would
// make modules.dep). A lock keeps concurrent runs from racing.
func (f *kernelFinder) download(ctx context.Context, rel string) error {
	if err := os.MkdirAll(f.cache, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(f.cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	dest := filepath.Join(f.cache, rel)
	if f.at(dest, rel, "cached") != nil {
		return nil // another run fetched it meanwhile
	}
	start := time.Now()
	dl, err := os.MkdirTemp(f.cache, "dl-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dl)
	args := []string{"download"}
	if os.Geteuid() == 0 {
		args = append(args, "-o", "APT::Sandbox::User=root")
	}
	cmd := exec.CommandContext(ctx, "apt-get", append(args, "linux-image-"+rel)...)
	cmd.Dir = dl
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get download: %w: %s", err, bytes.TrimSpace(out))
	}
	debs, _ := filepath.Glob(filepath.Join(dl, "*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download left %d .deb files", len(debs))
	}
	tmp := filepath.Join(dl, "root")
	if out, err := exec.CommandContext(ctx, "dpkg", "-x", debs[0], tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg -x: %w: %s", err, out)
	}
	if out, err := exec.CommandContext(ctx, lookTool("depmod"), "-b", tmp, rel).CombinedOutput(); err != nil {
		return fmt.Errorf("depmod: %w: %s", err, out)
	}
	os.RemoveAll(dest)
	if err := os.Rename(tmp, dest); err != nil {
		return err
	}
	f.logf("fetched linux-image-%s (%s) in %.1fs", rel, filepath.Base(debs[0]), time.Since(start).Seconds())
	return nil
}

// lookTool finds a program in PATH or in the sbin directories a non-root
// PATH may lack.
func lookTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name)
		}
	}
	return name
}
