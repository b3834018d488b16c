// Package conf holds the one configuration model shared by wg and wg-quick:
// an Interface and its Peers, with "was it set" kept apart from the value
// (pointer fields), the line parser for wg's config grammar (wireguard-tools
// config.c) and wg-quick's additions (linux.bash parse_options), the parser for
// `wg set` arguments, the value parsers both share, the writers (the `wg
// showconf` format and the wg-quick file format), keys, and the interface-name
// and config-path rules.
//
// Parsing is pure: nothing here touches the network or the host, except that
// endpoint host names are resolved through a Resolver the caller supplies and
// Table names are looked up through a function the caller supplies.
package conf
