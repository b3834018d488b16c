package main

import (
	"bufio"
	"fmt"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/show"
)

// showconfMain is `wg showconf IFACE`: the device's configuration in the
// file format setconf reads, private key included.
func showconfMain(e *env, args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(e.stderr, "Usage: %s %s <interface>\n", e.prog, args[0])
		return 1
	}
	c := e.devices()
	defer c.Close()
	// Printed as the device is read (see streamDevice).
	out := bufio.NewWriterSize(e.stdout, outBufferSize)
	defer out.Flush()
	stream, _ := show.NewStream(out, "showconf", false, nil)
	if err := streamDevice(c, out, e.stdout, args[1], stream); err != nil {
		fmt.Fprintf(e.stderr, "Unable to access interface: %s\n", conf.Strerror(err))
		return 1
	}
	return 0
}
