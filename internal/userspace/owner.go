package userspace

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// SocketOwner reports the process serving the UAPI socket of name, if a
// live one does: /var/run/wireguard is shared by every network namespace
// that shares /run (as `ip netns exec` makes them), so the socket of one
// namespace's userspace wg0 stands in the way of another's.
func SocketOwner(name string) (pid int, ok bool) {
	c, err := net.DialTimeout("unix", SocketPath(name), time.Second)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0, true
	}
	raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			pid = int(cred.Pid)
		}
	})
	return pid, true
}
