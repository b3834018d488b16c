package osys

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// WithSignals returns a context that SIGINT, SIGTERM or SIGHUP cancel (its
// cause names the signal), as the reference's `trap ... INT TERM`: a plan
// stops before its next step and rolls back. The signals stay caught until
// stop is called, so a second one does not cut a rollback short. SIGPIPE is
// caught too, so that a closed stdout or stderr makes writes fail instead
// of killing wg-quick half-way.
func WithSignals(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				if s == syscall.SIGPIPE {
					continue
				}
				n := int(s.(syscall.Signal))
				cancel(SignalError{Name: sigName(s.(syscall.Signal)), Num: n})
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// SignalError is the cause WithSignals gives the context when a signal
// stops a run.
type SignalError struct {
	Name string // "SIGTERM"
	Num  int
}

func (s SignalError) Error() string { return "interrupted by " + s.Name }
