package quick

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestSortNR(t *testing.T) {
	in := []string{"0.0.0.0/0", "10.0.0.2/32", "fd00::2/128", "192.168.1.0/24", "::/0", "10.0.0.0/24", "fd00:1::/48"}
	want := []string{"fd00::2/128", "fd00:1::/48", "10.0.0.2/32", "192.168.1.0/24", "10.0.0.0/24", "::/0", "0.0.0.0/0"}
	sortNR(in)
	if !slices.Equal(in, want) {
		t.Fatalf("got %v, want %v", in, want)
	}
}

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
	if _, err := os.Stat(filepath.Join(dir, "wg0.lock")); !os.IsNotExist(err) {
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
