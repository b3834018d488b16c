package main

import (
	"context"

	"github.com/gowg/wgtools/internal/quick"
)

// saveMain writes an interface's running configuration to its file:
// `wg-quick save CONFIG_FILE|INTERFACE`.
func saveMain(e *env, arg string, o options) int {
	return withSys(e, arg, quickKeys, o, func(ctx context.Context, sys *quick.Sys, l *quick.Loaded) int {
		return quick.Save(ctx, sys, l)
	})
}
