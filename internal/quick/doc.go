// Package quick is wg-quick's engine: ordering logic only. It is internal
// to wgtools.
//
// Load finds and reads a configuration the way linux.bash's parse_options
// does (down and save read only wg-quick's keys). Up, Down, Save and Reload
// carry out the verbs on a Sys, the machine as they see it: its network
// namespace (Net, netlinkx in production), its WireGuard devices (Devices,
// wgdev), the userspace device (Userspace), programs (Exec), files, the
// full tunnel's firewall and sysctl (Firewall), DNS (resolvconf unless
// Sys.DNS says otherwise). cmd/wg-quick wires the real machine (with
// internal/osys); the tests use an in-memory one.
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
// A per-interface lock (osys.Lock, one per network namespace) lets one run
// at a time change an interface and lets the next run clean up after one
// that was killed half-way.
package quick
