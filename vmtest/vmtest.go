package vmtest

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed guest
var guestFS embed.FS

// Config says what to boot and what to run in it.
type Config struct {
	Cache   string        // where kernels and the KVM verdict are kept (VMTEST_CACHE)
	Release string        // kernel release; "" follows Metapkg, "installed" takes /boot's (VMTEST_KVER)
	Metapkg string        // Debian metapackage followed by default (VMTEST_KPKG)
	Accel   string        // auto, kvm or tcg (VMTEST_ACCEL)
	Timeout time.Duration // for the whole boot (VMTEST_TIMEOUT, seconds)
	MemMiB  int           // guest memory (VMTEST_MEM)
	SMP     int           // guest CPUs (VMTEST_SMP)
	Verbose bool          // the whole kernel log on the console (VMTEST_VERBOSE=1)

	// Modules are loaded at boot, with what they depend on.
	Modules []string
	// Held modules (and what they need beyond Modules) are in the
	// initramfs but neither loaded nor known to modprobe until the guest
	// runs /opt/vmtest/vm-module-enable: until then the kernel behaves as
	// if they did not exist.
	Held []string
	// Programs are host programs copied to the same paths with the shared
	// libraries they need; missing ones are left out (and reported).
	Programs []string
	// Files maps guest paths to host files.
	Files map[string]string
	// Command is the guest path of the program init runs.
	Command string

	Console io.Writer            // the serial console, line by line
	Logf    func(string, ...any) // what the harness does
}

// Result is what a run gave.
type Result struct {
	Kernel   *Kernel
	Accel    string // kvm or tcg
	AccelWhy string // why that one
	// ExitCode is Command's exit status.
	ExitCode int
	// OutDir holds what the guest left in /out; Remove deletes it.
	OutDir string
	// Setup is the time to find the kernel and build the initramfs; Boot
	// is qemu's start to its exit.
	Setup, Boot    time.Duration
	InitramfsBytes int
	Missing        []string // Programs that were not on this machine
}

// Remove deletes the result files.
func (r *Result) Remove() error {
	if r.OutDir == "" {
		return nil
	}
	return os.RemoveAll(filepath.Dir(r.OutDir))
}

// UnavailableError says why the VM cannot run here (no qemu, no kernel):
// tests skip with it rather than fail.
type UnavailableError struct{ Why string }

func (e *UnavailableError) Error() string { return e.Why }

// Defaults: the kernel flavour Debian's cloud images run (a 34 MB
// package, where the generic one is 107 MB); the time limit of one boot,
// which catches a hang and is no speed goal (one kernel's checks took 50
// minutes under TCG on a 2-core machine shared with a dozen test runs).
const (
	DefaultMetapkg = "linux-image-6.12-cloud-amd64"
	DefaultTimeout = 90 * time.Minute
)

// DefaultKernels are the kernels make vmtest runs its checks on, each as
// the Debian metapackage followed: Debian 12's own kernel (6.1, cloud
// flavour) and the 6.12 it also ships.
var DefaultKernels = []string{"linux-image-cloud-amd64", DefaultMetapkg}

// KernelChoice is one kernel to run on: a release, or the metapackage
// whose release is followed (Release "").
type KernelChoice struct {
	Release string
	Metapkg string
}

// String is how the choice was given.
func (k KernelChoice) String() string {
	if k.Release != "" {
		return k.Release
	}
	return k.Metapkg
}

