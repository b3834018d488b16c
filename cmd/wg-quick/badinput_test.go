package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// The bad-input suite (issue 7): every case runs in a fresh test host, and
// must fail with the exact message and status listed, echo no key, and
// leave the host's state (links, addresses, routes of every table, rules,
// nftables and iptables, sysctls, /run/wireguard, processes, DNS records,
// and for wg's cases the running device's configuration) exactly as it
// was. BADINPUT.md lists the cases; it is generated from badCases
// (go test -run TestBadInputTable -update).

// badCase is one bad input.
type badCase struct {
	name string
	what string // the input, for the table
	tool string // "wg-quick" or "wg"
	args []string
	// conf is the file under test: /etc/wireguard/wg0.conf for wg-quick,
	// /run/in/bad.conf for wg. Keys are written as {PRIV}, {PUB},
	// {PEERPUB}, {PSK}, {OTHERPRIV}.
	conf []string
	// files are more files in the host (mode 0600), same placeholders.
	files map[string]string
	setup func(t *testing.T, h *testnet.Host)
	env   []string
	stdin string
	code  int
	// want is the whole of stderr ({NODEV}: the missing-device message,
	// {USAGE}: wg-quick's usage text, {WGUSAGE}: wg's).
	want string
	// secret is a bad key (or other secret) the case hands in, which must
	// not be echoed.
	secret string
}

// The good configuration the wg-quick cases start from, line by line:
// 1 [Interface], 2 PrivateKey, 3 Address, 4 ListenPort, 5 blank, 6 [Peer],
// 7 PublicKey, 8 PresharedKey, 9 AllowedIPs, 10 Endpoint.
var goodLines = []string{
	"[Interface]",
	"PrivateKey = {PRIV}",
	"Address = 10.0.0.1/24",
	"ListenPort = 51820",
	"",
	"[Peer]",
	"PublicKey = {PEERPUB}",
	"PresharedKey = {PSK}",
	"AllowedIPs = 10.0.0.2/32",
	"Endpoint = 192.0.2.2:51820",
}

// line returns the good configuration with line n (1-based) replaced by
// text ("" text and del true: removed).
func line(n int, text string) []string {
	out := append([]string(nil), goodLines...)
	out[n-1] = text
	return out
}

func without(n int) []string {
	out := append([]string(nil), goodLines[:n-1]...)
	return append(out, goodLines[n:]...)
}

// ifaceExtra inserts lines after line 4 (the first is line 5); peerExtra
// appends them after line 10 (the first is line 11).
func ifaceExtra(lines ...string) []string {
	out := append([]string(nil), goodLines[:4]...)
	out = append(out, lines...)
	return append(out, goodLines[4:]...)
}

func peerExtra(lines ...string) []string {
	return append(append([]string(nil), goodLines...), lines...)
}

const confPath = "/etc/wireguard/wg0.conf"

func confErr(n int, msg string) string {
	return fmt.Sprintf("wg-quick: %s:%d: %s\n", confPath, n, msg)
}

// wgConfErr is wg setconf's message for /run/in/bad.conf.
func wgConfErr(n int, msg string) string {
	return fmt.Sprintf("/run/in/bad.conf:%d: %s\nConfiguration parsing error\n", n, msg)
}

const badKeyMsg = "Key is not the correct length or format"

// quickHint is what wg adds when a wg-quick key made the file fail.
func quickHint(key string) string {
	return "`" + key + "' is a wg-quick key: use `wg-quick strip' to remove wg-quick's keys\n"
}

// badName is wg-quick's message for a config file not named NAME.conf
// (the reference's, then the rule), before what is wrong with it.
const badName = "wg-quick: The config file must be a valid interface name, followed by .conf\n" +
	"An interface name is 1 to 15 bytes of letters, digits and `_=+.-': "

