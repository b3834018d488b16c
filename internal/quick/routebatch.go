package quick

import (
	"bytes"
	"context"

	"github.com/gowg/wgtools/internal/netlinkx"
)

// routeBatcher is a Net that adds many routes in one exchange with the
// kernel (*netlinkx.Handle does).
type routeBatcher interface {
	// ApplyRoutes adds each route and returns one error per route, as
	// Apply would have, trying the later ones even after a failure.
	ApplyRoutes(ops []netlinkx.RouteAdd) []error
}

// addRouteBatch adds routes, in order, with the trace and the failure a
// step per route would give: "[#] ip -4 route add ..." for each route up to
// and including the first that fails, then ip's message. Where sys.Net can
// batch, the kernel gets them all at once (a few system calls for
// thousands of routes, against a socket and two round trips each) and the
// trace is written in one piece afterwards; routes after a failing one may
// have been added too, which the rollback's deletion of the interface
// removes with the rest.
func addRouteBatch(ctx context.Context, sys *Sys, r *runner, ops []netlinkx.RouteAdd) error {
	b, ok := sys.Net.(routeBatcher)
	if !ok || len(ops) < 2 {
		for _, op := range ops {
			if err := r.do(ctx, applyStep(sys, op, nil)); err != nil {
				return err
			}
		}
		return nil
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	errs := b.ApplyRoutes(ops)
	var trace bytes.Buffer
	for i, op := range ops {
		trace.WriteString("[#] " + op.String() + "\n")
		if errs[i] != nil {
			r.stderr.Write(trace.Bytes())
			return netFailure(errs[i])
		}
	}
	r.stderr.Write(trace.Bytes())
	return nil
}
