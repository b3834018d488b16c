// Package quick is wg-quick's engine: it finds and reads a configuration the
// way linux.bash's parse_options does, builds the plan of steps for up and
// down (each step printing its "[#] ..." line, doing its work through
// netlink, wgctrl or the firewall package, and knowing its undo), runs
// plans with rollback, runs hooks, sets DNS through resolvconf, and saves
// configurations atomically.
package quick