func quickCases() []badCase {
	q := func(name, what string, conf []string, code int, want string) badCase {
		return badCase{name: name, what: what, tool: "wg-quick", conf: conf, code: code, want: want}
	}
	withSecret := func(c badCase, s string) badCase { c.secret = s; return c }
	nonCanonical := relPriv[:42] + "9="
	cases := []badCase{
		withSecret(q("private-key-short", "PrivateKey of 43 characters", line(2, "PrivateKey = "+relPriv[:43]), 1, confErr(2, badKeyMsg)), relPriv[:43]),
		withSecret(q("private-key-long", "PrivateKey of 45 characters", line(2, "PrivateKey = A"+relPriv), 1, confErr(2, badKeyMsg)), "A"+relPriv),
		withSecret(q("private-key-alphabet", "PrivateKey with a character outside base64", line(2, "PrivateKey = "+relPriv[:10]+"!"+relPriv[11:]), 1, confErr(2, badKeyMsg)), relPriv[:10]+"!"+relPriv[11:]),
		withSecret(q("private-key-no-padding", "PrivateKey without its final `='", line(2, "PrivateKey = "+relPriv[:43]+"A"), 1, confErr(2, badKeyMsg)), relPriv[:43]+"A"),
		withSecret(q("private-key-noncanonical", "PrivateKey whose last character has bits beyond the 32 bytes", line(2, "PrivateKey = "+nonCanonical), 1, confErr(2, badKeyMsg)), nonCanonical),
		withSecret(q("private-key-hex", "PrivateKey in hex (the UAPI form)", line(2, "PrivateKey = "+hexOf(relPriv)), 1, confErr(2, badKeyMsg)), hexOf(relPriv)),
		q("public-key-short", "peer PublicKey of 43 characters", line(7, "PublicKey = "+relPeerPub[:43]), 1, confErr(7, badKeyMsg)),
		withSecret(q("preshared-key-bad", "PresharedKey with a character outside base64", line(8, "PresharedKey = "+relPSK[:20]+"*"+relPSK[21:]), 1, confErr(8, badKeyMsg)), relPSK[:20]+"*"+relPSK[21:]),
		q("peer-without-public-key", "a [Peer] without PublicKey", without(7), 1, confErr(6, "A peer is missing a public key")),
		q("unknown-key", "an unknown key in [Interface]", ifaceExtra("Foo = bar"), 1, confErr(5, "Line unrecognized: `Foo=bar'")),
		q("unknown-key-peer", "an unknown key in [Peer]", peerExtra("Bar = 1"), 1, confErr(11, "Line unrecognized: `Bar=1'")),
		q("unknown-section", "an unknown [Section]", peerExtra("[Foo]"), 1, confErr(11, "Line unrecognized: `[Foo]'")),
		q("key-before-section", "a key before any section", append([]string{"ListenPort = 1"}, goodLines...), 1, confErr(1, "Line unrecognized: `ListenPort=1'")),
		q("address-in-peer", "Address in [Peer]", peerExtra("Address = 10.0.0.3/32"), 1, confErr(11, "Line unrecognized: `Address=10.0.0.3/32'")),
		q("dns-in-peer", "DNS in [Peer]", peerExtra("DNS = 10.0.0.53"), 1, confErr(11, "Line unrecognized: `DNS=10.0.0.53'")),
		withSecret(q("private-key-in-peer", "PrivateKey in [Peer] (the key is not echoed)", peerExtra("PrivateKey = {OTHERPRIV}"), 1, confErr(11, "Line unrecognized: `PrivateKey=(hidden)'")), relOtherPriv),
		withSecret(q("preshared-key-in-interface", "PresharedKey in [Interface] (not echoed)", ifaceExtra("PresharedKey = {PSK}"), 1, confErr(5, "Line unrecognized: `PresharedKey=(hidden)'")), relPSK),
		withSecret(q("private-key-misspelled", "`PrivateKye = KEY' (not echoed)", line(2, "PrivateKye = {PRIV}"), 1, confErr(2, "Line unrecognized: `PrivateKye=(hidden)'")), relPriv),
		q("no-equals", "a key without `='", ifaceExtra("FwMark 5"), 1, confErr(5, "Line unrecognized: `FwMark5'")),
		q("empty-value", "a key with an empty value", ifaceExtra("FwMark ="), 1, confErr(5, "Line unrecognized: `FwMark='")),
		q("allowed-ips-empty", "`AllowedIPs =' (empty)", line(9, "AllowedIPs ="), 1, confErr(9, "Line unrecognized: `AllowedIPs='")),
		q("allowed-ips-prefix-33", "AllowedIPs 10.0.0.0/33", line(9, "AllowedIPs = 10.0.0.0/33"), 1, confErr(9, "AllowedIP is not in the correct format: `10.0.0.0/33'")),
		q("allowed-ips-prefix-129", "AllowedIPs fd00::/129", line(9, "AllowedIPs = fd00::/129"), 1, confErr(9, "AllowedIP is not in the correct format: `fd00::/129'")),
		q("allowed-ips-prefix-negative", "AllowedIPs 10.0.0.0/-1", line(9, "AllowedIPs = 10.0.0.0/-1"), 1, confErr(9, "AllowedIP is not in the correct format: `10.0.0.0/-1'")),
		q("allowed-ips-prefix-empty", "AllowedIPs 10.0.0.0/ (no length)", line(9, "AllowedIPs = 10.0.0.0/"), 1, confErr(9, "AllowedIP is not in the correct format: `10.0.0.0/'")),
		q("allowed-ips-bad-address", "AllowedIPs 10.0.0.256/32", line(9, "AllowedIPs = 10.0.0.256/32"), 1, confErr(9, "Unable to parse IP address: `10.0.0.256'")),
		withSecret(q("allowed-ips-is-a-key", "the preshared key pasted as AllowedIPs (not echoed)", line(9, "AllowedIPs = {PSK}"), 1, confErr(9, "Unable to parse IP address: `(hidden)'")), relPSK),
		q("allowed-ips-trailing-comma", "AllowedIPs ending in a comma", line(9, "AllowedIPs = 10.0.0.2/32,"), 1, confErr(9, "Unable to parse IP address: `'")),
		q("listen-port-65536", "ListenPort 65536", line(4, "ListenPort = 65536"), 1, confErr(4, "Port is out of range 0-65535: `65536'")),
		q("listen-port-65537", "ListenPort 65537 (glibc would wrap it to 1)", line(4, "ListenPort = 65537"), 1, confErr(4, "Port is out of range 0-65535: `65537'")),
		q("listen-port-huge", "ListenPort 18446744073709551617", line(4, "ListenPort = 18446744073709551617"), 1, confErr(4, "Port is out of range 0-65535: `18446744073709551617'")),
		q("listen-port-negative", "ListenPort -1", line(4, "ListenPort = -1"), 1, confErr(4, "Servname not supported for ai_socktype: `-1'")),
		q("listen-port-unknown-service", "ListenPort naming no service", line(4, "ListenPort = nosuchservice"), 1, confErr(4, "Servname not supported for ai_socktype: `nosuchservice'")),
		q("fwmark-too-big", "FwMark 0x100000000", ifaceExtra("FwMark = 0x100000000"), 1, confErr(5, "Fwmark is neither 0/off nor 0-0xffffffff: `0x100000000'")),
		q("fwmark-garbage", "FwMark 12ab", ifaceExtra("FwMark = 12ab"), 1, confErr(5, "Fwmark is neither 0/off nor 0-0xffffffff: `12ab'")),
		q("endpoint-no-port", "Endpoint without a port", line(10, "Endpoint = 192.0.2.2"), 1, confErr(10, "Unable to find port of endpoint: `192.0.2.2'")),
		q("endpoint-empty-port", "Endpoint ending in `:'", line(10, "Endpoint = 192.0.2.2:"), 1, confErr(10, "Unable to find port of endpoint: `192.0.2.2:'")),
		q("endpoint-port-65536", "Endpoint port 65536", line(10, "Endpoint = 192.0.2.2:65536"), 1, confErr(10, "Port is out of range 0-65535: `192.0.2.2:65536'")),
		q("endpoint-open-bracket", "Endpoint `[fd00::2:51820' (no `]')", line(10, "Endpoint = [fd00::2:51820"), 1, confErr(10, "Unable to find matching brace of endpoint: `[fd00::2:51820'")),
		q("endpoint-bracket-no-port", "Endpoint `[fd00::2]' (no port)", line(10, "Endpoint = [fd00::2]"), 1, confErr(10, "Unable to find port of endpoint: `[fd00::2]'")),
		{name: "endpoint-unresolvable", what: "Endpoint host name that does not resolve (hosts: files)", tool: "wg-quick", conf: line(10, "Endpoint = nosuch.invalid:51820"),
			setup: filesOnlyResolver, code: 1, want: confErr(10, "Name or service not known: `nosuch.invalid:51820'")},
		q("keepalive-65536", "PersistentKeepalive 65536", peerExtra("PersistentKeepalive = 65536"), 1, confErr(11, "Persistent keepalive interval is neither 0/off nor 1-65535: `65536'")),
		q("keepalive-word", "PersistentKeepalive sometimes", peerExtra("PersistentKeepalive = sometimes"), 1, confErr(11, "Persistent keepalive interval is neither 0/off nor 1-65535: `sometimes'")),
		q("mtu-too-small", "MTU 67", ifaceExtra("MTU = 67"), 1, confErr(5, "MTU is not a number from 68 to 65535: `67'")),
		q("mtu-too-big", "MTU 65536", ifaceExtra("MTU = 65536"), 1, confErr(5, "MTU is not a number from 68 to 65535: `65536'")),
		q("mtu-junk", "MTU 1420x", ifaceExtra("MTU = 1420x"), 1, confErr(5, "MTU is not a number from 68 to 65535: `1420x'")),
		q("mtu-negative", "MTU -1420", ifaceExtra("MTU = -1420"), 1, confErr(5, "MTU is not a number from 68 to 65535: `-1420'")),
		q("table-unknown-name", "Table naming no rt_tables entry", ifaceExtra("Table = nosuchtable"), 1, confErr(5, "Table is neither auto, off, a number nor a name from rt_tables: `nosuchtable'")),
		q("table-too-big", "Table 4294967296", ifaceExtra("Table = 4294967296"), 1, confErr(5, "Table is not a number from 0 to 4294967295: `4294967296'")),
		q("table-negative", "Table -1", ifaceExtra("Table = -1"), 1, confErr(5, "Table is neither auto, off, a number nor a name from rt_tables: `-1'")),
		q("address-bad-ipv4", "Address 10.0.0.300/24", line(3, "Address = 10.0.0.300/24"), 1, confErr(3, "Address is not an IP address with an optional prefix length: `10.0.0.300/24'")),
		q("address-prefix-33", "Address 10.0.0.1/33", line(3, "Address = 10.0.0.1/33"), 1, confErr(3, "Address is not an IP address with an optional prefix length: `10.0.0.1/33'")),
		q("address-prefix-129", "Address fd00::1/129", line(3, "Address = fd00::1/129"), 1, confErr(3, "Address is not an IP address with an optional prefix length: `fd00::1/129'")),
		q("address-host-name", "Address gateway.example", line(3, "Address = gateway.example"), 1, confErr(3, "Address is not an IP address with an optional prefix length: `gateway.example'")),
		q("address-zone", "Address fe80::1%eth0/64", line(3, "Address = fe80::1%eth0/64"), 1, confErr(3, "Address is not an IP address with an optional prefix length: `fe80::1%eth0/64'")),
		q("address-second-bad", "the second of two addresses bad", line(3, "Address = 10.0.0.1/24, 10.0.0.x"), 1, confErr(3, "Address is not an IP address with an optional prefix length: `10.0.0.x'")),
		q("dns-bad-ipv4", "DNS 10.0.0.300", ifaceExtra("DNS = 10.0.0.300"), 1, confErr(5, "DNS server is not an IP address: `10.0.0.300'")),
		q("dns-bad-ipv6", "DNS fd00:::53", ifaceExtra("DNS = fd00:::53"), 1, confErr(5, "DNS server is not an IP address: `fd00:::53'")),
		q("dns-bad-search-domain", "DNS search domain bad_domain!", ifaceExtra("DNS = 10.0.0.53, bad_domain!"), 1, confErr(5, "DNS search domain is not a valid domain name: `bad_domain!'")),
		q("saveconfig-yes", "SaveConfig = yes", ifaceExtra("SaveConfig = yes"), 1, confErr(5, "`yes' is neither true nor false")),
		q("bom", "a UTF-8 byte order mark before [Interface]", append([]string{"\ufeff[Interface]"}, goodLines[1:]...), 1, confErr(1, "Line unrecognized: `\\xef\\xbb\\xbf[Interface]'")),
		q("control-characters", "binary garbage without NUL bytes", []string{"\x89PNG\r", "\x1a"}, 1, confErr(1, "Line unrecognized: `\\x89PNG'")),
		{name: "nul-bytes", what: "binary garbage with NUL bytes", tool: "wg-quick", files: map[string]string{confPath: "[Interface]\nPrivateKey = {PRIV}\n\x00\x01\x02garbage\n"}, code: 1,
			want: confErr(3, "Line contains a NUL byte; not a configuration file")},
		{name: "long-line", what: "a line of 8 MiB + 1 byte", tool: "wg-quick", files: map[string]string{confPath: "[Interface]\n# " + strings.Repeat("x", 8<<20) + "\n"}, code: 1,
			want: confErr(2, "Line is longer than 8 MiB")},
		{name: "huge-file", what: "a 65 MiB file", tool: "wg-quick", setup: func(t *testing.T, h *testnet.Host) {
			h.MustRun("truncate", "-s", "65M", confPath)
			h.MustRun("chmod", "600", confPath)
		}, code: 1, want: "wg-quick: " + confPath + ": File is larger than 64 MiB; not a configuration file\n"},
		{name: "config-is-directory", what: "wg0.conf is a directory", tool: "wg-quick", setup: func(t *testing.T, h *testnet.Host) {
			h.MustRun("mkdir", "-m", "700", confPath)
		}, code: 1, want: "wg-quick: Unable to read `" + confPath + "': Is a directory\n"},
		{name: "config-is-dev-zero", what: "wg0.conf is a symlink to /dev/zero", tool: "wg-quick", setup: func(t *testing.T, h *testnet.Host) {
			h.MustRun("ln", "-s", "/dev/zero", confPath)
		}, code: 1, want: "Warning: `/dev/zero' is world accessible\nwg-quick: /dev/zero: File is larger than 64 MiB; not a configuration file\n"},
		{name: "name-too-long", what: "abcdefghijklmnop.conf (16 characters)", tool: "wg-quick", args: []string{"up", "/etc/wireguard/abcdefghijklmnop.conf"},
			files: map[string]string{"/etc/wireguard/abcdefghijklmnop.conf": strings.Join(goodLines, "\n")}, code: 1,
			want: badName + "`abcdefghijklmnop' is 16 bytes\n"},
		{name: "name-bad-character", what: "`wg 0.conf'", tool: "wg-quick", args: []string{"up", "/etc/wireguard/wg 0.conf"},
			files: map[string]string{"/etc/wireguard/wg 0.conf": strings.Join(goodLines, "\n")}, code: 1,
			want: badName + "`wg 0' has ` '\n"},
		{name: "name-not-conf", what: "`wg0.cfg'", tool: "wg-quick", args: []string{"up", "/etc/wireguard/wg0.cfg"},
			files: map[string]string{"/etc/wireguard/wg0.cfg": strings.Join(goodLines, "\n")}, code: 1,
			want: badName + "`wg0.cfg' does not end in .conf\n"},
		{name: "missing-config", what: "no /etc/wireguard/nosuch.conf", tool: "wg-quick", args: []string{"up", "nosuch"}, code: 1,
			want: "wg-quick: `/etc/wireguard/nosuch.conf' does not exist\n"},
		{name: "argument-is-a-key", what: "the private key given instead of an interface (not echoed)", tool: "wg-quick", args: []string{"up", relOtherPriv}, code: 1,
			want: "wg-quick: `(hidden)' does not exist\n", secret: relOtherPriv},
		{name: "interface-exists", what: "a (veth) link named wg0 exists", tool: "wg-quick", conf: goodLines, setup: func(t *testing.T, h *testnet.Host) {
			h.MustRun("ip", "link", "add", "wg0", "type", "veth", "peer", "name", "wg0p")
		}, code: 1, want: "wg-quick: `wg0' already exists\n"},
		{name: "usage-no-arguments", what: "no arguments", tool: "wg-quick", args: []string{}, code: 1, want: "{USAGE}"},
		{name: "usage-no-interface", what: "`up' alone", tool: "wg-quick", args: []string{"up"}, code: 1, want: "{USAGE}"},
		{name: "usage-unknown-verb", what: "`start wg0'", tool: "wg-quick", args: []string{"start", "wg0"}, code: 1, want: "{USAGE}"},
		{name: "usage-extra-argument", what: "`up wg0 now'", tool: "wg-quick", args: []string{"up", "wg0", "now"}, conf: goodLines, code: 1, want: "{USAGE}"},
		{name: "down-not-up", what: "down of an interface that is not up", tool: "wg-quick", args: []string{"down", "wg0"}, conf: goodLines, code: 1,
			want: "wg-quick: `wg0' is not a WireGuard interface\n"},
		{name: "down-not-wireguard", what: "down of a veth named wg0", tool: "wg-quick", args: []string{"down", "wg0"}, conf: goodLines, setup: func(t *testing.T, h *testnet.Host) {
			h.MustRun("ip", "link", "add", "wg0", "type", "veth", "peer", "name", "wg0p")
		}, code: 1, want: "wg-quick: `wg0' is not a WireGuard interface\n"},
		{name: "save-not-up", what: "save of an interface that is not up", tool: "wg-quick", args: []string{"save", "wg0"}, conf: goodLines, code: 1,
			want: "wg-quick: `wg0' is not a WireGuard interface\n"},
		{name: "resolution-retries-bad", what: "WG_ENDPOINT_RESOLUTION_RETRIES=abc with a host name endpoint", tool: "wg-quick",
			conf: line(10, "Endpoint = peer.example:51820"), env: []string{"WG_ENDPOINT_RESOLUTION_RETRIES=abc"}, code: 1,
			want: "wg-quick: Unable to parse WG_ENDPOINT_RESOLUTION_RETRIES: `abc'\n"},
	}
	for i := range cases {
		if cases[i].args == nil {
			cases[i].args = []string{"up", "wg0"}
		}
	}
	return cases
}

