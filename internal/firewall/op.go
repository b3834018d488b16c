package firewall

import (
	"context"
	"fmt"
	"strings"
)

// Op is one change, in the reference's terms: the command wg-quick prints
// (after "[#] ") before it, the text it would have fed to that command, and
// the work, done through netlink or go-iptables.
type Op struct {
	line    string
	payload string
	kind    string
	do      func() error
}

// Kinds of Op.
const (
	KindFirewall = "firewall"
	KindSysctl   = "sysctl"
)

// Kind is what the Op changes: KindFirewall (guard rules) or KindSysctl
// (src_valid_mark and its record).
func (o Op) Kind() string {
	if o.kind == "" {
		return KindFirewall
	}
	return o.kind
}

// Fields describe the change for a machine-readable plan: the payload the
// reference would feed its command, or the sysctl's key and value.
func (o Op) Fields() map[string]any {
	if o.Kind() == KindSysctl {
		key, value, _ := strings.Cut(strings.TrimPrefix(o.line, "sysctl -q "), "=")
		if key == "" {
			return map[string]any{"key": SrcValidMarkKey, "value": nil, "drop_record": true}
		}
		return map[string]any{"key": key, "value": value, "drop_record": false}
	}
	return map[string]any{"payload": o.payload}
}

// String is the trace line, e.g. "nft -f /dev/fd/63".
func (o Op) String() string { return o.line }

// Payload is what the reference writes to the command's input (the
// `nft -f` script or the `iptables-restore -n` input); "" for a sysctl.
func (o Op) Payload() string { return o.payload }

// Do makes the change, unless ctx is already done. The change itself is
// short and is not interrupted.
func (o Op) Do(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", o.line, err)
	}
	return o.do()
}

// Trace lines of the reference's commands.
const (
	lineNFT      = "nft -f /dev/fd/63"
	lineRestore4 = "iptables-restore -n"
	lineRestore6 = "ip6tables-restore -n"
)

func restoreLine(f Family) string {
	if f == IPv6 {
		return lineRestore6
	}
	return lineRestore4
}
