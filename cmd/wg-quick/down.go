package main

import (
	"github.com/gowg/wgtools/internal/quick"
)

// downMain takes an interface down: `wg-quick down CONFIG_FILE|INTERFACE`.
func downMain(e *env, arg string) int { return withSys(e, arg, quick.Down, sysOptions{}) }