func wgCases() []badCase {
	set := func(name, what string, args []string, code int, want string) badCase {
		return badCase{name: name, what: what, tool: "wg", args: args, code: code, want: want}
	}
	setconf := func(name, what string, conf []string, want string) badCase {
		return badCase{name: name, what: what, tool: "wg", args: []string{"setconf", "wg0", "/run/in/bad.conf"}, conf: conf, code: 1, want: want}
	}
	keyFile := func(name, what, content, opt string, want string) badCase {
		args := []string{"set", "wg0", "private-key", "/run/in/key"}
		if opt == "preshared-key" {
			args = []string{"set", "wg0", "peer", relPeerPub, "preshared-key", "/run/in/key"}
		}
		return badCase{name: name, what: what, tool: "wg", args: args, files: map[string]string{"/run/in/key": content}, code: 1, want: want}
	}
	wgBad := []string{"[Interface]", "PrivateKey = {PRIV}", "ListenPort = 51820", "", "[Peer]", "PublicKey = {PEERPUB}", "AllowedIPs = 10.0.0.2/32"}
	withSecret := func(c badCase, s string) badCase { c.secret = s; return c }
	badPub := relPeerPub[:20] + "?" + relPeerPub[21:]
	return []badCase{
		set("wg-invalid-subcommand", "`wg bogus'", []string{"bogus"}, 1, "Invalid subcommand: `bogus'\n{WGUSAGE}"),
		withSecret(set("wg-subcommand-is-a-key", "a key given as the subcommand (not echoed)", []string{relOtherPriv}, 1, "Invalid subcommand: `(hidden)'\n{WGUSAGE}"), relOtherPriv),
		withSecret(set("wg-show-field-is-a-key", "a key given as the field of show (not echoed)", []string{"show", "wg0", relOtherPriv}, 1, "Invalid parameter: `(hidden)'\nUsage: wg show { <interface> | all | interfaces } [public-key | private-key | listen-port | fwmark | peers | preshared-keys | endpoints | allowed-ips | latest-handshakes | transfer | persistent-keepalive | dump]\n"), relOtherPriv),
		set("wg-show-bad-field", "`wg show wg0 bogus'", []string{"show", "wg0", "bogus"}, 1, "Invalid parameter: `bogus'\nUsage: wg show { <interface> | all | interfaces } [public-key | private-key | listen-port | fwmark | peers | preshared-keys | endpoints | allowed-ips | latest-handshakes | transfer | persistent-keepalive | dump]\n"),
		set("wg-show-too-many", "`wg show a b c'", []string{"show", "a", "b", "c"}, 1, "Usage: wg show { <interface> | all | interfaces } [public-key | private-key | listen-port | fwmark | peers | preshared-keys | endpoints | allowed-ips | latest-handshakes | transfer | persistent-keepalive | dump]\n"),
		set("wg-show-missing", "`wg show nosuch'", []string{"show", "nosuch"}, 1, "Unable to access interface: {NODEV}\n"),
		set("wg-showconf-missing", "`wg showconf nosuch'", []string{"showconf", "nosuch"}, 1, "Unable to access interface: {NODEV}\n"),
		set("wg-showconf-usage", "`wg showconf'", []string{"showconf"}, 1, "Usage: wg showconf <interface>\n"),
		set("wg-set-usage", "`wg set wg0'", []string{"set", "wg0"}, 1, fmt.Sprintf(setUsageText, "wg", "set")),
		set("wg-set-missing-interface", "`wg set nosuch listen-port 1'", []string{"set", "nosuch", "listen-port", "1"}, 1, "Unable to modify interface: {NODEV}\n"),
		set("wg-set-listen-port-65536", "listen-port 65536", []string{"set", "wg0", "listen-port", "65536"}, 1, "Port is out of range 0-65535: `65536'\n"),
		set("wg-set-listen-port-65537", "listen-port 65537 (glibc: 1)", []string{"set", "wg0", "listen-port", "65537"}, 1, "Port is out of range 0-65535: `65537'\n"),
		set("wg-set-listen-port-word", "listen-port abc", []string{"set", "wg0", "listen-port", "abc"}, 1, "Servname not supported for ai_socktype: `abc'\n"),
		set("wg-set-fwmark-too-big", "fwmark 0x1ffffffff", []string{"set", "wg0", "fwmark", "0x1ffffffff"}, 1, "Fwmark is neither 0/off nor 0-0xffffffff: `0x1ffffffff'\n"),
		withSecret(set("wg-set-peer-bad-key", "peer with a character outside base64", []string{"set", "wg0", "peer", badPub}, 1, badKeyMsg+" (argument 2)\n"), badPub),
		set("wg-set-unknown-option", "an unknown option", []string{"set", "wg0", "bogus", "1"}, 1, "Invalid argument: bogus\n"),
		set("wg-set-device-option-after-peer", "listen-port after peer", []string{"set", "wg0", "peer", relPeerPub, "listen-port", "1"}, 1, "Invalid argument: listen-port\n"),
		set("wg-set-remove-without-peer", "`remove' before any peer", []string{"set", "wg0", "remove"}, 1, "Invalid argument: remove\n"),
		set("wg-set-option-without-value", "`listen-port' as the last argument", []string{"set", "wg0", "listen-port"}, 1, "Invalid argument: listen-port\n"),
		set("wg-set-endpoint-no-port", "endpoint without a port", []string{"set", "wg0", "peer", relPeerPub, "endpoint", "192.0.2.2"}, 1, "Unable to find port of endpoint: `192.0.2.2'\n"),
		set("wg-set-endpoint-open-bracket", "endpoint `[fd00::2:1'", []string{"set", "wg0", "peer", relPeerPub, "endpoint", "[fd00::2:1"}, 1, "Unable to find matching brace of endpoint: `[fd00::2:1'\n"),
		set("wg-set-endpoint-port-65536", "endpoint port 65536", []string{"set", "wg0", "peer", relPeerPub, "endpoint", "192.0.2.2:65536"}, 1, "Port is out of range 0-65535: `192.0.2.2:65536'\n"),
		withSecret(set("wg-set-endpoint-is-a-key", "a preshared key given as the endpoint (not echoed)", []string{"set", "wg0", "peer", relPeerPub, "endpoint", relPSK}, 1, "Unable to find port of endpoint: `(hidden)'\n"), relPSK),
		set("wg-set-allowed-ips-prefix-33", "allowed-ips 10.0.0.0/33", []string{"set", "wg0", "peer", relPeerPub, "allowed-ips", "10.0.0.0/33"}, 1, "AllowedIP is not in the correct format: `10.0.0.0/33'\n"),
		set("wg-set-allowed-ips-garbage", "allowed-ips x", []string{"set", "wg0", "peer", relPeerPub, "allowed-ips", "x"}, 1, "Unable to parse IP address: `x'\n"),
		set("wg-set-keepalive-65536", "persistent-keepalive 65536", []string{"set", "wg0", "peer", relPeerPub, "persistent-keepalive", "65536"}, 1, "Persistent keepalive interval is neither 0/off nor 1-65535: `65536'\n"),
		withSecret(set("wg-set-key-text-as-file", "private-key given the key itself, not a file", []string{"set", "wg0", "private-key", relOtherPriv}, 1, "fopen: No such file or directory\n"), relOtherPriv),
		set("wg-set-key-file-missing", "private-key /run/in/nosuch", []string{"set", "wg0", "private-key", "/run/in/nosuch"}, 1, "fopen: No such file or directory\n"),
		{name: "wg-set-key-file-directory", what: "private-key names a directory", tool: "wg", args: []string{"set", "wg0", "private-key", "/run"}, code: 1, want: "Invalid length key in key file\n"},
		keyFile("wg-set-key-file-short", "a key file of 20 bytes", "kG5bG/8p/fVgKHmI2Eau", "private-key", "Invalid length key in key file\n"),
		withSecret(keyFile("wg-set-key-file-bad-base64", "a key file with a character outside base64", relOtherPriv[:5]+"#"+relOtherPriv[6:]+"\n", "private-key", badKeyMsg+" (key file `/run/in/key')\n"), relOtherPriv[:5]+"#"+relOtherPriv[6:]),
		keyFile("wg-set-key-file-trailing", "a key file with a second word", "{OTHERPRIV} x\n", "private-key", "Found trailing character in key file: `x'\n"),
		withSecret(keyFile("wg-set-psk-file-bad", "a preshared-key file with a bad key", relPSK[:43]+"A\n", "preshared-key", badKeyMsg+" (key file `/run/in/key')\n"), relPSK[:43]+"A"),
		set("wg-setconf-usage", "`wg setconf wg0'", []string{"setconf", "wg0"}, 1, "Usage: wg setconf <interface> <configuration filename>\n"),
		set("wg-setconf-missing-file", "setconf of a file that does not exist", []string{"setconf", "wg0", "/run/in/nosuch.conf"}, 1, "fopen: No such file or directory\n"),
		set("wg-setconf-directory", "setconf of a directory", []string{"setconf", "wg0", "/run"}, 1, "fopen: Is a directory\n"),
		{name: "wg-setconf-missing-interface", what: "setconf of a good file to no interface", tool: "wg", args: []string{"setconf", "nosuch", "/run/in/bad.conf"}, conf: wgBad, code: 1, want: "Unable to modify interface: {NODEV}\n"},
		withSecret(setconf("wg-setconf-bad-key", "a PrivateKey of 43 characters", []string{"[Interface]", "PrivateKey = " + relOtherPriv[:43]}, wgConfErr(2, badKeyMsg)), relOtherPriv[:43]),
		setconf("wg-setconf-wg-quick-key", "a wg-quick key (Address)", []string{"[Interface]", "Address = 10.0.0.1/24"}, wgConfErr(2, "Line unrecognized: `Address=10.0.0.1/24'")+quickHint("Address")),
		{name: "wg-syncconf-wg-quick-file", what: "syncconf of a whole wg-quick file", tool: "wg", args: []string{"syncconf", "wg0", "/run/in/bad.conf"}, conf: goodLines, code: 1,
			want: wgConfErr(3, "Line unrecognized: `Address=10.0.0.1/24'") + quickHint("Address")},
		{name: "wg-addconf-wg-quick-key", what: "addconf: a wg-quick key in lower case (postup)", tool: "wg", args: []string{"addconf", "wg0", "/run/in/bad.conf"}, conf: []string{"[Interface]", "ListenPort = 51820", "postup = echo up"}, code: 1,
			want: wgConfErr(3, "Line unrecognized: `postup=echoup'") + quickHint("PostUp")},
		setconf("wg-setconf-address-in-peer", "Address in [Peer] (not wg-quick's: no hint)", []string{"[Peer]", "PublicKey = {PEERPUB}", "Address = 10.0.0.1/24"}, wgConfErr(3, "Line unrecognized: `Address=10.0.0.1/24'")),
		withSecret(setconf("wg-setconf-key-in-peer", "PrivateKey in [Peer] (not echoed)", []string{"[Peer]", "PublicKey = {PEERPUB}", "PrivateKey = {OTHERPRIV}"}, wgConfErr(3, "Line unrecognized: `PrivateKey=(hidden)'")), relOtherPriv),
		setconf("wg-setconf-port-65537", "ListenPort 65537", []string{"[Interface]", "ListenPort = 65537"}, wgConfErr(2, "Port is out of range 0-65535: `65537'")),
		{name: "wg-addconf-peer-without-key", what: "addconf: a peer without PublicKey", tool: "wg", args: []string{"addconf", "wg0", "/run/in/bad.conf"}, conf: []string{"[Peer]", "AllowedIPs = 10.0.0.3/32"}, code: 1,
			want: "/run/in/bad.conf:1: A peer is missing a public key\nInvalid configuration\n"},
		{name: "wg-syncconf-bad-endpoint", what: "syncconf: an endpoint without a port", tool: "wg", args: []string{"syncconf", "wg0", "/run/in/bad.conf"}, conf: []string{"[Peer]", "PublicKey = {PEERPUB}", "Endpoint = 192.0.2.2"}, code: 1,
			want: wgConfErr(3, "Unable to find port of endpoint: `192.0.2.2'")},
		{name: "wg-setconf-nul", what: "setconf of binary garbage", tool: "wg", args: []string{"setconf", "wg0", "/run/in/bad.conf"}, files: map[string]string{"/run/in/bad.conf": "\x7fELF\x02\x01\x01\x00\x00"}, code: 1,
			want: wgConfErr(1, "Line contains a NUL byte; not a configuration file")},
		{name: "wg-setconf-huge", what: "setconf of a 65 MiB file", tool: "wg", args: []string{"setconf", "wg0", "/run/in/huge.conf"}, setup: func(t *testing.T, h *testnet.Host) {
			h.MustRun("truncate", "-s", "65M", "/run/in/huge.conf")
		}, code: 1, want: "/run/in/huge.conf: File is larger than 64 MiB; not a configuration file\nConfiguration parsing error\n"},
		set("wg-setconf-dev-zero", "setconf of /dev/zero", []string{"setconf", "wg0", "/dev/zero"}, 1, "/dev/zero: File is larger than 64 MiB; not a configuration file\nConfiguration parsing error\n"),
		setconf("wg-setconf-bom", "a byte order mark", []string{"\ufeff[Interface]", "ListenPort = 1"}, wgConfErr(1, "Line unrecognized: `\\xef\\xbb\\xbf[Interface]'")),
		{name: "wg-pubkey-short", what: "pubkey of 43 characters", tool: "wg", args: []string{"pubkey"}, stdin: relPriv[:43], code: 1, want: "wg: " + badKeyMsg + "\n", secret: relPriv[:43]},
		{name: "wg-pubkey-trailing", what: "pubkey of a key and more", tool: "wg", args: []string{"pubkey"}, stdin: relPriv + " x\n", code: 1, want: "wg: Trailing characters found after key\n"},
		{name: "wg-pubkey-alphabet", what: "pubkey of a key with `!'", tool: "wg", args: []string{"pubkey"}, stdin: relPriv[:30] + "!" + relPriv[31:] + "\n", code: 1, want: "wg: " + badKeyMsg + "\n", secret: relPriv[:30] + "!" + relPriv[31:]},
		set("wg-genkey-extra", "`wg genkey x'", []string{"genkey", "x"}, 1, "Usage: wg genkey\n"),
		set("wg-genpsk-extra", "`wg genpsk x'", []string{"genpsk", "x"}, 1, "Usage: wg genpsk\n"),
		set("wg-pubkey-extra", "`wg pubkey x'", []string{"pubkey", "x"}, 1, "Usage: wg pubkey\n"),
		{name: "wg-resolution-retries-bad", what: "WG_ENDPOINT_RESOLUTION_RETRIES=abc, endpoint a host name", tool: "wg", args: []string{"set", "wg0", "peer", relPeerPub, "endpoint", "peer.example:1"},
			env: []string{"WG_ENDPOINT_RESOLUTION_RETRIES=abc"}, code: 1, want: "Unable to parse WG_ENDPOINT_RESOLUTION_RETRIES: `abc'\n"},
	}
}

