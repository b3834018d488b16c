// Package doctor finds out why a wg-quick tunnel does not carry traffic:
// `wg-quick doctor CONFIG|IFACE`. It is internal to wgtools.
//
// It reads the configuration file and the system, changes nothing, and
// reports each problem as a Finding: the check that found it, the evidence
// it saw, and the exact fix (a command to run, or a line for a file).
//
// The work is split in two. Read (read.go, Linux) takes a State: a
// snapshot of everything the checks look at (the interface, its device,
// addresses, routes, rules, the kernel's answers to route lookups, sysctls,
// the firewall's forward and NAT chains reduced to the Firewall model, DNS,
// and what a bounded watch of the interface saw). Diagnose is the pure
// core: it runs the Checks over a State and returns the Findings, so every
// check is tested without root from a State written by hand.
//
// Read never changes the system: netlink dumps and route lookups, files
// under /proc/sys, a netlink dump of nf_tables, `iptables -S` only where
// legacy iptables tables exist, `resolvconf -l` or systemd-resolved's link
// properties over D-Bus (whichever up would use) only when the file has DNS,
// and a packet socket (AF_PACKET) for the watch, closed when it ends.
package doctor
