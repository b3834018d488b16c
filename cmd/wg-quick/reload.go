package main

import (
	"context"

	"github.com/gowg/wgtools/internal/quick"
)

// reloadMain brings a running interface to what its file now says, without
// taking it down: `wg-quick reload CONFIG_FILE|INTERFACE [--hooks]`.
func reloadMain(e *env, arg string, o options) int {
	return withSys(e, arg, whole, o, func(ctx context.Context, sys *quick.Sys, l *quick.Loaded) int {
		return quick.Reload(ctx, sys, l, o.hooks)
	})
}
