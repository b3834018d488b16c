package main

import (
	"context"

	"github.com/gowg/wgtools/internal/quick"
)

// upMain brings an interface up: `wg-quick up CONFIG_FILE|INTERFACE`.
// As a container's init (PID 1) it then stays, since its exit would end
// every process of the container, the embedded device among them: see
// stayAsInit.
func upMain(e *env, arg string, o options) int {
	up := func(ctx context.Context, sys *quick.Sys, l *quick.Loaded) int { return quick.Up(ctx, sys, l) }
	if !e.init || o.dryRun {
		return withSys(e, arg, whole, o, up)
	}
	sigs := initSignals()
	code := withSys(e, arg, whole, o, up)
	if code != 0 {
		return code
	}
	return stayAsInit(e, arg, sigs)
}
