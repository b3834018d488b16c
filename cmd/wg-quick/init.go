package main

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// stayAsInit is what `up` does after its work when wg-quick is PID 1, as in
// `docker run ... wg-quick up wg0.conf`: when a PID namespace's init exits,
// the kernel kills every other process in it, the embedded device's daemon
// included, and the container's network namespace goes with it. So it stays
// in the foreground, reaping orphans as an init must, until SIGTERM
// (`docker stop`), SIGINT or SIGHUP, and then takes the interface down and
// exits with down's status. (A PID 1 ignores signals it does not catch.)
func stayAsInit(e *env, arg string, sigs chan os.Signal) int {
	e.warn("[!] wg-quick is PID 1 (a container's init): staying in the foreground; SIGTERM takes the interface down.")
	for s := range sigs {
		if s == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		break
	}
	signal.Stop(sigs)
	reapChildren()
	return downMain(e, arg)
}

// initSignals starts catching the signals stayAsInit waits for. It is
// called before `up` starts, so that a SIGTERM that comes while `up` runs
// (which up's own handler turns into a rollback) is not lost to a PID 1's
// default of ignoring it.
func initSignals() chan os.Signal {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGCHLD)
	return sigs
}

// reapChildren collects every child that has exited (the daemon's own
// children are not ours; orphans re-parented to PID 1 are).
func reapChildren() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