const setUsageText = "Usage: %s %s <interface> [listen-port <port>] [fwmark <mark>] [private-key <file path>] [peer <base64 public key> [remove] [preshared-key <file path>] [endpoint <ip>:<port>] [persistent-keepalive <interval seconds>] [allowed-ips [+|-]<ip1>/<cidr1>[,[+|-]<ip2>/<cidr2>]...] ]...\n"

func allBadCases() []badCase { return append(quickCases(), wgCases()...) }

func fillKeys(s string) string {
	return strings.NewReplacer("{PRIV}", relPriv, "{PUB}", relPub, "{PEERPUB}", relPeerPub, "{PSK}", relPSK, "{OTHERPRIV}", relOtherPriv, "{OTHERPUB}", relOtherPub, "{PEERPRIV}", relPeerPriv).Replace(s)
}

// TestBadInput runs every case of badCases in a host of its own.
func TestBadInput(t *testing.T) {
	testnet.Require(t)
	seen := map[string]bool{}
	for _, c := range allBadCases() {
		if seen[c.name] {
			t.Fatalf("two cases named %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has a host of its own
			runBadCase(t, c)
		})
	}
}

func runBadCase(t *testing.T, c badCase) {
	h := testnet.NewHost(t, "wgbad")
	h.MustRun("mkdir", "-p", "/run/in")
	var ifaces []string
	env := quickEnv(t, c.env...)
	if c.tool == "wg" {
		// wg's cases run against a running device: nothing may change it.
		h.WriteFile(confPath, []byte(fillKeys(strings.Join(goodLines, "\n")+"\n")), 0o600)
		mustQuick(t, h, "up", "wg0")
		ifaces = []string{"wg0"}
	}
	if c.conf != nil {
		path := confPath
		if c.tool == "wg" {
			path = "/run/in/bad.conf"
		}
		h.WriteFile(path, []byte(fillKeys(strings.Join(c.conf, "\n")+"\n")), 0o600)
	}
	for path, content := range c.files {
		h.WriteFile(path, []byte(fillKeys(content)), 0o600)
	}
	if c.setup != nil {
		c.setup(t, h)
	}
	before := fullState(t, h, ifaces...)
	r := runStdin(t, h, env, c.stdin, c.tool, c.args...)
	want := expandWant(c.want)
	if r.Stderr != want || r.Code != c.code || r.Stdout != "" {
		t.Errorf("%s %s: exit %d, stdout %q, stderr:\n%q\nwant exit %d, stderr:\n%q", c.tool, strings.Join(c.args, " "), r.Code, r.Stdout, r.Stderr, c.code, want)
	}
	secrets := secretForms(relPriv, relPSK, relOtherPriv, relPeerPriv)
	if c.secret != "" {
		secrets = append(secrets, c.secret)
	}
	if k := leaked(r.Stdout+r.Stderr, secrets); k != "" {
		t.Errorf("the output shows a key (%q)", k)
	}
	if after := fullState(t, h, ifaces...); after != before {
		t.Errorf("the host changed:\n%s", difftest.Lines(before, after))
	}
}

