// Package quick is wg-quick's engine: ordering logic only. It is internal
// to wgtools.
//
// Load finds and reads a configuration the way linux.bash's parse_options
// does (down and save read only wg-quick's keys). Up, Down, Save and Reload
// carry out the verbs on a Sys, the machine as they see it: its network
// namespace (Net, netlinkx in production), its WireGuard devices (Devices,
// wgdev), the userspace device (Userspace), programs (Exec), files, the
// full tunnel's firewall and sysctl (Firewall), DNS (Sys.DNS: on the real
// machine HostDNS, the manager internal/dns's Detect finds; resolvconf
// when nil). cmd/wg-quick wires the real machine (with internal/osys); the
// tests use an in-memory one. Reresolve looks up stale peers'
// endpoints again (internal/reresolve) with the same runner.
//
// Every change is an Op: a value that prints as the reference's "[#] ..."
// line and makes the change. A Step is an Op with its undo and rollback
// rank; a Phase plans steps from a View of the machine; one runner runs
// the phases of a verb (reading the machine afresh for each), rolls back,
// and, for a dry run, prints the plan from a simulating View instead
// (DryRun; PlanReload for doctor). Down, rollback, crash recovery and the
// clean-up after an interface that vanished are steps run by that runner.
// docs/wg-quick-plan.md describes the shapes, the phases and the plan's
// JSON.
//
// A /0 allowed IP with Table unset or auto is a full tunnel
// (fulltunnel.go): the reference's add_default, with the guard rules and
// src_valid_mark of the Firewall. Its rollback deletes the policy rules it
// added, no others; down deletes the table's rules and the suppress rules
// but one another full tunnel still needs.
//
// What the host cannot do is found before any change, as part of
// planning (canUp, canReload): a DNS manager when the file names DNS
// servers (internal/dns: a real resolvconf, run as the reference runs it;
// else systemd-resolved over D-Bus, a second DNS backend whose Ops print
// as resolvectl commands; else a refusal), and IPv6 (internal/ipv6: where
// it is off, the phases skip the file's IPv6 addresses and routes, reading
// it from their View, up warns once, and an IPv6-only file is refused).
// Save merges the state into the file (conf.MergeSaved).
//
// A per-interface lock (osys.Lock, one per network namespace) lets one run
// at a time change an interface and lets the next run clean up after one
// that was killed half-way.
package quick
