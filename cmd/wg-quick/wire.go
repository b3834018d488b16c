package main

import (
	"context"
	"os"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/quick"
)

// sysOptions say how a verb reads its file and what it needs.
type sysOptions struct {
	// firewall: the verb installs firewall rules (up), so it reads
	// WG_QUICK_FIREWALL (a wrong value must not stop a down).
	firewall bool
	// stripOnly: the verb needs only the file's lines, not its wg part
	// checked and resolved (reresolve resolves names itself).
	stripOnly bool
}

// withSys reads the configuration, wires the machine in, and runs verb
// with SIGINT/SIGTERM/SIGHUP turned into a cancelled context.
func withSys(e *env, arg string, verb func(context.Context, *quick.Sys, *quick.Loaded) int, o sysOptions) int {
	opts := &conf.Options{
		Warn:      e.warn,
		LookupEnv: e.lookupEnv,
		StripOnly: o.stripOnly,
	}
	l, err := quick.Load(arg, opts, e.warn)
	if err != nil {
		return e.die("%s", err)
	}
	defer l.File.Config.Wipe()
	backend := firewall.Auto
	if o.firewall {
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
