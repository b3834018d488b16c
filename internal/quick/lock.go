package quick

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Lock is the per-interface lock that makes concurrent wg-quick runs on one
// interface have a single winner. Its file, RUNDIR/IFACE.lock, also says
// what the holder is doing: "lock PID VERB" while it only reads, "up PID"
// or "down PID" once it has started to change the host. A file left with
// "up" or "down" in it is the mark of a run that was killed half-way; the
// next run cleans up after it (see Recovered).
type Lock struct {
	f    *os.File
	path string
	// Recovered is what the previous holder's file said when it ended
	// without releasing the lock mid-change ("up 1234"), else "".
	Recovered string
}

// BusyError is the failure to take a lock another process holds.
type BusyError struct {
	Iface  string
	Holder string // the holder's record, e.g. "up 1234"
}

func (e *BusyError) Error() string {
	verb, pid := "", ""
	if f := strings.Fields(e.Holder); len(f) >= 2 {
		verb, pid = f[0], f[1]
		if verb == "lock" && len(f) >= 3 {
			verb = f[2]
		}
	}
	if pid == "" {
		return fmt.Sprintf("`%s' is busy: another wg-quick is changing it", e.Iface)
	}
	return fmt.Sprintf("`%s' is busy: wg-quick %s (pid %s) is changing it", e.Iface, verb, pid)
}

// AcquireLock takes the lock of iface in dir for verb without waiting.
func AcquireLock(dir, iface, verb string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	path := filepath.Join(dir, iface+".lock")
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, fmt.Errorf("cannot open %s: %w", path, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			holder := readRecord(f)
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, &BusyError{Iface: iface, Holder: holder}
			}
			return nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		// The file may have been removed by its previous holder between
		// our open and our lock: then try again on the new one.
		var st1, st2 unix.Stat_t
		if unix.Fstat(int(f.Fd()), &st1) != nil || unix.Stat(path, &st2) != nil || st1.Ino != st2.Ino || st1.Dev != st2.Dev {
			f.Close()
			continue
		}
		prev, _ := io.ReadAll(io.LimitReader(f, 128))
		l := &Lock{f: f, path: path}
		if rec := strings.TrimSpace(string(prev)); strings.HasPrefix(rec, "up ") || strings.HasPrefix(rec, "down ") {
			l.Recovered = rec
		}
		if err := l.write("lock " + strconv.Itoa(os.Getpid()) + " " + verb); err != nil {
			l.Release()
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("cannot lock %s: it keeps being replaced", path)
}

// readRecord reads a held lock's record; the holder writes it just after
// taking the lock, so an empty one is read again a few times.
func readRecord(f *os.File) string {
	for range 5 {
		b := make([]byte, 128)
		n, _ := f.ReadAt(b, 0)
		if rec := strings.TrimSpace(string(b[:n])); rec != "" {
			return rec
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ""
}

func (l *Lock) write(rec string) error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("cannot write %s: %w", l.path, err)
	}
	if _, err := l.f.WriteAt([]byte(rec+"\n"), 0); err != nil {
		return fmt.Errorf("cannot write %s: %w", l.path, err)
	}
	return nil
}

// Changing records that the holder is about to change the host for verb
// ("up" or "down"), so that a run that finds the record after a crash
// cleans up.
func (l *Lock) Changing(verb string) error {
	if l == nil {
		return nil
	}
	return l.write(verb + " " + strconv.Itoa(os.Getpid()))
}

// Release removes the lock's file and lets the next run in.
func (l *Lock) Release() {
	if l == nil {
		return
	}
	os.Remove(l.path) // while still locked: see AcquireLock's inode check
	l.f.Close()
}
