package main

import (
	"context"

	"github.com/gowg/wgtools/internal/quick"
)

// upMain brings an interface up: `wg-quick up CONFIG_FILE|INTERFACE`.
func upMain(e *env, arg string, o options) int {
	return withSys(e, arg, whole, o, func(ctx context.Context, sys *quick.Sys, l *quick.Loaded) int {
		return quick.Up(ctx, sys, l)
	})
}
