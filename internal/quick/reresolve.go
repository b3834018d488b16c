package quick

import (
	"context"
	"fmt"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/reresolve"
)

// Reresolve looks up again the Endpoint of each peer of l's file whose
// last handshake is older than reresolve.Stale (as wireguard-tools'
// contrib/reresolve-dns), and sets it on the device where the address
// changed, printing a "[#] wg set ..." line for each; nothing is printed
// when nothing changed. l needs only the file's wg lines (Load with
// StripOnly): names are resolved here, one at a time, and one that fails
// is reported without stopping the others. opts gives the resolver and
// the environment (WG_ENDPOINT_RESOLUTION_RETRIES). It returns the exit
// status: 1 when a name could not be resolved or a peer not be set.
func Reresolve(ctx context.Context, sys *Sys, l *Loaded, now time.Time, opts *conf.Options) int {
	if ok, err := isWireGuard(sys, l.Interface); err != nil || !ok {
		return die(sys, fmt.Errorf("`%s' is not a WireGuard interface", l.Interface))
	}
	dev, err := device(sys, l.Interface)
	if err != nil {
		report(sys.Stderr, err)
		return exitCode(err)
	}
	dev.Wipe()
	r := &runner{stderr: sys.Stderr}
	code := 0
	for _, e := range reresolve.Due(reresolve.FileEndpoints(l.File.WGLines), dev, now) {
		if ctx.Err() != nil {
			return exitCode(context.Cause(ctx))
		}
		addr, err := conf.ParseEndpoint(e.Text, opts)
		if err != nil {
			fmt.Fprintf(sys.Stderr, "%s: %s:%d: %v\n", sys.Prog, l.Path, e.Line, err)
			code = 1
			continue
		}
		if !reresolve.Changed(dev, e.PublicKey, addr) {
			continue
		}
		c := reresolve.Change{Iface: l.Interface, Peer: e, Addr: addr}
		err = r.do(ctx, Step{Line: c.String(), Do: func(context.Context) error {
			peer := conf.Peer{PublicKey: e.PublicKey, UpdateOnly: true, Endpoint: &addr}
			if err := sys.Dev.Configure(l.Interface, &conf.Config{Peers: []conf.Peer{peer}}); err != nil {
				return fail(1, "Unable to modify interface: %s", conf.Strerror(err))
			}
			return nil
		}})
		if err != nil {
			report(sys.Stderr, err)
			code = 1
		}
	}
	return code
}
