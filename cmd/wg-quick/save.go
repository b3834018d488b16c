package main

import (
	"github.com/gowg/wgtools/internal/quick"
)

// saveMain writes an interface's running configuration to its file:
// `wg-quick save CONFIG_FILE|INTERFACE`.
func saveMain(e *env, arg string) int { return withSys(e, arg, quick.Save, sysOptions{}) }
