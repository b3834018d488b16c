package osys

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
// interface of one network namespace have a single winner. Its file,
// DIR/IFACE.NETNS.lock (NETNS the namespace's inode number: `ip netns exec`
// shares /run between namespaces, and two namespaces' wg0 are two
// interfaces), also says what the holder is doing: "lock PID VERB" while
// it only reads, "VERB PID" ("up", "down", "reload") once it has started
// to change the host, and on a second line the namespace ("netns INODE
// COOKIE"). A file left with a changing verb in it is the mark of a run
// that was killed half-way; the next run in the same namespace cleans up
// after it (see Recovered).
type Lock struct {
	f     *os.File
	path  string
	netns NetNS
	// Recovered is what the previous holder's record said when it ended
	// without releasing the lock mid-change ("up 1234"), else "".
	Recovered string
	// Stale is the record of a run killed in a namespace that is gone
	// (one whose inode number this namespace now has), which is dropped,
	// not recovered from; else "".
	Stale string
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

// changingVerbs are the verbs whose record marks a run that changes the
// host.
var changingVerbs = []string{"up", "down", "reload"}

// LockPath is the lock file of iface in the namespace ns, in dir.
func LockPath(dir, iface string, ns NetNS) string {
	if ns.Inode == 0 {
		return filepath.Join(dir, iface+".lock")
	}
	return filepath.Join(dir, fmt.Sprintf("%s.%d.lock", iface, ns.Inode))
}

// AcquireLock takes the lock of iface in the calling thread's network
// namespace, in dir, for verb, without waiting.
func AcquireLock(dir, iface, verb string) (*Lock, error) {
	ns, err := CurrentNetNS()
	if err != nil {
		return nil, err
	}
	return acquire(dir, iface, verb, ns)
}

func acquire(dir, iface, verb string, ns NetNS) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	path := LockPath(dir, iface, ns)
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, fmt.Errorf("cannot open %s: %w", path, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			holder := readHeld(f)
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
		prev, _ := io.ReadAll(io.LimitReader(f, 256))
		l := &Lock{f: f, path: path, netns: ns}
		if rec, recNS, ok := parseRecord(string(prev)); ok && changing(rec) {
			if recNS.Inode == 0 || recNS.Same(ns) {
				l.Recovered = rec
			} else {
				l.Stale = rec
			}
		}
		if err := l.write("lock " + strconv.Itoa(os.Getpid()) + " " + verb); err != nil {
			l.Release()
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("cannot lock %s: it keeps being replaced", path)
}

func changing(rec string) bool {
	verb, _, _ := strings.Cut(rec, " ")
	for _, v := range changingVerbs {
		if verb == v {
			return true
		}
	}
	return false
}

// parseRecord splits a lock file into its record (first line) and the
// namespace of its second line (zero when it has none).
func parseRecord(text string) (rec string, ns NetNS, ok bool) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	rec = strings.TrimSpace(lines[0])
	if rec == "" {
		return "", ns, false
	}
	if len(lines) > 1 {
		if f := strings.Fields(lines[1]); len(f) == 3 && f[0] == "netns" {
			ns.Inode, _ = strconv.ParseUint(f[1], 10, 64)
			ns.Cookie, _ = strconv.ParseUint(f[2], 10, 64)
		}
	}
	return rec, ns, true
}

// readHeld reads a held lock's record; the holder writes it just after
// taking the lock, so an empty one is read again a few times.
func readHeld(f *os.File) string {
	for range 5 {
		b := make([]byte, 256)
		n, _ := f.ReadAt(b, 0)
		if rec, _, ok := parseRecord(string(b[:n])); ok {
			return rec
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ""
}

func (l *Lock) write(rec string) error {
	text := fmt.Sprintf("%s\nnetns %d %d\n", rec, l.netns.Inode, l.netns.Cookie)
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("cannot write %s: %w", l.path, err)
	}
	if _, err := l.f.WriteAt([]byte(text), 0); err != nil {
		return fmt.Errorf("cannot write %s: %w", l.path, err)
	}
	return nil
}

// Changing records that the holder is about to change the host for verb
// ("up", "down" or "reload"), so that a run that finds the record after a
// crash cleans up.
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

// PeekLock reads the lock of iface in the calling thread's network
// namespace without taking it or touching it (a dry run must not make a
// real run find the lock busy): the record of a run killed mid-change that
// a real run would clean up after ("" when there is none), or a
// *BusyError when the record's process is alive (the holder, or a PID
// reused since: a dry run's guess).
func PeekLock(dir, iface string) (string, error) {
	ns, err := CurrentNetNS()
	if err != nil {
		return "", err
	}
	path := LockPath(dir, iface, ns)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	rec, recNS, ok := parseRecord(string(data))
	if !ok || (recNS.Inode != 0 && !recNS.Same(ns)) {
		return "", nil
	}
	if f := strings.Fields(rec); len(f) >= 2 {
		if pid, err := strconv.Atoi(f[1]); err == nil && pid > 0 && pid != os.Getpid() {
			if _, err := os.Stat("/proc/" + f[1]); err == nil {
				return "", &BusyError{Iface: iface, Holder: rec}
			}
		}
	}
	if changing(rec) {
		return rec, nil
	}
	return "", nil
}
