package main

import (
	"fmt"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/quick"
)

// stripMain prints the configuration without wg-quick's own keys, for
// `wg syncconf IFACE <(wg-quick strip IFACE)`.
func stripMain(e *env, arg string, _ options) int {
	l, err := quick.Load(arg, &conf.Options{StripOnly: true}, e.warn)
	if err != nil {
		return e.die("%s", err)
	}
	fmt.Fprint(e.stdout, l.File.Strip())
	return 0
}
