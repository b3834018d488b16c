package main

import (
	"github.com/gowg/wgtools/internal/quick"
)

// upMain brings an interface up: `wg-quick up CONFIG_FILE|INTERFACE`.
// As a container's init (PID 1) it then stays, since its exit would end
// every process of the container, the embedded device among them: see
// stayAsInit.
func upMain(e *env, arg string) int {
	if !e.init {
		return withSys(e, arg, quick.Up, sysOptions{firewall: true})
	}
	sigs := initSignals()
	code := withSys(e, arg, quick.Up, sysOptions{firewall: true})
	if code != 0 {
		return code
	}
	return stayAsInit(e, arg, sigs)
}
