package dist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// throwawayRoot is a root file system to install packages into without
// touching the machine: a private mount namespace in which /usr, /etc and
// /var are overlays of the machine's own (their changes go to a tmpfs that
// vanishes with the namespace), with /proc, /dev, an empty /run (so that
// maintainer scripts see no running systemd) and dir (read-only) at /pkg.
// Commands run chrooted into it. What changed is read from the overlays'
// upper layers.
type throwawayRoot struct {
	t      *testing.T
	holder *exec.Cmd
	base   string // the tmpfs holding root/ and the overlays' layers, as the namespace sees it
}

func newThrowawayRoot(t *testing.T, pkgdir string) *throwawayRoot {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (to mount overlays in a private mount namespace)")
	}
	need(t, "unshare", "nsenter", "chroot", "mount")
	base := t.TempDir()
	var links strings.Builder
	for _, l := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		if target, err := os.Readlink("/" + l); err == nil {
			fmt.Fprintf(&links, "ln -s %q root/%s && ", target, l)
		} else if st, err := os.Stat("/" + l); err == nil && st.IsDir() {
			// A system that is not /usr-merged: overlay it too.
			fmt.Fprintf(&links, "mkdir -p root/%[1]s upper/%[1]s work/%[1]s && mount -t overlay overlay -o lowerdir=/%[1]s,upperdir=upper/%[1]s,workdir=work/%[1]s root/%[1]s && ", l)
		}
	}
	script := `set -e
base=$1 pkg=$2
mount -t tmpfs -o mode=0755 throwaway "$base"
cd "$base"
mkdir -p root/proc root/dev root/sys root/tmp root/run root/pkg
for d in usr etc var; do
	mkdir -p root/$d upper/$d work/$d
	mount -t overlay overlay -o lowerdir=/$d,upperdir=upper/$d,workdir=work/$d root/$d
done
` + links.String() + `true
mount -t proc proc root/proc
mount --rbind /dev root/dev
mount -t tmpfs -o mode=1777 tmp root/tmp
mount -t tmpfs -o mode=0755 run root/run
mount --bind "$pkg" root/pkg && mount -o remount,bind,ro root/pkg
echo ready
exec sleep 1000000
`
	r := &throwawayRoot{t: t, base: base}
	r.holder = exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", base, pkgdir)
	stdout, err := r.holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	r.holder.Stderr = &stderr
	if err := r.holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.holder.Process.Kill()
		r.holder.Wait()
	})
	buf := make([]byte, 6)
	if n, err := stdout.Read(buf); err != nil || string(buf[:n]) != "ready\n" {
		r.holder.Wait()
		t.Fatalf("setting up the throwaway root: %v %q %s", err, buf, stderr.String())
	}
	return r
}

// path is where the test process reads path of the throwaway root.
func (r *throwawayRoot) path(path string) string {
	return filepath.Join("/proc", strconv.Itoa(r.holder.Process.Pid), "root", r.base, "root", path)
}

// run runs a shell command line chrooted into the root, with a plain
// environment, and returns its output and exit status.
func (r *throwawayRoot) run(script string) (string, int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(r.holder.Process.Pid), "-m", "--",
		"chroot", filepath.Join(r.base, "root"), "/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
		"DEBIAN_FRONTEND=noninteractive", "HOME=/root", "TERM=dumb", "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=", "MANPAGER=cat"}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("%s: %v", script, err)
	}
	if ctx.Err() != nil {
		r.t.Fatalf("%s: timed out\n%s", script, out)
	}
	return string(out), code
}

// must runs a command line and fails the test unless it succeeds.
func (r *throwawayRoot) must(script string) string {
	r.t.Helper()
	out, code := r.run(script)
	if code != 0 {
		r.t.Fatalf("in the throwaway root: %s: exit %d\n%s", script, code, out)
	}
	return out
}

// changes describes every path the root has changed against the machine
// (the overlays' upper layers): type, mode, size, content hash or link
// target; "whiteout" for a deleted path.
func (r *throwawayRoot) changes() map[string]string {
	r.t.Helper()
	upper := filepath.Join("/proc", strconv.Itoa(r.holder.Process.Pid), "root", r.base, "upper")
	got := map[string]string{}
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(upper, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		if d.IsDir() {
			// A directory is copied up when something in it changes; it
			// is a change only if the machine has none there, or another.
			if real, err := os.Lstat("/" + rel); err == nil && real.Mode() == info.Mode() {
				return nil
			}
		}
		switch {
		case info.Mode()&fs.ModeCharDevice != 0:
			if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Rdev == 0 {
				desc = "whiteout"
			}
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %d %x", len(data), sha256.Sum256(data))
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		}
		got["/"+rel] = desc
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return got
}

// bookkeeping is what installing and removing a package changes besides
// the package's own files, and is not a leftover: dpkg's and apt's
// databases, logs and caches, and man-db's index (rebuilt by its trigger).
func bookkeeping(path string) bool {
	for _, prefix := range []string{"/var/lib/dpkg/", "/var/log/", "/var/cache/man/", "/var/cache/apt/",
		"/var/lib/apt/", "/var/cache/debconf/", "/var/cache/ldconfig/"} {
		if strings.HasPrefix(path+"/", prefix) {
			return true
		}
	}
	return false
}

// leftovers compares two change lists outside the bookkeeping: what after
// has that before had not, or has differently, and what before had that
// after lost.
func leftovers(before, after map[string]string) []string {
	var diffs []string
	for p, d := range after {
		if bookkeeping(p) {
			continue
		}
		if b, ok := before[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("new: %s (%s)", p, d))
		} else if b != d {
			diffs = append(diffs, fmt.Sprintf("changed: %s (%s, was %s)", p, d, b))
		}
	}
	for p, d := range before {
		if _, ok := after[p]; !ok && !bookkeeping(p) {
			diffs = append(diffs, fmt.Sprintf("gone: %s (was %s)", p, d))
		}
	}
	return diffs
}
