package userspace

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// settleDelay is how long after the last configuration request the daemon
// tidies its memory (see governor.settle).
const settleDelay = 500 * time.Millisecond

// offHeadroom bounds the heap's growth while the collector is off for
// configuring: past it, the runtime collects anyway (a memory limit).
const offHeadroom = 512 << 20

// governor keeps the daemon's memory in line with its configuration.
// Configuring is done with the collector off: each wireguard-go peer holds
// about 17 KB of queues that stay live, and adding thousands grows the
// heap by tens of megabytes, over which the collector would otherwise run
// again and again while the request is applied (a sixth of the daemon's
// time for 5000 peers). It stays off until configuration settles (no
// request for settleDelay), so that it does not run either while the
// configuring program reads the device back (wg-quick up does, twice in
// the reference's steps); offHeadroom bounds the heap meanwhile. Once
// settled, the collector is back on, the memory the requests freed is
// returned to the system, and the parts of the binary only wg-quick uses
// are dropped from the page tables (trimText). A GOGC the user set is left
// as it is, and a lower GOMEMLIMIT is kept.
//
// There is deliberately no memory limit otherwise: under load nearly all
// of the daemon's memory is packet buffers in flight (64 KiB each,
// whatever the packet's size), which a collector cannot free; a limit
// below them makes it run without end (measured: a quarter of the
// throughput lost).
type governor struct {
	userGC bool

	mu      sync.Mutex
	off     bool // the collector is off until settled
	percent int
	limit   int64
	timer   *time.Timer
}

func newGovernor(lookupEnv func(string) (string, bool)) *governor {
	_, gc := lookupEnv("GOGC")
	return &governor{userGC: gc}
}

// configuring turns the collector off for a configuration request (if it
// is not off already) and returns the function to call once the request
// is applied, which schedules the settling.
func (g *governor) configuring() (applied func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.userGC && !g.off {
		g.off = true
		g.percent = debug.SetGCPercent(-1)
		g.limit = debug.SetMemoryLimit(-1) // reads it
		debug.SetMemoryLimit(min(g.limit, runtimeMemory()+offHeadroom))
	}
	return g.touch
}

// touch (re)starts the wait before settling.
func (g *governor) touch() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer == nil {
		g.timer = time.AfterFunc(settleDelay, g.settle)
		return
	}
	g.timer.Reset(settleDelay)
}

func (g *governor) settle() {
	g.mu.Lock()
	if g.off {
		g.off = false
		debug.SetGCPercent(g.percent)
		debug.SetMemoryLimit(g.limit)
	}
	g.mu.Unlock()
	debug.FreeOSMemory()
	trimText()
}

// runtimeMemory is the memory the Go runtime holds from the system (what
// a memory limit counts).
func runtimeMemory() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}
