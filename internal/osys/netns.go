package osys

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// NetNS names a network namespace: the inode number of its nsfs file,
// which is unique among the namespaces that exist (and may be reused once
// one is gone), and its cookie, which is never reused while the system
// runs (0 where the kernel cannot tell it, before Linux 5.14).
type NetNS struct {
	Inode, Cookie uint64
}

// soNetnsCookie is SO_NETNS_COOKIE (Linux 5.14), the same on every Linux
// port of Go.
const soNetnsCookie = 71

// CurrentNetNS is the network namespace of the calling thread.
func CurrentNetNS() (NetNS, error) {
	var id NetNS
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return id, fmt.Errorf("identifying the network namespace: %w", err)
	}
	id.Inode = st.Ino
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return id, nil
	}
	defer unix.Close(fd)
	if c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, soNetnsCookie); err == nil {
		id.Cookie = c
	}
	return id, nil
}

// Same reports whether a and b are one namespace: the same inode, and the
// same cookie where both are known.
func (a NetNS) Same(b NetNS) bool {
	return a.Inode == b.Inode && (a.Cookie == 0 || b.Cookie == 0 || a.Cookie == b.Cookie)
}
