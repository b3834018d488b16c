package vmtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestVM boots the test VM on each kernel KernelsFromEnv names (by
// default Debian 12's 6.1 and 6.12) and runs every kernel-path check in it
// (guest/run.sh): the Go tests named TestKernel* of goTestPackages, and
// the CLI checks of guest/checks. Each kernel is a subtest, each guest
// check a subtest of it; the last lines give the tally per kernel.
func TestVM(t *testing.T) {
	if testing.Short() {
		t.Skip("VM tests: skipped in -short mode (make vmtest runs them)")
	}
	if v := os.Getenv("WGTOOLS_VMTEST"); v == "off" || v == "0" {
		t.Skip("VM tests: WGTOOLS_VMTEST=" + v)
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("VM tests: need linux/amd64 (the guest is a Debian amd64 kernel)")
	}
	if err := Available(); err != nil {
		t.Skip("VM tests: " + err.Error())
	}
	kernels, err := KernelsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	root := moduleRoot(t)
	files, built := buildGuestBinaries(t, root)
	refDir := filepath.Join(root, "testdata/reference/wg-quick")
	for _, c := range []string{"p2p", "fulltunnel-nft"} {
		ents, err := os.ReadDir(filepath.Join(refDir, c))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				files[filepath.Join("/opt/vmtest/reference/wg-quick", c, e.Name())] = filepath.Join(refDir, c, e.Name())
			}
		}
	}
	maps.Copy(files, manyFiles(t, t.TempDir()))
	// Passed on to the guest: VMTEST_OURS=reference makes the CLI checks
	// compare the reference with itself (a self-test of the guest
	// scripts); VMTEST_ONLY=REGEXP runs only the matching check scripts
	// ("go" for the Go tests).
	var guestEnv strings.Builder
	for _, v := range []string{"VMTEST_OURS", "VMTEST_ONLY"} {
		if s := os.Getenv(v); s != "" {
			fmt.Fprintf(&guestEnv, "%s=%q\n", v, s)
		}
	}
	if guestEnv.Len() > 0 {
		envFile := filepath.Join(t.TempDir(), "env")
		os.WriteFile(envFile, []byte(guestEnv.String()), 0o644)
		files["/etc/vmtest/env"] = envFile
	}
	fmt.Fprintf(os.Stdout, "vmtest: guest binaries built in %.1fs; kernels: %v\n", built.Seconds(), kernels)
	var tallies []string
	ranOn := map[string]KernelChoice{} // release -> the choice that ran on it
	for _, k := range kernels {
		t.Run(k.String(), func(t *testing.T) {
			rel, tally := runOnKernel(t, k, files)
			tallies = append(tallies, tally)
			if other, ok := ranOn[rel]; ok {
				t.Errorf("%s and %s both ran on kernel %s: one kernel was tested twice, another not at all", other, k, rel)
			}
			ranOn[rel] = k
		})
	}
	for _, line := range tallies {
		fmt.Fprintln(os.Stdout, "vmtest: "+line)
	}
	fmt.Fprintf(os.Stdout, "vmtest: %d kernels, total %.1fs\n", len(kernels), time.Since(start).Seconds())
}

// runOnKernel boots kernel k, runs the checks and makes each a subtest;
// it returns the release it ran on and the kernel's tally line.
func runOnKernel(t *testing.T, k KernelChoice, files map[string]string) (string, string) {
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Release, cfg.Metapkg = k.Release, k.Metapkg
	start := time.Now()
	cfg.Files = files
	cfg.Modules = DefaultModules
	cfg.Held = []string{"wireguard"}
	cfg.Programs = DefaultPrograms
	cfg.Command = "/opt/vmtest/run.sh"
	console := newLineWriter(os.Stdout, "vm| ")
	cfg.Console = console
	cfg.Logf = func(f string, a ...any) { fmt.Fprintf(os.Stdout, "vmtest: "+f+"\n", a...) }

	res, err := Run(context.Background(), cfg)
	if IsUnavailable(err) {
		// A kernel that cannot be had is a failure where kernels were
		// asked for by name; the machine lacking qemu is a skip (TestVM).
		t.Fatalf("VM tests on %s: %v", k, err)
	}
	if err != nil {
		t.Fatalf("VM run on %s: %v", k, err)
	}
	defer res.Remove()
	if want := k.Release; want != "" && want != "installed" && res.Kernel.Release != want {
		t.Errorf("asked for kernel %s, ran on %s", want, res.Kernel.Release)
	}
	for _, m := range res.Missing {
		fmt.Fprintf(os.Stdout, "vmtest: %s is not installed here; the checks that need it skip\n", m)
	}
	if dst := os.Getenv("VMTEST_OUT"); dst != "" {
		dst = filepath.Join(dst, res.Kernel.Release)
		os.MkdirAll(dst, 0o755)
		if out, err := exec.Command("cp", "-a", res.OutDir+"/.", dst).CombinedOutput(); err != nil {
			t.Errorf("copying the results to %s: %v %s", dst, err, out)
		}
	}
	results, err := os.ReadFile(filepath.Join(res.OutDir, "results.txt"))
	if err != nil {
		t.Fatalf("the guest left no results (exit %d): %v", res.ExitCode, err)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(string(results), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			t.Errorf("bad result line %q", line)
			continue
		}
		status, name, detail := f[0], f[1], f[2]
		counts[status]++
		t.Run(name, func(t *testing.T) {
			switch status {
			case "PASS":
			case "SKIP":
				t.Skip(detail)
			default:
				t.Error(detail)
			}
		})
	}
	fmt.Fprintf(os.Stdout, "vmtest: kernel %s (%s), %s (%s)\n", res.Kernel.Release, res.Kernel.Source, res.Accel, res.AccelWhy)
	fmt.Fprintf(os.Stdout, "vmtest: setup %.1fs (initramfs %.1f MB), boot-to-result %.1fs, total %.1fs\n",
		res.Setup.Seconds(), float64(res.InitramfsBytes)/1e6, res.Boot.Seconds(), time.Since(start).Seconds())
	tally := fmt.Sprintf("kernel %s: %d passed, %d failed, %d skipped (%.0fs)", res.Kernel.Release, counts["PASS"], counts["FAIL"], counts["SKIP"], time.Since(start).Seconds())
	fmt.Fprintln(os.Stdout, "vmtest: "+tally)
	if res.ExitCode != 0 && counts["FAIL"] == 0 {
		t.Errorf("the guest's checks exited %d without a failed check", res.ExitCode)
	}
	if counts["PASS"] == 0 {
		t.Errorf("no check passed")
	}
	return res.Kernel.Release, tally
}

