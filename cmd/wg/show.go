package main

import (
	"bufio"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/show"
)

const showUsage = "Usage: %s %s { <interface> | all | interfaces } [public-key | private-key | listen-port | fwmark | peers | preshared-keys | endpoints | allowed-ips | latest-handshakes | transfer | persistent-keepalive | dump]\n"

// outBufferSize is the standard output buffer: one write per 64 KiB.
const outBufferSize = 64 << 10

// showMain is `wg show` (and bare `wg`).
func showMain(e *env, args []string) int {
	usage := func() { fmt.Fprintf(e.stderr, showUsage, e.prog, args[0]) }
	if len(args) > 3 {
		usage()
		return 1
	}
	out := bufio.NewWriterSize(e.stdout, outBufferSize)
	defer out.Flush()
	// stderr lines go out in the order a terminal would show them.
	errorf := func(format string, a ...any) {
		out.Flush()
		fmt.Fprintf(e.stderr, format, a...)
	}
	c := e.devices()
	defer c.Close()

	switch {
	case len(args) == 1 || args[1] == "all":
		names, err := c.Interfaces()
		if err != nil {
			errorf("Unable to list interfaces: %s\n", conf.Strerror(err))
			return 1
		}
		// As the reference: failure only when there were interfaces and
		// none could be read.
		ret := 0
		if len(names) > 0 {
			ret = 1
		}
		style := e.style()
		for i, name := range names {
			dev, err := c.Device(name)
			if err != nil {
				errorf("Unable to access interface %s: %s\n", name, conf.Strerror(err))
				continue
			}
			defer dev.Wipe()
			// Ages count from after this interface was read, as the
			// reference's (it reads the clock as it prints).
			style.Now = e.now()
			if len(args) == 3 {
				if !show.Field(out, dev, args[2], true) {
					errorf("Invalid parameter: `%s'\n", conf.HideKeys(args[2]))
					usage()
					return 1
				}
			} else {
				show.Pretty(out, dev, style)
				if i+1 < len(names) {
					out.WriteByte('\n')
				}
			}
			ret = 0
		}
		return ret
	case args[1] == "interfaces":
		if len(args) > 2 {
			usage()
			return 1
		}
		names, err := c.Interfaces()
		if err != nil {
			errorf("Unable to list interfaces: %s\n", conf.Strerror(err))
			return 1
		}
		for i, name := range names {
			out.WriteString(name)
			if i+1 < len(names) {
				out.WriteByte(' ')
			} else {
				out.WriteByte('\n')
			}
		}
		return 0
	case len(args) == 2 && (args[1] == "-h" || args[1] == "--help" || args[1] == "help"):
		usage()
		return 0
	}
	dev, err := c.Device(args[1])
	if err != nil {
		errorf("Unable to access interface: %s\n", conf.Strerror(err))
		return 1
	}
	defer dev.Wipe()
	if len(args) == 3 {
		if !show.Field(out, dev, args[2], false) {
			errorf("Invalid parameter: `%s'\n", conf.HideKeys(args[2]))
			usage()
			return 1
		}
		return 0
	}
	show.Pretty(out, dev, e.style())
	return 0
}

// style reads WG_COLOR_MODE (always, never, otherwise colour on a
// terminal) and WG_HIDE_KEYS (never shows the keys).
func (e *env) style() show.Style {
	st := show.Style{ShowKeys: e.getenv("WG_HIDE_KEYS") == "never", Now: e.now()}
	switch e.getenv("WG_COLOR_MODE") {
	case "always":
		st.Color = true
	case "never":
	default:
		if e.stdoutFile != nil {
			_, err := unix.IoctlGetTermios(int(e.stdoutFile.Fd()), unix.TCGETS)
			st.Color = err == nil
		}
	}
	return st
}
