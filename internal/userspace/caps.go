package userspace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// keptCaps are the capabilities the daemon keeps: what wireguard-go does
// with them for as long as the device runs.
//   - CAP_NET_ADMIN: the fwmark of its UDP sockets (SO_MARK), their
//     buffers beyond net.core.[rw]mem_max (SO_RCVBUFFORCE, SO_SNDBUFFORCE:
//     without them, less throughput), both set again each time the
//     listen port or the fwmark changes; the TUN interface's MTU, set as
//     the daemon takes the interface over.
//   - CAP_NET_BIND_SERVICE: a listen port below 1024 (below
//     net.ipv4.ip_unprivileged_port_start).
//
// Nothing else: the TUN interface and the UAPI socket are opened before
// the daemon starts, and the netlink listeners (the interface's events,
// the routes for sticky source addresses) need no capability. CAP_NET_RAW
// is not kept: SO_MARK takes CAP_NET_ADMIN, and wireguard-go opens no raw
// socket.
var keptCaps = []uintptr{unix.CAP_NET_ADMIN, unix.CAP_NET_BIND_SERVICE}

// confineThread drops every capability but keptCaps from every set of the
// calling thread (effective, permitted, inheritable, bounding, ambient)
// and sets its no_new_privs. Capabilities belong to threads, not to
// processes: the caller locks its goroutine to the thread, starts the
// daemon from it, and lets the thread end with the goroutine. The daemon
// inherits the thread's sets, and its own threads inherit them from its
// first: every thread of it has them from its start, with no change to
// make on each (syscall.AllThreadsSyscall, a stop of the world and a
// signal to every thread for each of the 40 changes, measured at 5-50 ms
// on a loaded machine, and not possible with cgo). As root, the daemon's
// execve gives it its bounding set as permitted and effective set: what
// is kept. What could not be done is returned; what could is done all the
// same.
func confineThread() error {
	var errs []error
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		errs = append(errs, fmt.Errorf("setting no_new_privs: %w", err))
	}
	// EINVAL: a kernel before 4.3 has no ambient set.
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		errs = append(errs, fmt.Errorf("clearing the ambient capabilities: %w", err))
	}
	// The bounding set, one capability at a time, up to the last the
	// kernel knows (PR_CAPBSET_READ fails past it). Dropping needs
	// CAP_SETPCAP in the effective set, which stays there until the
	// capset below.
	keep := uint64(0)
	for _, c := range keptCaps {
		keep |= 1 << c
	}
	var failed []string
	var bndErr error
	for c := uintptr(0); c < 64; c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, c, 0, 0, 0)
		if err != nil {
			break
		}
		if in == 0 || keep&(1<<c) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil {
			failed = append(failed, strconv.Itoa(int(c)))
			bndErr = err
		}
	}
	if bndErr != nil {
		errs = append(errs, fmt.Errorf("dropping capabilities %s from the bounding set: %w", strings.Join(failed, ", "), bndErr))
	}
	// Effective and permitted: what is kept, of what the thread has;
	// inheritable: nothing.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return errors.Join(append(errs, fmt.Errorf("reading the capabilities: %w", err))...)
	}
	for i := range data {
		data[i].Permitted &= uint32(keep >> (32 * i))
		data[i].Effective = data[i].Permitted
		data[i].Inheritable = 0
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		errs = append(errs, fmt.Errorf("setting the capabilities: %w", err))
	}
	return errors.Join(errs...)
}
