package main

import (
	"context"
	"time"

	"github.com/gowg/wgtools/internal/quick"
)

// reresolveMain looks up the file's endpoint host names again and updates
// the peers whose address changed and that had no handshake for 135 s:
// `wg-quick reresolve CONFIG_FILE|INTERFACE` (what users run
// wireguard-tools' contrib/reresolve-dns for, from cron; here
// wg-quick-reresolve@.timer runs it every 30 s). With --dry-run, it
// prints the `wg set` lines it would run (names are looked up, nothing is
// set).
func reresolveMain(e *env, arg string, o options) int {
	return withSys(e, arg, quickKeys, o, func(ctx context.Context, sys *quick.Sys, l *quick.Loaded) int {
		return quick.Reresolve(ctx, sys, l, time.Now(), resolveOptions(e))
	})
}
