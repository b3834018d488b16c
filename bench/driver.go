package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

// driver runs sections and collects their rows.
type driver struct {
	o      *Options
	rows   []Row
	notes  []string
	failed int

	mu      sync.Mutex
	current *Section
	sigs    chan os.Signal
	// interrupted, when set, writes the table of the rows so far; the
	// signal handler calls it after the hosts are removed.
	interrupted func()
}

func newDriver(o *Options) *driver {
	d := &driver{o: o, sigs: make(chan os.Signal, 1)}
	signal.Notify(d.sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig, ok := <-d.sigs
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "\nbench: %v: removing the hosts and stopping what they run\n", sig)
		d.mu.Lock()
		s := d.current
		d.mu.Unlock()
		if s != nil {
			s.cleanup()
		}
		d.mu.Lock()
		if d.interrupted != nil {
			d.interrupted()
		}
		d.mu.Unlock()
		os.Exit(130)
	}()
	return d
}

func (d *driver) stopSignals() {
	signal.Stop(d.sigs)
	close(d.sigs)
}

// section runs one section; its hosts and processes are removed when it
// ends, whether it ends well or not.
func (d *driver) section(name string, f func(*Section)) {
	s := &Section{Name: name, d: d, o: d.o}
	d.mu.Lock()
	d.current = s
	d.mu.Unlock()
	start := time.Now()
	logf("== %s", name)
	defer func() {
		p := recover()
		s.cleanup()
		d.mu.Lock()
		d.current = nil
		d.mu.Unlock()
		switch p := p.(type) {
		case nil:
		case skipped:
			d.notes = append(d.notes, fmt.Sprintf("%s: skipped: %s", name, string(p)))
			logf("   skipped: %s", string(p))
		case failure:
			d.failed++
			d.notes = append(d.notes, fmt.Sprintf("%s: FAILED: %s", name, string(p)))
			logf("   FAILED: %s", string(p))
		default:
			d.failed++
			d.notes = append(d.notes, fmt.Sprintf("%s: FAILED: %v", name, p))
			logf("   FAILED: %v\n%s", p, debug.Stack())
		}
		logf("   (%s)", time.Since(start).Round(time.Second))
	}()
	f(s)
}

// Section is one part of the benchmark. It is the testnet.TB of the hosts
// it makes: Fatal ends the section (its rows so far are kept), Cleanup
// runs when it ends.
type Section struct {
	Name     string
	d        *driver
	o        *Options
	mu       sync.Mutex
	cleanups []func()
}

var _ testnet.TB = (*Section)(nil)

type failure string
type skipped string

func (s *Section) Helper() {}
func (s *Section) Fatal(args ...any) {
	panic(failure(fmt.Sprint(args...)))
}
func (s *Section) Fatalf(format string, args ...any) {
	panic(failure(fmt.Sprintf(format, args...)))
}
func (s *Section) Errorf(format string, args ...any) {
	logf("   error: "+format, args...)
}
func (s *Section) Skip(args ...any) { panic(skipped(fmt.Sprint(args...))) }
func (s *Section) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// cleanup runs the cleanups, newest first, once.
func (s *Section) cleanup() {
	s.mu.Lock()
	list := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if p := recover(); p != nil {
					logf("   cleanup: %v", p)
				}
			}()
			list[i]()
		}()
	}
}

// Add adds a row to the table.
func (s *Section) Add(r Row) {
	s.d.mu.Lock()
	s.d.rows = append(s.d.rows, r)
	s.d.mu.Unlock()
	logf("   %s", r.progress())
}

// Note adds a line under the table.
func (s *Section) Note(format string, a ...any) {
	n := fmt.Sprintf(format, a...)
	s.d.mu.Lock()
	s.d.notes = append(s.d.notes, n)
	s.d.mu.Unlock()
	logf("   note: %s", n)
}

// Host makes a test host (network and mount namespaces) for the section.
func (s *Section) Host(prefix string) *testnet.Host {
	return testnet.NewHost(s, prefix)
}

// logf prints progress on stderr (the table goes to stdout).
func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
}
