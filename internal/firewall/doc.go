// Package firewall installs and removes the protection rules wg-quick(8)
// adds for a full tunnel (an allowed IP of /0 with Table unset or auto),
// and manages the net.ipv4.conf.all.src_valid_mark sysctl that goes with
// them. It is internal to wgtools.
//
// # Rules
//
// For one address family and interface IFACE the rules are those of the
// reference's add_default: an anti-spoofing drop, in the raw-priority
// prerouting hook, of packets addressed to each address of IFACE that did
// not arrive on IFACE and whose source is not local; and in the mangle
// hooks, saving the fwmark of outgoing UDP into the conntrack mark and
// restoring it on incoming UDP (so that replies to the tunnel's own
// socket pass rp_filter under src_valid_mark).
//
// # Backends
//
// nftables (the default): table `wg-quick-IFACE` in family ip or ip6 with
// the chains preraw, premangle and postmangle, sent over netlink
// (github.com/google/nftables) in one transaction. The expressions are the
// ones nft(8) 1.0.6 generates for the reference's `nft -f` payload, so
// `nft list ruleset` (and `nft --debug=netlink list ruleset`) cannot tell
// the two apart. An existing table of the same name and family (left
// behind by a crash) is replaced in the same transaction instead of being
// appended to, as the reference would.
//
// iptables: the reference's fallback, through github.com/coreos/go-iptables
// (which runs iptables/ip6tables, the one external program this package
// runs): rules in the raw and mangle tables carrying the marker
// `-m comment --comment "wg-quick(8) rule for IFACE"`, inserted in the
// order the reference's `iptables-restore -n` payload inserts them, so
// `iptables-save` shows the same. Unlike iptables-restore, the inserts are
// separate commands: a failure part way deletes the ones already made.
//
// # Choosing the backend
//
// The reference uses nft when the nft program is in PATH. We have no
// program dependency, so Auto asks the kernel: a netlink dump of the
// nf_tables tables in the target namespace. It succeeds: nftables. It fails
// because the kernel has no nfnetlink or no nf_tables (EPROTONOSUPPORT,
// EAFNOSUPPORT, EOPNOTSUPP, ENOENT, EINVAL): iptables. Any other failure
// (EPERM without CAP_NET_ADMIN, ...) is reported, not papered over. As in
// the reference there is no fallback once a backend is chosen: a failing
// nftables install is an error. Callers may force a backend; wg-quick
// reads it from the environment variable named by EnvBackend
// (WG_QUICK_FIREWALL=nftables|iptables|auto), parsed by ParseBackend.
//
// # Removal
//
// Remove finds everything by name and marker, never from memory of the
// install, so it works from a separate `down` process and when the
// interface is already gone: every nf_tables table named wg-quick-IFACE in
// any family, and every iptables/ip6tables rule in raw and mangle whose
// comment is the marker for IFACE, whichever backend installed them.
// iptables is consulted only where iptables tables exist at all (the
// x_tables names in /proc/thread-self/net, or the nf_tables tables raw and
// mangle that iptables-nft makes), so removal spawns nothing on a host
// that never used iptables.
//
// # Trace lines
//
// Every change is an Op whose String is the command the reference prints
// after "[#] " for it: "nft -f /dev/fd/63", "iptables-restore -n",
// "ip6tables-restore -n", "sysctl -q net.ipv4.conf.all.src_valid_mark=1".
// Op.Payload is the text the reference would have fed to that command.
//
// # Namespaces
//
// Options.NetNS is an open file descriptor of a network namespace (a file
// under /run/netns or /proc/PID/ns/net); 0 means the caller's own. nftables
// talks to that namespace over netlink; iptables and the sysctl are run on
// an OS thread that has joined it.
package firewall
