package userspace

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// keptCaps are the capabilities the daemon keeps once its TUN and UAPI
// descriptors are open: what wireguard-go does with them for as long as
// the device runs.
//   - CAP_NET_ADMIN: the fwmark of its UDP sockets (SO_MARK), their
//     buffers beyond net.core.[rw]mem_max (SO_RCVBUFFORCE, SO_SNDBUFFORCE:
//     without them, less throughput), both set again each time the
//     listen port or the fwmark changes.
//   - CAP_NET_BIND_SERVICE: a listen port below 1024 (below
//     net.ipv4.ip_unprivileged_port_start).
//
// Nothing else: the TUN interface, its offloads and MTU are set up before
// the drop, the UAPI socket is listening, and the netlink listeners (the
// interface's events, the routes for sticky source addresses) need no
// capability. CAP_NET_RAW is not kept: SO_MARK takes CAP_NET_ADMIN, and
// wireguard-go opens no raw socket.
var keptCaps = []uintptr{unix.CAP_NET_ADMIN, unix.CAP_NET_BIND_SERVICE}

// errCgo is confine's error in a binary linked with cgo, where Go cannot
// change every thread's credentials (syscall.AllThreadsSyscall).
var errCgo = errors.New("this wg-quick was built with cgo, where Go cannot change the credentials of every thread (build it with CGO_ENABLED=0, as make does)")

// confine drops every capability but keptCaps from every set of every
// thread of the process (effective, permitted, inheritable, bounding,
// ambient) and sets no_new_privs, so that nothing the daemon runs later
// could gain one back. Capabilities are per thread and a Go program has
// several, so every change is made on all of them at once
// (syscall.AllThreadsSyscall); threads made later inherit them. What could
// not be done is returned; what could is done all the same.
func confine() error {
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
		if errors.Is(err, errCgo) {
			return err
		}
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	var errs []error
	// EINVAL: a kernel before 4.3 has no ambient set.
	if err := allThreads(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); err != nil && !errors.Is(err, unix.EINVAL) {
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
		if err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0); err != nil {
			failed = append(failed, strconv.Itoa(int(c)))
			bndErr = err
		}
	}
	if bndErr != nil {
		errs = append(errs, fmt.Errorf("dropping capabilities %s from the bounding set: %w", strings.Join(failed, ", "), bndErr))
	}
	// Effective and permitted: what is kept, of what the process has;
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
	hdr.Pid = 0 // each thread itself
	err := allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(&hdr)
	runtime.KeepAlive(&data)
	if err != nil {
		errs = append(errs, fmt.Errorf("setting the capabilities: %w", err))
	}
	return errors.Join(errs...)
}

// allThreads makes a system call on every thread of the process; it fails
// with errCgo in a binary linked with cgo.
func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, e := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	switch e {
	case 0:
		return nil
	case syscall.ENOTSUP:
		return errCgo
	}
	return e
}
