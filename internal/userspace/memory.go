package userspace

import (
	"runtime/debug"
	"sync"
	"time"
)

// settleDelay is how long after the last configuration request the daemon
// tidies its memory (see governor.settle).
const settleDelay = 500 * time.Millisecond

// governor keeps the daemon's memory in line with its configuration.
// Configuring is done with the collector off: each wireguard-go peer holds
// about 17 KB of queues that stay live, and adding thousands grows the
// heap by tens of megabytes, over which the collector would otherwise run
// again and again while the request is applied (a sixth of the daemon's
// time for 5000 peers). Once configuration settles, the memory the
// request freed is returned to the system, and the parts of the binary
// only wg-quick uses are dropped from the page tables (trimText). A GOGC
// the user set is left as it is.
//
// There is deliberately no memory limit: under load nearly all of the
// daemon's memory is packet buffers in flight (64 KiB each, whatever the
// packet's size), which a collector cannot free; a limit below them makes
// it run without end (measured: a quarter of the throughput lost).
type governor struct {
	userGC bool

	mu    sync.Mutex
	timer *time.Timer
}

func newGovernor(lookupEnv func(string) (string, bool)) *governor {
	_, gc := lookupEnv("GOGC")
	return &governor{userGC: gc}
}

// configuring turns the collector off for a configuration request; the
// returned function turns it back on and schedules the settling.
func (g *governor) configuring() (done func()) {
	if g.userGC {
		return g.touch
	}
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		g.touch()
	}
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
	debug.FreeOSMemory()
	trimText()
}
