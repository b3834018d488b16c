package main

import (
	"context"
	"os"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/quick"
)

// withSys reads the configuration, wires the machine in, and runs verb
// with SIGINT/SIGTERM/SIGHUP turned into a cancelled context. Only up
// installs firewall rules, so only up reads WG_QUICK_FIREWALL (a wrong
// value must not stop a down).
func withSys(e *env, arg string, verb func(context.Context, *quick.Sys, *quick.Loaded) int, up bool) int {
	opts := &conf.Options{
		Warn:      e.warn,
		LookupEnv: e.lookupEnv,
	}
	l, err := quick.Load(arg, opts, e.warn)
	if err != nil {
		return e.die("%s", err)
	}
	defer l.File.Config.Wipe()
	backend := firewall.Auto
	if up {
		v, _ := e.lookupEnv(firewall.EnvBackend)
		if backend, err = firewall.ParseBackend(v); err != nil {
			return e.die("%s", err)
		}
	}
	ctx, stop := quick.WithSignals(context.Background())
	defer stop()
	sys, closeSys := quick.NewOSSys(quick.OSOptions{
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
	return verb(ctx, sys, l)
}
