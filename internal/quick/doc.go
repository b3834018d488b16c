// Package quick is wg-quick's engine. It is internal to wgtools.
//
// Load finds and reads a configuration the way linux.bash's parse_options
// does. Up, Down and Save carry out the verbs on a Sys, the machine as they
// see it: its network namespace (Net, netlinkx in production), its
// WireGuard devices (Devices, wgdev), the userspace device (Userspace), the
// programs it runs (Exec: hooks, resolvconf) and a few files. NewOSSys
// wires the real machine; the tests use an in-memory one.
//
// Up is a plan: phases in the order of the reference's cmd_up (add_if,
// PreUp, set_config, addresses, MTU, DNS, routes, PostUp), each building
// its Steps from what the earlier ones made (the device's allowed IPs, the
// routes already on the interface). A Step has the "[#] ..." line the
// reference prints for it, what makes the change, and how to undo it. A
// failure or a signal rolls back in the order of the reference's del_if.
// Down and Save read what to remove or write from the system.
//
// A /0 allowed IP with Table unset or auto is a full tunnel (fulltunnel.go):
// the reference's add_default, with the guard rules and src_valid_mark of
// the Firewall (internal/firewall on the real machine). Its rollback
// deletes the policy rules it added, no others; down deletes the table's
// rules and the suppress rules but one another full tunnel still needs,
// and cleans up after an interface that vanished.
//
// Before any change, up checks what the host must offer (planUp): a DNS
// manager when the file names DNS servers (internal/dns: a real
// resolvconf, run as the reference runs it, else systemd-resolved over
// D-Bus, else a failure), and IPv6 (internal/ipv6: where it is off, the
// file's IPv6 addresses and routes are skipped with one warning, and an
// IPv6-only file is refused). Save merges the state into the file
// (conf.MergeSaved). Reresolve looks up stale peers' endpoints again
// (internal/reresolve).
//
// A per-interface lock (Lock) lets one run at a time change an interface
// and lets the next run clean up after one that was killed half-way.
package quick
