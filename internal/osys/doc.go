// Package osys is the operating system as wg-quick touches it outside
// netlink and the WireGuard devices: the programs it starts (hooks,
// resolvconf, a userspace implementation) and their process trees, the
// per-interface lock and crash record under /run, the signals that stop a
// run, atomic file writes, the files it reads (/proc, /sys, /etc) and the
// identity of the network namespace. It is internal to wgtools.
//
// It holds no ordering logic: internal/quick decides what to do and in
// which order, through interfaces of its own that this package's types
// satisfy; cmd/wg-quick wires them together.
package osys
