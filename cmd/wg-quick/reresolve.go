package main

import (
	"context"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/quick"
)

// envRetries is how many times wg retries a name that does not resolve.
const envRetries = "WG_ENDPOINT_RESOLUTION_RETRIES"

// reresolveMain looks up the file's endpoint host names again and updates
// the peers whose address changed and that had no handshake for 135 s:
// `wg-quick reresolve CONFIG_FILE|INTERFACE` (what users run
// wireguard-tools' contrib/reresolve-dns for, from cron; here
// wg-quick-reresolve@.timer runs it every 30 s). A name is tried once
// unless WG_ENDPOINT_RESOLUTION_RETRIES says otherwise.
func reresolveMain(e *env, arg string) int {
	return withSys(e, arg, func(ctx context.Context, sys *quick.Sys, l *quick.Loaded) int {
		opts := &conf.Options{Warn: e.warn, LookupEnv: func(k string) (string, bool) {
			if v, ok := e.lookupEnv(k); ok || k != envRetries {
				return v, ok
			}
			return "0", true
		}}
		return quick.Reresolve(ctx, sys, l, time.Now(), opts)
	}, sysOptions{stripOnly: true})
}
