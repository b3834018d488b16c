package osys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLockOneWinner(t *testing.T) {
	dir := t.TempDir()
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, busy := 0, 0
	start := make(chan struct{})
	locks := make(chan *Lock, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			l, err := AcquireLock(dir, "wg0", "up")
			mu.Lock()
			defer mu.Unlock()
			var be *BusyError
			switch {
			case err == nil:
				won++
				locks <- l
			case errors.As(err, &be):
				busy++
			default:
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if won != 1 || busy != n-1 {
		t.Fatalf("%d won, %d busy", won, busy)
	}
	l := <-locks
	_, err := AcquireLock(dir, "wg0", "down")
	if err == nil || !strings.Contains(err.Error(), "`wg0' is busy: wg-quick up (pid ") {
		t.Fatalf("second lock: %v", err)
	}
	l.Release()
	if _, err := os.Stat(l.path); !os.IsNotExist(err) {
		t.Fatalf("lock file left: %v", err)
	}
}

func TestLockRecoveryRecord(t *testing.T) {
	dir := t.TempDir()
	l, err := AcquireLock(dir, "wg0", "up")
	if err != nil {
		t.Fatal(err)
	}
	if l.Recovered != "" {
		t.Fatalf("fresh lock has a record: %q", l.Recovered)
	}
	if err := l.Changing("up"); err != nil {
		t.Fatal(err)
	}
	l.f.Close() // killed: the file stays, the lock goes with the process
	l2, err := AcquireLock(dir, "wg0", "down")
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Release()
	if !strings.HasPrefix(l2.Recovered, "up ") {
		t.Fatalf("record %q, want up PID", l2.Recovered)
	}
	// A holder that only read (no Changing) leaves no record to recover.
	l2.f.Close()
	l3, err := AcquireLock(dir, "wg0", "up")
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Release()
	if l3.Recovered != "" {
		t.Fatalf("record %q after a reading holder", l3.Recovered)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wg0.conf")
	os.WriteFile(path, []byte("old\n"), 0o644)
	if err := WriteAtomic(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	data, _ := os.ReadFile(path)
	if string(data) != "new\n" || st.Mode().Perm() != 0o600 {
		t.Fatalf("content %q mode %v", data, st.Mode())
	}
	// Rename over a directory fails: the original stays, no temporary file.
	target := filepath.Join(dir, "sub")
	os.MkdirAll(filepath.Join(target, "x"), 0o755)
	err := WriteAtomic(target, []byte("x"))
	var we *WriteError
	if !errors.As(err, &we) || !we.Moving {
		t.Fatalf("got %v, want a move error", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("left behind: %v", entries)
	}
	// Writing into a missing directory is a write error.
	if err := WriteAtomic(filepath.Join(dir, "nope", "wg0.conf"), nil); !errors.As(err, &we) || we.Moving {
		t.Fatalf("got %v, want a write error", err)
	}
}

// TestLockPerNamespace (issue 13 §2): namespaces that share /run have a
// lock each for the same interface name; a run killed mid-change in one
// is recovered from in that namespace only, and a record left by a
// namespace that is gone (its inode number reused) is dropped as stale.
func TestLockPerNamespace(t *testing.T) {
	dir := t.TempDir()
	a, b := NetNS{Inode: 4026531001, Cookie: 7}, NetNS{Inode: 4026531002, Cookie: 8}
	la, err := acquire(dir, "wg0", "up", a)
	if err != nil {
		t.Fatal(err)
	}
	// B's wg0 is not busy while A holds its own.
	lb, err := acquire(dir, "wg0", "up", b)
	if err != nil {
		t.Fatalf("B's lock while A holds its own: %v", err)
	}
	if la.path == lb.path {
		t.Fatalf("one lock file for both namespaces: %s", la.path)
	}
	if err := la.Changing("up"); err != nil {
		t.Fatal(err)
	}
	la.f.Close() // A killed mid-change
	lb.Release()
	// B sees nothing to recover.
	lb, err = acquire(dir, "wg0", "down", b)
	if err != nil || lb.Recovered != "" || lb.Stale != "" {
		t.Fatalf("B after A's crash: %v, recovered %q, stale %q", err, lb.Recovered, lb.Stale)
	}
	lb.Release()
	// A new namespace with A's inode number (A is gone) drops the record.
	reused := NetNS{Inode: a.Inode, Cookie: 9}
	lc, err := acquire(dir, "wg0", "up", reused)
	if err != nil || lc.Recovered != "" || !strings.HasPrefix(lc.Stale, "up ") {
		t.Fatalf("reused inode: %v, recovered %q, stale %q", err, lc.Recovered, lc.Stale)
	}
	lc.Release()
	// A itself (same cookie) recovers: make the record again and read it.
	la, _ = acquire(dir, "wg0", "up", a)
	la.Changing("up")
	la.f.Close()
	la2, err := acquire(dir, "wg0", "up", a)
	if err != nil || !strings.HasPrefix(la2.Recovered, "up ") {
		t.Fatalf("A after its crash: %v, recovered %q", err, la2.Recovered)
	}
	la2.Release()
}

// TestCurrentNetNS names this thread's namespace.
func TestCurrentNetNS(t *testing.T) {
	ns, err := CurrentNetNS()
	if err != nil {
		t.Fatal(err)
	}
	var st os.FileInfo
	if st, err = os.Stat("/proc/thread-self/ns/net"); err != nil {
		t.Fatal(err)
	}
	_ = st
	if ns.Inode == 0 {
		t.Fatal("no inode number")
	}
	if !ns.Same(ns) || ns.Same(NetNS{Inode: ns.Inode + 1}) {
		t.Fatal("Same")
	}
}