// KernelsFromEnv says which kernels to run on: VMTEST_KERNELS (separated
// by spaces or commas; each a metapackage "linux-image-...", a release,
// or "installed"); else the one VMTEST_KVER or VMTEST_KPKG names, when
// either is set; else DefaultKernels.
func KernelsFromEnv() ([]KernelChoice, error) {
	list := strings.FieldsFunc(os.Getenv("VMTEST_KERNELS"), func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
	if len(list) == 0 {
		if rel, pkg := os.Getenv("VMTEST_KVER"), os.Getenv("VMTEST_KPKG"); rel != "" || pkg != "" {
			if pkg == "" {
				pkg = DefaultMetapkg
			}
			return []KernelChoice{{Release: rel, Metapkg: pkg}}, nil
		}
		list = DefaultKernels
	}
	var out []KernelChoice
	seen := map[string]bool{}
	for _, k := range list {
		if seen[k] {
			return nil, fmt.Errorf("VMTEST_KERNELS: %s is given twice", k)
		}
		seen[k] = true
		if strings.HasPrefix(k, "linux-image-") {
			out = append(out, KernelChoice{Metapkg: k})
		} else {
			out = append(out, KernelChoice{Release: k, Metapkg: DefaultMetapkg})
		}
	}
	return out, nil
}

// ConfigFromEnv reads the VMTEST_* variables.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Cache:   os.Getenv("VMTEST_CACHE"),
		Release: os.Getenv("VMTEST_KVER"),
		Metapkg: os.Getenv("VMTEST_KPKG"),
		Accel:   os.Getenv("VMTEST_ACCEL"),
		Timeout: DefaultTimeout,
		MemMiB:  1024,
		// One CPU: under multi-threaded TCG, a second vCPU can trip over
		// kernel text being patched live (jump labels flipped by module
		// loads, netfilter hooks, the clocksource watchdog) and oops with
		// "int3" in the patched function; seen once in a few dozen runs.
		SMP:     1,
		Verbose: os.Getenv("VMTEST_VERBOSE") == "1",
	}
	if c.Cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			c.Cache = filepath.Join(home, ".cache", "wgtools-vmtest")
		} else {
			c.Cache = filepath.Join(os.TempDir(), "wgtools-vmtest-cache")
		}
	}
	if c.Metapkg == "" {
		c.Metapkg = DefaultMetapkg
	}
	switch c.Accel {
	case "":
		c.Accel = "auto"
	case "auto", "kvm", "tcg":
	default:
		return c, fmt.Errorf("VMTEST_ACCEL=%s: want auto, kvm or tcg", c.Accel)
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"VMTEST_MEM", &c.MemMiB}, {"VMTEST_SMP", &c.SMP}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("%s=%s: want a positive number", v.name, s)
			}
			*v.dst = n
		}
	}
	if s := os.Getenv("VMTEST_TIMEOUT"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("VMTEST_TIMEOUT=%s: want seconds", s)
		}
		c.Timeout = time.Duration(n) * time.Second
	}
	return c, nil
}

// Available says why the VM cannot run on this machine (nil when it can).
func Available() error {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		return &UnavailableError{"qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"}
	}
	if _, err := os.Stat(busyboxPath()); err != nil {
		return &UnavailableError{"busybox is not installed (apt-get install busybox-static)"}
	}
	for _, tool := range []string{"zstd", "xz"} {
		if _, err := exec.LookPath(tool); err != nil {
			return &UnavailableError{tool + " is not installed (apt-get install zstd xz-utils)"}
		}
	}
	return nil
}

