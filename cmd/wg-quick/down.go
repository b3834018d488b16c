package main

import (
	"context"

	"github.com/gowg/wgtools/internal/quick"
)

// downMain takes an interface down: `wg-quick down CONFIG_FILE|INTERFACE`.
func downMain(e *env, arg string, o options) int {
	return withSys(e, arg, quickKeysLenient, o, func(ctx context.Context, sys *quick.Sys, l *quick.Loaded) int {
		return quick.Down(ctx, sys, l)
	})
}