// filesOnlyResolver makes the host's name lookups read /etc/hosts only (no
// DNS), so that an unknown name fails at once and always the same way.
func filesOnlyResolver(t *testing.T, h *testnet.Host) {
	h.BindFile("/etc/nsswitch.conf", []byte("hosts: files\n"))
}

func expandWant(s string) string {
	return strings.NewReplacer("{NODEV}", noDeviceMsg(), "{USAGE}", quickUsage, "{WGUSAGE}", wgUsage).Replace(s)
}

const quickUsage = "Usage: wg-quick [ up | down | save | strip ] [ CONFIG_FILE | INTERFACE ]\n\n" +
	"  CONFIG_FILE is a configuration file, whose filename is the interface name\n" +
	"  followed by `.conf'. Otherwise, INTERFACE is an interface name, with\n" +
	"  configuration found at /etc/wireguard/INTERFACE.conf. It is to be readable\n" +
	"  by wg(8)'s `setconf' sub-command, with the exception of the following additions\n" +
	"  to the [Interface] section, which are handled by wg-quick:\n\n" +
	"  - Address: may be specified one or more times and contains one or more\n" +
	"    IP addresses (with an optional CIDR mask) to be set for the interface.\n" +
	"  - DNS: an optional DNS server to use while the device is up.\n" +
	"  - MTU: an optional MTU for the interface; if unspecified, auto-calculated.\n" +
	"  - Table: an optional routing table to which routes will be added; if\n" +
	"    unspecified or `auto', the default table is used. If `off', no routes\n" +
	"    are added.\n" +
	"  - PreUp, PostUp, PreDown, PostDown: script snippets which will be executed\n" +
	"    by bash(1) at the corresponding phases of the link, most commonly used\n" +
	"    to configure DNS. The string `%i' is expanded to INTERFACE.\n" +
	"  - SaveConfig: if set to `true', the configuration is saved from the current\n" +
	"    state of the interface upon shutdown.\n\n" +
	"See wg-quick(8) for more info and examples.\n"

