// Package netlinkx changes and reads the current network namespace's links,
// addresses, routes and policy rules through rtnetlink
// (github.com/vishvananda/netlink), for wg-quick. It is internal to wgtools.
//
// Every change is an Op: a value that names what it changes and renders as
// the iproute2 command line that would do the same (`ip -4 address add
// 10.0.0.1/24 dev wg0`), which is the line wg-quick prints before doing it.
// Handle.Apply carries an Op out. A failure is an *Error whose text is what
// iproute2 prints for it (`RTNETLINK answers: File exists`, or the kernel's
// own message as `Error: Unknown device type.`) and whose ExitCode is ip's.
//
// Handle.ApplyBatch carries out many Ops, sending route additions to the
// kernel in batches on one socket, and RouteGetAll looks up many routes
// the same way. Both are correct whatever the socket buffers: the socket
// asks for acknowledgements without the echoed request, its buffers are
// sized for the batch and the batch for its buffers, each send's answers
// are read before the next send, and answers lost to an overrun of the
// receive buffer (ENOBUFS) are settled from the kernel's tables or by
// asking again (socket.go says how).
//
// Reads (links, addresses in `ip -brief` order, route dumps, route lookups,
// rules) retry a dump the kernel reports as interrupted
// (netlink.ErrDumpInterrupted: the table changed while it was read) a few
// times, and fail rather than return a partial answer. A dump cannot
// overrun a socket: the kernel fills the next part only when the reader
// has made room.
package netlinkx