// goTestPackages are compiled into test binaries for the guest, which
// runs their TestKernel* tests with WGTOOLS_KERNEL_TESTS=1.
var goTestPackages = []string{"./internal/wgdev", "./internal/netlinkx"}

// buildGuestBinaries builds our static wg and wg-quick and the test
// binaries, and returns guest path -> host file.
func buildGuestBinaries(t *testing.T, root string) (map[string]string, time.Duration) {
	t.Helper()
	start := time.Now()
	dir := t.TempDir()
	goTool := goCommand(t)
	run := func(args ...string) {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	files := map[string]string{}
	for _, c := range []string{"wg", "wg-quick"} {
		out := filepath.Join(dir, c)
		run("build", "-trimpath", "-o", out, "./cmd/"+c)
		files["/opt/wgtools/bin/"+c] = out
	}
	// The guest's checker of `wg show ... json` (checks/kernel-json.sh)
	// and the schema it checks against.
	jc := filepath.Join(dir, "jsoncheck")
	run("build", "-trimpath", "-o", jc, "./vmtest/cmd/jsoncheck")
	files["/opt/vmtest/bin/jsoncheck"] = jc
	files["/opt/vmtest/schema/wg-show.schema.json"] = filepath.Join(root, "dist/schema/wg-show.schema.json")
	for _, p := range goTestPackages {
		name := filepath.Base(p) + ".test"
		out := filepath.Join(dir, name)
		run("test", "-c", "-o", out, p)
		files["/opt/vmtest/go/"+name] = out
	}
	return files, time.Since(start)
}

func goCommand(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	t.Fatal("no go command in PATH or GOROOT")
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// moduleRoot is the directory holding go.mod, above the package's.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) {
			return d
		}
		if d == filepath.Dir(d) {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

// lineWriter prefixes every line written to it.
type lineWriter struct {
	mu     sync.Mutex
	w      *bufio.Writer
	prefix string
}

func newLineWriter(w io.Writer, prefix string) *lineWriter {
	return &lineWriter{w: bufio.NewWriter(w), prefix: prefix}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line == "" {
			continue
		}
		l.w.WriteString(l.prefix + line)
	}
	return len(p), l.w.Flush()
}

// TestVMFailures: a kernel panic and a timeout end the run at once with
// an error that says so, rather than hanging.
func TestVMFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("VM tests: skipped in -short mode (make vmtest runs them)")
	}
	if v := os.Getenv("WGTOOLS_VMTEST"); v == "off" || v == "0" {
		t.Skip("VM tests: WGTOOLS_VMTEST=" + v)
	}
	if err := Available(); err != nil {
		t.Skip("VM tests: " + err.Error())
	}
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "panic.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho c > /proc/sysrq-trigger\nsleep 600\n"), 0o755)
	cfg.Files = map[string]string{"/opt/panic.sh": script}
	cfg.Command = "/opt/panic.sh"
	cfg.Logf = t.Logf
	start := time.Now()
	_, err = Run(context.Background(), cfg)
	if IsUnavailable(err) {
		t.Skip("VM tests: " + err.Error())
	}
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("a kernel panic gave %v, want an error saying the kernel panicked", err)
	} else {
		t.Logf("panic: %v (after %.1fs)", err, time.Since(start).Seconds())
	}

	cfg.Timeout = 2 * time.Second // ends during the boot
	start = time.Now()
	_, err = Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Errorf("a timeout gave %v, want an error saying the time limit passed", err)
	} else {
		t.Logf("timeout: %.80s... (after %.1fs)", err, time.Since(start).Seconds())
	}
}
