package main

import (
	"context"
	"os"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/quick"
)

// reading is how much of the configuration a verb reads.
type reading int

const (
	// whole: every value checked, endpoint names resolved (up).
	whole reading = iota
	// quickKeys: wg-quick's keys only, as the reference reads them; the
	// wg part is neither parsed nor resolved (save).
	quickKeys
	// quickKeysLenient: quickKeys, with a malformed SaveConfig or Table
	// a warning (down must take the interface away whatever the file
	// has become).
	quickKeysLenient
)

// withSys reads the configuration, wires the machine in, and runs verb
// with SIGINT/SIGTERM/SIGHUP turned into a cancelled context. Only up
// installs firewall rules, so only up reads WG_QUICK_FIREWALL (a wrong
// value must not stop a down).
func withSys(e *env, arg string, verb func(context.Context, *quick.Sys, *quick.Loaded) int, how reading) int {
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
