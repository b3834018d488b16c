// Package dns sets an interface's DNS servers and search domains for
// wg-quick, through whichever DNS manager the host has. It is internal to
// wgtools.
//
// Detect decides, as a pure function of what it is shown, between a real
// resolvconf (openresolv, Debian's resolvconf, or any resolvconf program
// that is not systemd's compatibility link to resolvectl), which wg-quick
// runs exactly as the reference does (ResolvconfName, ResolvconfInput,
// ParseListed), systemd-resolved over D-Bus (the Ops below, through a
// Resolve1 such as *Bus), or nothing usable, with the reason.
//
// Each change to systemd-resolved is an Op value whose String is the
// resolvectl command that does the same, so that the "[#] ..." line wg-quick
// prints can be replayed by hand.
//
// It knows nothing of wg-quick's configuration files, its steps or its
// rollback: the caller says what to set and when to undo it.
package dns
