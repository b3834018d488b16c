package main

import (
	"context"
	"os"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/osys"
	"github.com/gowg/wgtools/internal/quick"
)

// reading is how much of the configuration a verb reads.
type reading int

const (
	// whole: every value checked, endpoint names resolved (up).
	whole reading = iota
	// quickKeys: wg-quick's keys only, as the reference reads them; the
	// wg part is neither parsed nor resolved (save; reresolve, which
	// resolves the names itself).
	quickKeys
	// quickKeysLenient: quickKeys, with a malformed SaveConfig or Table
	// a warning (down must take the interface away whatever the file
	// has become).
	quickKeysLenient
)

// withSys reads the configuration, wires the machine in, and runs verb
// with SIGINT/SIGTERM/SIGHUP turned into a cancelled context (or, with
// --dry-run, prints its plan). Only up
// installs firewall rules, so only up reads WG_QUICK_FIREWALL (a wrong
// value must not stop a down).
func withSys(e *env, arg string, how reading, o options, verb func(context.Context, *quick.Sys, *quick.Loaded) int) int {
	opts := &conf.Options{
		Warn:      e.warn,
		LookupEnv: e.lookupEnv,
		StripOnly: how != whole,
		Lenient:   how == quickKeysLenient,
	}
	l, err := quick.Load(arg, opts, e.warn)
	if err != nil {
		return e.die("%s", err)
	}
	defer l.Wipe()
	up := how == whole
	backend := firewall.Auto
	if up || o.verb == "reload" {
		v, _ := e.lookupEnv(firewall.EnvBackend)
		if backend, err = firewall.ParseBackend(v); err != nil {
			return e.die("%s", err)
		}
	}
	ctx, stop := osys.WithSignals(context.Background())
	defer stop()
	sys, _, closeSys := newOSSys(osOptions{
		Prog:      e.prog,
		Self:      e.self,
		Environ:   os.Environ(),
		LookupEnv: e.lookupEnv,
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Firewall:  backend,
	})
	defer closeSys()
	if o.dryRun {
		return quick.DryRun(ctx, sys, l, o.verb, quick.DryRunOptions{JSON: o.json, Hooks: o.hooks, Resolve: resolveOptions(e)})
	}
	return verb(ctx, sys, l)
}

// envRetries is how many times wg retries a name that does not resolve.
const envRetries = "WG_ENDPOINT_RESOLUTION_RETRIES"

// resolveOptions are how reresolve (and its dry run) resolves names: a
// name is tried once unless WG_ENDPOINT_RESOLUTION_RETRIES says otherwise.
func resolveOptions(e *env) *conf.Options {
	return &conf.Options{Warn: e.warn, LookupEnv: func(k string) (string, bool) {
		if v, ok := e.lookupEnv(k); ok || k != envRetries {
			return v, ok
		}
		return "0", true
	}}
}
