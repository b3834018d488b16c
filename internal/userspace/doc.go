// Package userspace is wg-quick's embedded userspace WireGuard device:
// wireguard-go (golang.zx2c4.com/wireguard) as a library, run as a detached
// daemon of the wg-quick binary itself. It is internal to wgtools.
//
// Start (in wg-quick) creates the TUN interface and the UAPI socket
// /var/run/wireguard/IFACE.sock, then re-executes the binary with the
// reserved first argument DaemonArg, handing both over as inherited file
// descriptors, and returns once the daemon says it serves. Creating both
// before the re-execution means the socket exists when Start returns, so the
// next step (the device configuration) never races the daemon. DaemonMain is
// the daemon: it runs the device until the TUN interface is deleted, its
// socket is removed, or it receives SIGTERM/SIGINT, and then removes its
// socket. Nothing of it stays behind once the interface is deleted; Stopper
// lets `wg-quick down` wait for that.
//
// The daemon holds only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, with
// no_new_privs, on every thread from its start: Start drops the rest on
// the thread it starts the daemon from (see keptCaps, confineThread). It
// leads a process group of its own but stays in its caller's session (a
// session of its own would be a scheduler autogroup of its own, which
// slows the tunnel: docs/performance.md).
//
// The daemon answers the UAPI protocol itself in front of wireguard-go so
// that `get` lists peers in the order they were added, as the kernel
// module does (wireguard-go keeps them in a map, so its own order is
// random from one call to the next).
//
// The TUN interface is created with IPv6 address generation turned off, so
// it has no link-local address, like the kernel's WireGuard interfaces; the
// Linux offloads wireguard-go supports (TUN TSO/USO with GRO, UDP GSO/GRO)
// are on.
package userspace