const wgUsage = "Usage: wg <cmd> [<args>]\n\nAvailable subcommands:\n" +
	"  show: Shows the current configuration and device information\n" +
	"  showconf: Shows the current configuration of a given WireGuard interface, for use with `setconf'\n" +
	"  set: Change the current configuration, add peers, remove peers, or change peers\n" +
	"  setconf: Applies a configuration file to a WireGuard interface\n" +
	"  addconf: Appends a configuration file to a WireGuard interface\n" +
	"  syncconf: Synchronizes a configuration file to a WireGuard interface\n" +
	"  genkey: Generates a new private key and writes it to stdout\n" +
	"  genpsk: Generates a new preshared key and writes it to stdout\n" +
	"  pubkey: Reads a private key from stdin and writes a public key to stdout\n" +
	"You may pass `--help' to any of these subcommands to view usage.\n"

// TestBadInputTable keeps BADINPUT.md in step with the cases.
func TestBadInputTable(t *testing.T) {
	var b strings.Builder
	cases := allBadCases()
	fmt.Fprintf(&b, "# Bad-input cases\n\n"+
		"Generated from `badinput_test.go` (`go test ./cmd/wg-quick -run TestBadInputTable -update`).\n"+
		"`sudo go test ./cmd/wg-quick -run TestBadInput` runs each case in a fresh test host and checks\n"+
		"the whole of stderr, the exit status, that no key is echoed, and that the host's state (links,\n"+
		"addresses, routes of every table, rules, nftables, iptables, sysctls, /run/wireguard, processes,\n"+
		"DNS records; for `wg`, the running `wg0`'s configuration) is the same after as before.\n"+
		"The `wg` cases run against a running `wg0`. Keys in the files are test keys.\n\n"+
		"%d cases (%d `wg-quick`, %d `wg`).\n\n"+
		"| # | case | command | input | stderr | exit |\n| --- | --- | --- | --- | --- | --- |\n",
		len(cases), len(quickCases()), len(wgCases()))
	for i, c := range cases {
		cmd := c.tool + " " + strings.Join(c.args, " ")
		for _, e := range c.env {
			cmd = e + " " + cmd
		}
		if c.stdin != "" {
			cmd += " < (stdin)"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %d |\n", i+1, c.name, mdCode(strings.TrimSpace(cmd)), mdEscape(strings.ReplaceAll(c.what, "`", "'")), mdWant(c.want), c.code)
	}
	got := b.String()
	if *update {
		if err := os.WriteFile("BADINPUT.md", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("BADINPUT.md")
	if err != nil || string(want) != got {
		t.Errorf("BADINPUT.md is not up to date (go test ./cmd/wg-quick -run TestBadInputTable -update)")
	}
	if len(cases) < 60 {
		t.Errorf("only %d cases", len(cases))
	}
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "\ufeff", "(BOM)").Replace(s)
}

// mdCode is s as inline code, which may itself hold backquotes.
func mdCode(s string) string { return "`` " + mdEscape(s) + " ``" }

// mdWant shows an expected stderr in one cell: lines joined with <br>,
// usage texts named rather than copied.
func mdWant(s string) string {
	s = strings.ReplaceAll(s, "{USAGE}", "(usage)\n")
	s = strings.ReplaceAll(s, "{WGUSAGE}", "(usage)\n")
	s = strings.ReplaceAll(s, "{NODEV}", "No such device / Protocol not supported (no module)")
	var parts []string
	for l := range strings.SplitSeq(strings.TrimSuffix(s, "\n"), "\n") {
		if strings.HasPrefix(l, "Usage: ") && len(l) > 60 {
			l = l[:strings.Index(l, " [")] + " ... (usage)"
		}
		parts = append(parts, mdCode(l))
	}
	return strings.Join(parts, "<br>")
}
