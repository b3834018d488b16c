package vmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readNewc parses a newc archive: path -> mode and body.
func readNewc(t *testing.T, data []byte) (order []string, modes map[string]uint32, bodies map[string]string) {
	t.Helper()
	modes, bodies = map[string]uint32{}, map[string]string{}
	off := 0
	field := func(i int) int {
		v, err := strconv.ParseUint(string(data[off+6+8*i:off+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("header at %d: %v", off, err)
		}
		return int(v)
	}
	for {
		if off%4 != 0 || string(data[off:off+6]) != "070701" {
			t.Fatalf("no newc header at %d", off)
		}
		mode, size, nameLen := field(1), field(6), field(11)
		name := string(data[off+110 : off+110+nameLen-1])
		off += 110 + nameLen
		off = (off + 3) &^ 3
		body := string(data[off : off+size])
		off = (off + size + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(data) {
				t.Errorf("%d bytes after the trailer", len(data)-off)
			}
			return
		}
		order = append(order, name)
		modes[name], bodies[name] = uint32(mode), body
	}
}

func TestArchive(t *testing.T) {
	a := newArchive()
	a.file("/usr/bin/prog", []byte("#!/bin/sh\necho hi\n"), 0o755)
	a.symlink("/bin", "usr/bin")
	a.file("usr/lib/x/lib.so", []byte("abc"), 0o644)
	a.mkdirAll("/empty/dir")
	var buf bytes.Buffer
	if err := a.writeTo(&buf); err != nil {
		t.Fatal(err)
	}
	order, modes, bodies := readNewc(t, buf.Bytes())
	want := map[string]uint32{
		"bin": 0o120777, "empty": 0o40755, "empty/dir": 0o40755, "usr": 0o40755, "usr/bin": 0o40755,
		"usr/bin/prog": 0o100755, "usr/lib": 0o40755, "usr/lib/x": 0o40755, "usr/lib/x/lib.so": 0o100644,
	}
	if !reflect.DeepEqual(modes, want) {
		t.Errorf("modes %v, want %v", modes, want)
	}
	if bodies["bin"] != "usr/bin" || bodies["usr/lib/x/lib.so"] != "abc" || bodies["usr/bin/prog"] != "#!/bin/sh\necho hi\n" {
		t.Errorf("bodies %q", bodies)
	}
	seen := map[string]bool{}
	for _, p := range order {
		if d := filepath.Dir(p); d != "." && !seen[d] {
			t.Errorf("%s comes before its directory %s", p, d)
		}
		seen[p] = true
	}
	// Same tree, same bytes.
	var again bytes.Buffer
	a.writeTo(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("writing the same archive twice gave different bytes")
	}
}

func TestUsrMerged(t *testing.T) {
	for in, want := range map[string]string{
		"/bin/sh": "/usr/bin/sh", "/lib64/ld-linux-x86-64.so.2": "/usr/lib64/ld-linux-x86-64.so.2",
		"/lib/x86_64-linux-gnu/libc.so.6": "/usr/lib/x86_64-linux-gnu/libc.so.6", "/sbin": "/usr/sbin",
		"/usr/bin/wg": "/usr/bin/wg", "/libexec/x": "/libexec/x", "/opt/bin/x": "/opt/bin/x",
	} {
		if got := usrMerged(in); got != want {
			t.Errorf("usrMerged(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestModuleIndex(t *testing.T) {
	dir := t.TempDir()
	dep := "kernel/net/a.ko.xz: kernel/lib/b.ko.xz kernel/lib/c-d.ko.xz\n" +
		"kernel/lib/b.ko.xz: kernel/lib/c-d.ko.xz\n" +
		"kernel/lib/c-d.ko.xz:\n" +
		"kernel/net/e.ko.zst:\n"
	os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644)
	os.WriteFile(filepath.Join(dir, "modules.alias"), []byte("# comment\nalias rtnl-link-a a\nalias x c_d\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/net/builtin.ko\n"), 0o644)
	mi, err := readModuleIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mi.closure([]string{"a", "builtin", "e"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c_d", "b", "a", "e"}; !reflect.DeepEqual(got, want) {
		t.Errorf("closure %q, want %q (dependencies first, built-ins left out)", got, want)
	}
	got, _ = mi.closure([]string{"a"}, map[string]bool{"c_d": true})
	if want := []string{"b", "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("closure skipping c_d: %q, want %q", got, want)
	}
	if _, err := mi.closure([]string{"nosuch"}, nil); err == nil {
		t.Error("an unknown module gave no error")
	}
	if got, want := mi.depLines([]string{"b", "a"}), "kernel/lib/b.ko: kernel/lib/c-d.ko\nkernel/net/a.ko: kernel/lib/b.ko kernel/lib/c-d.ko\n"; got != want {
		t.Errorf("depLines %q, want %q", got, want)
	}
	if got, want := mi.aliasLines([]string{"a", "c_d"}), "alias rtnl-link-a a\nalias x c_d\n"; got != want {
		t.Errorf("aliasLines %q, want %q", got, want)
	}
}

func TestExtractVmlinux(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("gzip not installed")
	}
	kernel := append([]byte{0x7f, 'E', 'L', 'F'}, bytes.Repeat([]byte("kernel"), 1000)...)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(kernel)
	w.Close()
	// A setup header, a stray zstd and gzip magic that decompress to
	// nothing, the payload, then trailing data the decompressor rejects.
	image := append([]byte("MZ setup \x28\xb5\x2f\xfd junk \x1f\x8b\x08 junk "), gz.Bytes()...)
	image = append(image, []byte("trailing")...)
	got, err := extractVmlinux(context.Background(), image)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, kernel) {
		t.Errorf("extracted %d bytes, want the %d-byte kernel", len(got), len(kernel))
	}
	if _, err := extractVmlinux(context.Background(), []byte("no kernel here")); err == nil {
		t.Error("an image without a payload gave no error")
	}
}

func TestElfDeps(t *testing.T) {
	if _, err := os.Stat("/usr/bin/wg"); err == nil {
		interp, needed, err := elfDeps("/usr/bin/wg")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(interp, "ld-linux") || !contains(needed, "libc.so.6") {
			t.Errorf("wg: interpreter %q, needs %q", interp, needed)
		}
	}
	self, _ := os.Executable()
	if _, _, err := elfDeps(self); err != nil {
		t.Errorf("the test binary: %v", err)
	}
	script := filepath.Join(t.TempDir(), "s")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if _, _, err := elfDeps(script); !errors.Is(err, errNotELF) {
		t.Errorf("a script: %v, want errNotELF", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestMachineArgs(t *testing.T) {
	m := &machine{qemu: "q", kernel: "/k", initrd: "/i", append: []string{"console=ttyS0", "quiet"},
		accel: "tcg", memMiB: 512, smp: 2, workDir: "/w", outDisk: true}
	args := strings.Join(m.args("TOKEN"), " ")
	for _, want := range []string{"-M microvm", "-m 512", "-smp 2", "-no-reboot", "-kernel /k", "-initrd /i",
		"-append console=ttyS0 quiet vmtest.token=TOKEN", "-accel tcg,thread=multi -cpu max",
		"file=/w/out.disk,format=raw", "virtio-blk-device"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	m.accel, m.outDisk = "kvm", false
	args = strings.Join(m.args("T"), " ")
	if !strings.Contains(args, "-accel kvm -cpu host,-arch-capabilities") || strings.Contains(args, "out.disk") {
		t.Errorf("kvm args %q", args)
	}
}

func TestUntarDisk(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{{"./results.txt", "PASS\tx\t\n"}, {"./sub/log", "log"}, {"../escape", "no"}, {"/abs", "no"}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	os.WriteFile(disk, append(buf.Bytes(), make([]byte, 64<<10)...), 0o644)
	out := filepath.Join(dir, "out")
	if err := untarDisk(disk, out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "results.txt")); string(b) != "PASS\tx\t\n" {
		t.Errorf("results.txt %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "sub/log")); string(b) != "log" {
		t.Errorf("sub/log %q", b)
	}
	if fileExists(filepath.Join(dir, "escape")) || fileExists(filepath.Join(out, "abs")) {
		t.Error("an entry outside the directory was written")
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("VMTEST_CACHE", "/c")
	t.Setenv("VMTEST_TIMEOUT", "42")
	t.Setenv("VMTEST_SMP", "2")
	t.Setenv("VMTEST_ACCEL", "tcg")
	c, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Cache != "/c" || c.Timeout != 42*time.Second || c.SMP != 2 || c.Accel != "tcg" || c.Metapkg != DefaultMetapkg || c.MemMiB != 1024 {
		t.Errorf("config %+v", c)
	}
	for k, v := range map[string]string{"VMTEST_ACCEL": "hvf", "VMTEST_TIMEOUT": "soon", "VMTEST_MEM": "-1"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, v)
			if _, err := ConfigFromEnv(); err == nil {
				t.Errorf("%s=%s gave no error", k, v)
			}
		})
	}
}

// fakeKernel lays out a kernel release under root.
func fakeKernel(t *testing.T, root, rel string, wireguard bool) {
	t.Helper()
	mods := filepath.Join(root, "lib/modules", rel)
	os.MkdirAll(mods, 0o755)
	os.MkdirAll(filepath.Join(root, "boot"), 0o755)
	os.WriteFile(filepath.Join(root, "boot", "vmlinuz-"+rel), []byte("image"), 0o644)
	dep := "kernel/drivers/net/veth.ko.xz:\n"
	if wireguard {
		dep += "kernel/drivers/net/wireguard/wireguard.ko.xz:\n"
	}
	os.WriteFile(filepath.Join(mods, "modules.dep"), []byte(dep), 0o644)
}

func TestKernelFinder(t *testing.T) {
	boot, cache := t.TempDir(), t.TempDir()
	fakeKernel(t, boot, "6.1.0-rt", true)
	fakeKernel(t, boot, "6.9.0-nowg", false)
	var fetched []string
	f := func(rel string, lookupErr error) *kernelFinder {
		return &kernelFinder{cache: cache, release: rel, metapkg: "linux-image-x", boot: boot, logf: t.Logf,
			lookup: func(context.Context, string) (string, error) { return "6.12.0-cloud", lookupErr },
			fetch: func(_ context.Context, rel string) error {
				fetched = append(fetched, rel)
				if rel == "6.12.0-cloud" {
					fakeKernel(t, filepath.Join(cache, rel), rel, true)
					return nil
				}
				return fmt.Errorf("offline")
			}}
	}
	ctx := context.Background()
	k, err := f("", nil).find(ctx)
	if err != nil || k.Release != "6.12.0-cloud" || k.Source != "downloaded" {
		t.Fatalf("following the metapackage: %+v %v", k, err)
	}
	k, err = f("", nil).find(ctx)
	if err != nil || k.Source != "cached" || len(fetched) != 1 {
		t.Errorf("second time: %+v %v, fetched %q (want it cached)", k, err, fetched)
	}
	if k, err = f("installed", nil).find(ctx); err != nil || k.Release != "6.1.0-rt" || k.Root != boot {
		t.Errorf("installed: %+v %v (want the newest with wireguard.ko)", k, err)
	}
	// Offline: the metapackage cannot be asked, a pinned release cannot be
	// fetched; the cached kernel is used.
	os.Remove(filepath.Join(cache, "meta-linux-image-x"))
	if k, err = f("", errors.New("no network")).find(ctx); err != nil || k.Release != "6.12.0-cloud" || k.Source != "cached" {
		t.Errorf("offline: %+v %v", k, err)
	}
	if k, err = f("6.13.0-new", nil).find(ctx); err != nil || k.Release != "6.12.0-cloud" {
		t.Errorf("pinned but unavailable: %+v %v", k, err)
	}
	// Offline with a stale answer: the kernel the metapackage last named,
	// not the newest cached one (another metapackage's).
	fakeKernel(t, filepath.Join(cache, "6.1.0-old-cloud"), "6.1.0-old-cloud", true)
	memo := filepath.Join(cache, "meta-linux-image-x")
	os.WriteFile(memo, []byte("6.1.0-old-cloud\n"), 0o644)
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(memo, old, old)
	os.Chtimes(filepath.Join(cache, "6.1.0-old-cloud"), old, old)
	if k, err = f("", errors.New("no network")).find(ctx); err != nil || k.Release != "6.1.0-old-cloud" || k.Source != "cached" {
		t.Errorf("offline with a stale answer: %+v %v", k, err)
	}
	os.RemoveAll(filepath.Join(cache, "6.1.0-old-cloud"))
	os.Remove(memo)
	// Nothing cached: the installed one.
	os.RemoveAll(filepath.Join(cache, "6.12.0-cloud"))
	if k, err = f("6.13.0-new", nil).find(ctx); err != nil || k.Release != "6.1.0-rt" || k.Source != "installed" {
		t.Errorf("nothing cached: %+v %v", k, err)
	}
}

func TestTSC(t *testing.T) {
	khz := tscKHz()
	if khz == "" {
		t.Skip("no cpu MHz in /proc/cpuinfo")
	}
	if n, err := strconv.Atoi(khz); err != nil || n < 100000 {
		t.Errorf("tscKHz() = %q", khz)
	}
}

func TestKernelsFromEnv(t *testing.T) {
	for _, c := range []struct {
		kernels, kver, kpkg string
		want                []KernelChoice
		err                 bool
	}{
		{want: []KernelChoice{{Metapkg: "linux-image-cloud-amd64"}, {Metapkg: DefaultMetapkg}}},
		{kernels: "linux-image-6.12-cloud-amd64, 6.1.0-40-cloud-amd64 installed",
			want: []KernelChoice{{Metapkg: "linux-image-6.12-cloud-amd64"}, {Release: "6.1.0-40-cloud-amd64", Metapkg: DefaultMetapkg}, {Release: "installed", Metapkg: DefaultMetapkg}}},
		{kver: "6.1.0-40-cloud-amd64", want: []KernelChoice{{Release: "6.1.0-40-cloud-amd64", Metapkg: DefaultMetapkg}}},
		{kpkg: "linux-image-amd64", want: []KernelChoice{{Metapkg: "linux-image-amd64"}}},
		{kernels: "installed", kver: "6.1.0-40-cloud-amd64", want: []KernelChoice{{Release: "installed", Metapkg: DefaultMetapkg}}},
		{kernels: "installed,installed", err: true},
	} {
		t.Setenv("VMTEST_KERNELS", c.kernels)
		t.Setenv("VMTEST_KVER", c.kver)
		t.Setenv("VMTEST_KPKG", c.kpkg)
		got, err := KernelsFromEnv()
		if (err != nil) != c.err || !reflect.DeepEqual(got, c.want) {
			t.Errorf("VMTEST_KERNELS=%q VMTEST_KVER=%q VMTEST_KPKG=%q: %v, %v; want %v", c.kernels, c.kver, c.kpkg, got, err, c.want)
		}
	}
}