func busyboxPath() string {
	for _, p := range []string{"/usr/bin/busybox", "/bin/busybox"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/bin/busybox"
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Run finds the kernel, builds the initramfs, boots it and waits for
// Command to finish. A timeout or a kernel panic is an error.
func Run(ctx context.Context, c Config) (*Result, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	start := time.Now()
	kf := &kernelFinder{cache: c.Cache, release: c.Release, metapkg: c.Metapkg, boot: "/", logf: c.logf}
	k, err := kf.find(ctx)
	if err != nil {
		return nil, &UnavailableError{"no kernel with the wireguard module: " + err.Error()}
	}
	res := &Result{Kernel: k}
	c.logf("kernel %s (%s, %s)", k.Release, k.Source, k.Root)
	vmlinuxPath, err := vmlinux(ctx, k.Image(), k.Release, c.Cache)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "wgtools-vmtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	initrd := filepath.Join(work, "initramfs.cpio")
	size, missing, err := c.buildInitramfs(k, initrd)
	if err != nil {
		return nil, fmt.Errorf("building the initramfs: %w", err)
	}
	res.InitramfsBytes, res.Missing = size, missing
	res.Accel, res.AccelWhy = c.chooseAccel(ctx, k, vmlinuxPath, work)
	res.Setup = time.Since(start)
	c.logf("initramfs %.1f MB; accelerator %s (%s); setup %.1fs", float64(size)/1e6, res.Accel, res.AccelWhy, res.Setup.Seconds())

	m := c.machine(vmlinuxPath, initrd, res.Accel, work)
	m.outDisk = true
	o, err := m.run(ctx)
	if err != nil {
		return res, err
	}
	res.Boot = o.elapsed
	if err := o.err(); err != nil {
		return res, err
	}
	res.ExitCode = o.exitCode
	// The results outlive the work directory.
	out, err := os.MkdirTemp("", "wgtools-vmtest-out-")
	if err != nil {
		return res, err
	}
	if err := os.Rename(o.outDir, filepath.Join(out, "out")); err != nil {
		return res, err
	}
	res.OutDir = filepath.Join(out, "out")
	return res, nil
}

func (c *Config) machine(kernel, initrd, accel, work string) *machine {
	appendArgs := []string{"console=ttyS0", "rdinit=/init", "panic=-1", "reboot=t"}
	if c.Verbose {
		appendArgs = append(appendArgs, "loglevel=7")
	} else {
		appendArgs = append(appendArgs, "quiet", "loglevel=3")
	}
	if accel == "tcg" {
		if khz := tscKHz(); khz != "" {
			appendArgs = append(appendArgs, "tsc_early_khz="+khz)
		}
		// TCG's TSC follows the host's; on a loaded host the clocksource
		// watchdog would call it unstable and switch to a worse clock.
		appendArgs = append(appendArgs, "tsc=reliable")
	}
	return &machine{
		qemu: "qemu-system-x86_64", kernel: kernel, initrd: initrd, append: appendArgs,
		accel: accel, memMiB: c.MemMiB, smp: c.SMP, timeout: c.Timeout, workDir: work, console: c.Console,
	}
}

// chooseAccel picks KVM when asked, or when (auto) /dev/kvm opens and a
// one-time probe boot with it works; the probe's verdict is kept in the
// cache per host kernel and guest kernel. TCG otherwise.
func (c *Config) chooseAccel(ctx context.Context, k *Kernel, vmlinuxPath, work string) (string, string) {
	switch c.Accel {
	case "kvm", "tcg":
		return c.Accel, "VMTEST_ACCEL=" + c.Accel
	}
	if err := kvmUsable(); err != nil {
		return "tcg", "no usable /dev/kvm: " + err.Error()
	}
	memo := filepath.Join(c.Cache, "kvm-probe-"+hostRelease()+"-"+k.Release)
	if b, err := os.ReadFile(memo); err == nil {
		verdict := strings.TrimSpace(string(b))
		if verdict == "ok" {
			return "kvm", "KVM probe passed (cached in " + memo + ")"
		}
		return "tcg", "KVM probe failed: " + verdict + " (cached in " + memo + "; delete it to probe again)"
	}
	verdict := c.probeKVM(ctx, k, vmlinuxPath, work)
	os.MkdirAll(c.Cache, 0o755)
	os.WriteFile(memo, []byte(verdict+"\n"), 0o644)
	if verdict == "ok" {
		return "kvm", "KVM probe passed"
	}
	return "tcg", "KVM probe failed: " + verdict
}

// probeTimeout bounds the KVM probe: a working KVM boots in about a
// second; a KVM that cannot run a stock kernel (nested PVM) spins.
const probeTimeout = 15 * time.Second

func (c *Config) probeKVM(ctx context.Context, k *Kernel, vmlinuxPath, work string) string {
	dir := filepath.Join(work, "probe")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err.Error()
	}
	b := newBuilder()
	if err := b.busybox(busyboxPath()); err != nil {
		return err.Error()
	}
	initScript, _ := guestFS.ReadFile("guest/init")
	b.a.file("/init", initScript, 0o755)
	b.a.file("/etc/vmtest/command", []byte("#!/bin/sh\nexit 0\n"), 0o755)
	initrd := filepath.Join(dir, "initramfs.cpio")
	if err := writeArchive(b.a, initrd); err != nil {
		return err.Error()
	}
	m := c.machine(vmlinuxPath, initrd, "kvm", dir)
	m.timeout, m.console, m.memMiB = probeTimeout, nil, 256
	c.logf("probing KVM (one boot, at most %s; the verdict is cached)", probeTimeout)
	o, err := m.run(ctx)
	switch {
	case err != nil:
		return err.Error()
	case o.exitCode == 0:
		return "ok"
	case o.timedOut:
		return fmt.Sprintf("no result within %s", probeTimeout)
	default:
		if o.qemuErr != "" {
			return strings.ReplaceAll(o.qemuErr, "\n", "; ")
		}
		return "the probe VM reported no status"
	}
}

func writeArchive(a *archive, p string) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := a.writeTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// guestLibDir is where the guest keeps the scripts from guest/.
const guestLibDir = "/opt/vmtest"

func (c *Config) buildInitramfs(k *Kernel, dst string) (int, []string, error) {
	b := newBuilder()
	var missing []string
	for _, p := range c.Programs {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
			continue
		}
		if err := b.program(p); err != nil {
			return 0, nil, err
		}
	}
	if b.a.has("/usr/bin/bash") {
		b.a.symlink("/usr/bin/sh", "bash")
	}
	for guest, host := range c.Files {
		if err := b.hostFile(host, guest); err != nil {
			return 0, nil, err
		}
	}
	if err := b.busybox(busyboxPath()); err != nil {
		return 0, nil, err
	}
	// The guest scripts.
	err := fs.WalkDir(guestFS, "guest", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := guestFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "guest/")
		if rel == "init" {
			b.a.file("/init", data, 0o755)
			return nil
		}
		perm := fs.FileMode(0o644)
		if strings.HasPrefix(string(data), "#!") {
			perm = 0o755
		}
		b.a.file(path.Join(guestLibDir, rel), data, perm)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if c.Command != "" {
		b.a.symlink("/etc/vmtest/command", c.Command)
	}
	if err := c.addModules(b, k); err != nil {
		return 0, nil, err
	}
	if err := writeArchive(b.a, dst); err != nil {
		return 0, nil, err
	}
	return b.a.size(), missing, nil
}

