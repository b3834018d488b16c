// Package wgdev reads and changes WireGuard devices of both kinds, chosen
// the way wg(8) chooses: a userspace device's UAPI socket in
// /var/run/wireguard wins when it exists and answers, otherwise the kernel's
// generic netlink family "wireguard" is asked. Listing gives the kernel's
// devices (in ifindex order) then the userspace sockets (in directory
// order). Errors wrap the errno the reference would report, so callers can
// print it with conf.Strerror.
//
// The kernel side speaks generic netlink itself (through mdlayher/genetlink)
// rather than through wgctrl: wgctrl folds ENODEV and EOPNOTSUPP into one
// error, drops IPv6 scope ids, sends IPv4-mapped endpoints as IPv4, and
// cannot remove single allowed IPs, all of which wg(8) users can see.
package wgdev
