package userspace

import (
	"errors"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Stopper waits for a userspace device's daemon to go away after its
// interface is deleted, so that nothing of it (process, socket) is left
// when `wg-quick down` returns.
type Stopper struct {
	path  string
	pidfd int // -1 when the daemon is unknown
}

// Watch notes the daemon serving the UAPI socket of name (any userspace
// implementation: the socket's peer credentials name it). Call it before
// deleting the interface. A nil Stopper (no daemon found) waits for nothing.
func Watch(name string) *Stopper {
	path := SocketPath(name)
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return nil
	}
	var cred *unix.Ucred
	var credErr error
	raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if credErr != nil || cred == nil || cred.Pid <= 0 || int(cred.Pid) == os.Getpid() {
		return nil
	}
	pidfd, err := unix.PidfdOpen(int(cred.Pid), 0)
	if err != nil {
		return nil
	}
	return &Stopper{path: path, pidfd: pidfd}
}

// Wait waits up to timeout for the daemon to exit. If it is still running
// halfway, its socket is removed, which a wireguard-go daemon takes as the
// order to stop. It reports whether the daemon is gone.
func (s *Stopper) Wait(timeout time.Duration) bool {
	if s == nil {
		return true
	}
	defer unix.Close(s.pidfd)
	if s.exited(timeout / 2) {
		return true
	}
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false
	}
	return s.exited(timeout / 2)
}

// exited polls the pidfd, which becomes readable when the process exits.
func (s *Stopper) exited(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms < 0 {
			ms = 0
		}
		fds := []unix.PollFd{{Fd: int32(s.pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err == nil && n > 0 {
			return true
		}
		if err != nil && !errors.Is(err, unix.EINTR) || ms == 0 {
			return false
		}
	}
}
