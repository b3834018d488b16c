package main

import (
	"github.com/gowg/wgtools/internal/quick"
)

// upMain brings an interface up: `wg-quick up CONFIG_FILE|INTERFACE`.
func upMain(e *env, arg string) int { return withSys(e, arg, quick.Up, sysOptions{firewall: true}) }
