package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeUAPI is a deterministic userspace-device daemon, the Go twin of the
// capture's fake-uapi.py: it listens on a UAPI socket, answers "get" with a
// canned reply whose {now}, {now-N} and {now+N} are replaced by epoch
// seconds, records every "set" request verbatim, and answers it with a
// fixed errno.
type fakeUAPI struct {
	ln    *net.UnixListener
	get   string
	errno int
	// clock, when set, is the daemon's "now" (for tests whose wg reads
	// the same clock); otherwise it is the real time.
	clock func() time.Time

	mu      sync.Mutex
	sets    bytes.Buffer
	renders []time.Time // when each get reply was rendered
	done    chan struct{}
}

// startFakeUAPI listens at path (as the test process sees it) until the
// test ends; clock is its "now" (nil: the real time).
func startFakeUAPI(t testing.TB, path, getTemplate string, errno int, clock func() time.Time) *fakeUAPI {
	t.Helper()
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatalf("fake daemon at %s: %v", path, err)
	}
	f := &fakeUAPI{ln: ln, get: getTemplate, errno: errno, clock: clock, done: make(chan struct{})}
	go f.serve()
	t.Cleanup(func() {
		ln.Close()
		<-f.done
	})
	return f
}

func (f *fakeUAPI) serve() {
	defer close(f.done)
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.handle(c)
	}
}

var nowPlaceholder = regexp.MustCompile(`\{now(?:([+-])(\d+))?\}`)

// render fills in the template at a moment early in a second, so that the
// wg reading the reply almost always counts from the same second; takeSet
// reports when a reply was rendered, for the rare case it did not.
func (f *fakeUAPI) render() string {
	var now time.Time
	if f.clock != nil {
		now = f.clock()
	} else {
		if ns := time.Now().Nanosecond(); ns > 500_000_000 {
			time.Sleep(time.Duration(1_000_000_000-ns) + 2*time.Millisecond)
		}
		now = time.Now()
	}
	f.mu.Lock()
	f.renders = append(f.renders, now)
	f.mu.Unlock()
	sec := now.Unix()
	return nowPlaceholder.ReplaceAllStringFunc(f.get, func(m string) string {
		sub := nowPlaceholder.FindStringSubmatch(m)
		if sub[1] == "" {
			return strconv.FormatInt(sec, 10)
		}
		n, _ := strconv.ParseInt(sub[2], 10, 64)
		if sub[1] == "-" {
			return strconv.FormatInt(sec-n, 10)
		}
		return strconv.FormatInt(sec+n, 10)
	})
}

func (f *fakeUAPI) handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	first, err := r.ReadString('\n')
	if err != nil {
		return // a liveness probe: connect and close
	}
	switch first {
	case "get=1\n":
		r.ReadString('\n')
		fmt.Fprintf(c, "%serrno=0\n\n", f.render())
	case "set=1\n":
		req := []byte(first)
		for {
			l, err := r.ReadString('\n')
			req = append(req, l...)
			if l == "\n" || err != nil {
				break
			}
		}
		f.mu.Lock()
		f.sets.Write(req)
		f.mu.Unlock()
		fmt.Fprintf(c, "errno=%d\n\n", f.errno)
	}
}

// takeSets returns the set requests recorded since the last call, and the
// moments get replies were rendered.
func (f *fakeUAPI) take() (sets string, renders []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sets = f.sets.String()
	f.sets.Reset()
	renders, f.renders = f.renders, nil
	return sets, renders
}
