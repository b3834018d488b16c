package vmtest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// machine is one qemu run.
type machine struct {
	qemu    string
	kernel  string   // uncompressed vmlinux (PVH boot)
	initrd  string   // newc cpio
	append  []string // kernel command line
	accel   string   // "kvm" or "tcg"
	memMiB  int
	smp     int
	timeout time.Duration
	outDisk bool   // attach a raw disk the guest writes /out to as a tar archive
	workDir string // for the disk and the files read back
	console io.Writer
}

// outcome is how a run ended.
type outcome struct {
	exitCode  int    // the guest command's status; -1 when the guest reported none
	timedOut  bool   // stopped at machine.timeout
	panicLine string // "Kernel panic - not syncing: ..." when the kernel panicked
	outDir    string // what the guest left in /out ("" without outDisk)
	elapsed   time.Duration
	tail      string // the console's last lines, for error messages
	qemuErr   string // qemu's own standard error
}

// err describes a run that did not report a status.
func (o *outcome) err() error {
	switch {
	case o.panicLine != "":
		return fmt.Errorf("the guest kernel panicked: %s", o.panicLine)
	case o.timedOut:
		return fmt.Errorf("the VM did not finish within its time limit; console ends with:\n%s", o.tail)
	case o.exitCode < 0:
		return fmt.Errorf("the VM stopped without reporting a status (boot failure?); qemu: %s; console ends with:\n%s", o.qemuErr, o.tail)
	}
	return nil
}

const outDiskSize = 1 << 30 // sparse; only what the guest writes takes space

var panicRE = regexp.MustCompile(`Kernel panic - not syncing:.*`)

func (m *machine) args(token string) []string {
	a := []string{
		"-M", "microvm", "-m", strconv.Itoa(m.memMiB), "-smp", strconv.Itoa(m.smp),
		"-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
		"-no-reboot", "-kernel", m.kernel, "-initrd", m.initrd,
		"-append", strings.Join(append(append([]string{}, m.append...), "vmtest.token="+token), " "),
	}
	switch m.accel {
	case "kvm":
		// -arch-capabilities: some nested KVMs refuse to set MSR 0x10a.
		a = append(a, "-accel", "kvm", "-cpu", "host,-arch-capabilities")
	default:
		a = append(a, "-accel", "tcg,thread=multi", "-cpu", "max")
	}
	if m.outDisk {
		a = append(a, "-drive", "id=out,file="+filepath.Join(m.workDir, "out.disk")+",format=raw,if=none,cache=unsafe",
			"-device", "virtio-blk-device,drive=out")
	}
	return a
}

// run boots the machine and waits for it to end, the timeout or ctx.
func (m *machine) run(ctx context.Context) (*outcome, error) {
	tok := make([]byte, 12)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	token := hex.EncodeToString(tok)
	if m.outDisk {
		disk, err := os.Create(filepath.Join(m.workDir, "out.disk"))
		if err != nil {
			return nil, err
		}
		err = disk.Truncate(outDiskSize)
		disk.Close()
		if err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(m.qemu, m.args(token)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var qerr bytes.Buffer
	cmd.Stderr = &qerr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", m.qemu, err)
	}
	o := &outcome{exitCode: -1}
	var mu sync.Mutex
	stop := func(timedOut bool) {
		mu.Lock()
		o.timedOut = o.timedOut || timedOut
		mu.Unlock()
		cmd.Process.Kill() // our own child, by PID
	}
	timer := time.AfterFunc(m.timeout, func() { stop(true) })
	defer timer.Stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			stop(false)
		case <-done:
		}
	}()

	exitRE := regexp.MustCompile(`^` + token + ` EXIT=(\d+)$`)
	var tail []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if mm := exitRE.FindStringSubmatch(line); mm != nil {
			o.exitCode, _ = strconv.Atoi(mm[1])
			continue // the token stays out of the log
		}
		if p := panicRE.FindString(line); p != "" && o.panicLine == "" {
			o.panicLine = p
		}
		if m.console != nil {
			fmt.Fprintf(m.console, "%6.1f %s\n", time.Since(start).Seconds(), line)
		}
		tail = append(tail, line)
		if len(tail) > 40 {
			tail = tail[1:]
		}
	}
	io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	o.elapsed = time.Since(start)
	o.tail = strings.Join(tail, "\n")
	o.qemuErr = strings.TrimSpace(qerr.String())
	if ctx.Err() != nil {
		return o, ctx.Err()
	}
	if werr != nil && o.exitCode < 0 && !o.timedOut && o.panicLine == "" && o.qemuErr != "" {
		return o, fmt.Errorf("qemu: %v: %s", werr, o.qemuErr)
	}
	if m.outDisk && o.exitCode >= 0 {
		o.outDir = filepath.Join(m.workDir, "out")
		if err := untarDisk(filepath.Join(m.workDir, "out.disk"), o.outDir); err != nil {
			return o, fmt.Errorf("reading the guest's result files: %w", err)
		}
	}
	return o, nil
}

// untarDisk unpacks the tar archive at the start of a raw disk image into
// dir: regular files and directories only, nothing outside dir.
func untarDisk(disk, dir string) error {
	f, err := os.Open(disk)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if name == "." || strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			continue
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			w, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, tr)
			w.Close()
			if err != nil {
				return err
			}
		}
	}
}

// kvmUsable reports whether /dev/kvm can be opened for reading and writing.
func kvmUsable() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	f.Close()
	return nil
}

// hostRelease is the running kernel's release.
func hostRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// tscKHz is the host's TSC frequency in kHz, from /proc/cpuinfo ("" when
// unknown). Under TCG the guest's TSC runs at the host's rate, and telling
// the guest kernel so (tsc_early_khz=) avoids a calibration against a PIT
// that microvm does not have, which hung about one boot in three.
func tscKHz() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || mhz <= 0 {
				return ""
			}
			return strconv.Itoa(int(mhz * 1000))
		}
	}
	return ""
}
