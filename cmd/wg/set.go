package main

import (
	"fmt"

	"github.com/gowg/wgtools/internal/conf"
)

const setUsage = "Usage: %s %s <interface> [listen-port <port>] [fwmark <mark>] [private-key <file path>] [peer <base64 public key> [remove] [preshared-key <file path>] [endpoint <ip>:<port>] [persistent-keepalive <interval seconds>] [allowed-ips [+|-]<ip1>/<cidr1>[,[+|-]<ip2>/<cidr2>]...] ]...\n"

// setMain is `wg set IFACE ...`: every argument is parsed (and every
// endpoint resolved) before anything is sent.
func setMain(e *env, args []string) int {
	if len(args) < 3 {
		fmt.Fprintf(e.stderr, setUsage, e.prog, args[0])
		return 1
	}
	cfg, err := conf.ParseSetArgs(args[2:], e.parseOptions())
	if err != nil {
		fmt.Fprintf(e.stderr, "%s\n", err)
		return 1
	}
	defer cfg.Wipe()
	c := e.devices()
	defer c.Close()
	if err := c.Configure(ifaceName(args[1]), cfg); err != nil {
		fmt.Fprintf(e.stderr, "Unable to modify interface: %s\n", conf.Strerror(err))
		return 1
	}
	return 0
}
