package quick

import (
	"context"
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
// is reported with its FILE:LINE without stopping the others. opts gives
// the resolver and the environment (WG_ENDPOINT_RESOLUTION_RETRIES). It
// returns the exit status: 1 when a name could not be resolved or a peer
// not be set.
func Reresolve(ctx context.Context, sys *Sys, l *Loaded, now time.Time, opts *conf.Options) int {
	if ok, err := NewView(sys).IsWireGuard(l.Interface); err != nil || !ok {
		return die(sys, errNotWireGuard(l.Interface))
	}
	r := newRunner(sys)
	r.run(ctx, reresolvePhase(sys, l, now, opts))
	if ctx.Err() != nil {
		return exitCode(context.Cause(ctx))
	}
	return r.status
}

// reresolvePhase plans reresolve's steps from the device in the View: a
// `wg set IF peer KEY endpoint NAME:PORT` for each stale peer whose name
// now gives another address, in the file's order, and for a name that
// does not resolve, a step that fails (no line) where it comes.
func reresolvePhase(sys *Sys, l *Loaded, now time.Time, opts *conf.Options) Phase {
	return Phase{Name: "reresolve", Mode: carryOn, Plan: func(ctx context.Context, v *View) ([]Step, error) {
		dev, err := v.Device(l.Interface)
		if err != nil {
			return nil, deviceFailure(err)
		}
		var steps []Step
		for _, e := range reresolve.Due(reresolve.FileEndpoints(l.File.WGLines), dev, now) {
			if ctx.Err() != nil {
				return steps, context.Cause(ctx)
			}
			addr, err := conf.ParseEndpoint(e.Text, opts)
			if err != nil {
				steps = append(steps, Step{Op: unresolvedOp{iface: l.Interface, e: e,
					err: fail(1, "%s: %s:%d: %v", sys.Prog, l.Path, e.Line, err)}})
				continue
			}
			if !reresolve.Changed(dev, e.PublicKey, addr) {
				continue
			}
			c := reresolve.Change{Iface: l.Interface, Peer: e, Addr: addr}
			peer := conf.Peer{PublicKey: e.PublicKey, UpdateOnly: true, Endpoint: &addr}
			steps = append(steps, Step{Op: deviceOp{
				dev: sys.Dev, iface: l.Interface, line: c.String(),
				cfg:    &conf.Config{Peers: []conf.Peer{peer}},
				fields: map[string]any{"command": "set", "peer": e.PublicKey.String(), "endpoint": conf.FormatEndpoint(addr)},
			}})
		}
		return steps, nil
	}}
}

// unresolvedOp is a peer whose endpoint's name did not resolve: it prints
// no line, and fails when the run gets to it (a dry run foresees it).
type unresolvedOp struct {
	iface string
	e     reresolve.Endpoint
	err   error
}

func (o unresolvedOp) String() string           { return "" }
func (o unresolvedOp) Do(context.Context) error { return o.err }
func (o unresolvedOp) willFail(*View) error     { return o.err }
func (o unresolvedOp) simulate(*View)           {}
func (o unresolvedOp) Kind() string             { return "device" }
func (o unresolvedOp) Fields() map[string]any {
	return map[string]any{"interface": o.iface, "command": "set", "peer": o.e.PublicKey.String(), "endpoint": o.e.Text}
}