// addModules puts the module closures in the archive: Modules where
// modprobe finds them and listed for init to load; Held ones aside, with
// the modules.dep and modules.alias lines that vm-module-enable adds.
func (c *Config) addModules(b *builder, k *Kernel) error {
	mi, err := readModuleIndex(k.ModulesDir())
	if err != nil {
		return err
	}
	base, err := mi.closure(c.Modules, nil)
	if err != nil {
		return err
	}
	inBase := map[string]bool{}
	for _, m := range base {
		inBase[m] = true
	}
	held, err := mi.closure(c.Held, inBase)
	if err != nil {
		return err
	}
	modDir := "/usr/lib/modules/" + k.Release
	var load, heldList []string
	for _, set := range []struct {
		mods []string
		dir  string
		list *[]string
	}{{base, modDir, &load}, {held, guestLibDir + "/held", &heldList}} {
		for _, m := range set.mods {
			data, err := mi.contents(m)
			if err != nil {
				return err
			}
			rel := uncompressedPath(mi.paths[m])
			b.a.file(path.Join(set.dir, rel), data, 0o644)
			*set.list = append(*set.list, rel)
		}
	}
	b.a.file(modDir+"/modules.dep", []byte(mi.depLines(base)), 0o644)
	b.a.file(modDir+"/modules.alias", []byte(mi.aliasLines(base)), 0o644)
	if data, err := os.ReadFile(filepath.Join(k.ModulesDir(), "modules.builtin")); err == nil {
		b.a.file(modDir+"/modules.builtin", data, 0o644)
	}
	b.a.file("/etc/vmtest/modules.load", []byte(lines(load)), 0o644)
	b.a.file("/etc/vmtest/held.list", []byte(lines(heldList)), 0o644)
	b.a.file("/etc/vmtest/held.dep", []byte(mi.depLines(held)), 0o644)
	b.a.file("/etc/vmtest/held.alias", []byte(mi.aliasLines(held)), 0o644)
	return nil
}

func lines(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return strings.Join(s, "\n") + "\n"
}

// IsUnavailable reports whether err says the VM cannot run here.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

// DefaultModules are loaded at boot in the test VM (wireguard comes on
// top, at boot or held back): veth and dummy links, TUN for the userspace
// device, nf_tables with what wg-quick's full-tunnel rules use, and the
// virtio-mmio block device the results come back on.
var DefaultModules = []string{
	"veth", "dummy", "tun",
	"nf_tables", "nft_ct", "nft_fib_ipv4", "nft_fib_ipv6", "nft_fib_inet",
	"virtio_mmio", "virtio_blk",
}

// DefaultPrograms are the host programs carried into the test VM with
// their libraries: bash (wg-quick is a bash script), iproute2, the
// reference wg and wg-quick, nft to read rule sets back, sysctl (the
// reference wg-quick calls it), wireguard-go (the reference's fallback).
var DefaultPrograms = []string{
	"/usr/bin/bash", "/usr/sbin/ip", "/usr/bin/wg", "/usr/bin/wg-quick",
	"/usr/sbin/nft", "/usr/sbin/sysctl", "/usr/bin/wireguard-go",
}
