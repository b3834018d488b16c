package firewall

import (
	"context"
	"fmt"
)

// Op is one change, in the reference's terms: the command wg-quick prints
// (after "[#] ") before it, the text it would have fed to that command, and
// the work, done through netlink or go-iptables.
type Op struct {
	line    string
	payload string
	do      func() error
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
