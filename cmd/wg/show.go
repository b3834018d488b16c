package main

import (
	"bufio"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/show"
	"github.com/gowg/wgtools/internal/wgdev"
)

const showUsage = "Usage: %s %s { <interface> | all | interfaces } [public-key | private-key | listen-port | fwmark | peers | preshared-keys | endpoints | allowed-ips | latest-handshakes | transfer | persistent-keepalive | dump]\n"

// jsonField is our field word for the JSON document (docs/json.md); the
// reference has no such field, and the usage line, which is the
// reference's, does not name it.
const jsonField = "json"

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
	field := ""
	if len(args) == 3 {
		field = args[2]
	}
	var doc *show.JSON
	if field == jsonField && (len(args) == 1 || args[1] != "interfaces") {
		defer func() {
			if doc != nil {
				doc.End()
			}
		}()
	}
	// beginJSON starts the document once there is something to put in it
	// (a single interface that cannot be read prints no document).
	beginJSON := func() {
		if field == jsonField && doc == nil {
			doc = show.BeginJSON(out, e.style())
		}
	}

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
		beginJSON()
		style := e.style()
		for i, name := range names {
			if field != "" {
				if stream, ok := show.NewStream(out, field, true, doc); ok {
					if err := streamDevice(c, out, e.stdout, name, stream); err != nil {
						errorf("Unable to access interface %s: %s\n", name, conf.Strerror(err))
						continue
					}
					ret = 0
					continue
				}
			}
			if field == "" {
				dev, peers, err := readSorted(c, name)
				if err != nil {
					errorf("Unable to access interface %s: %s\n", name, conf.Strerror(err))
					continue
				}
				// Ages count from after the read, as the reference's.
				style.Now = e.now()
				show.PrettyPeers(out, dev, peers.Peers(), style)
				dev.Wipe()
				peers.Wipe()
				if i+1 < len(names) {
					out.WriteByte('\n')
				}
				ret = 0
				continue
			}
			// Not a field: said once a device is read, as the
			// reference does.
			dev, err := c.Device(name)
			if err != nil {
				errorf("Unable to access interface %s: %s\n", name, conf.Strerror(err))
				continue
			}
			dev.Wipe()
			errorf("Invalid parameter: `%s'\n", conf.HideKeys(field))
			usage()
			return 1
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
	if field != "" {
		// A field or json: printed as the device is read. The document
		// is begun only once the device answers, and dropped (what is
		// still buffered of it) if the device then fails.
		if field == jsonField {
			var stream *show.Stream
			err := c.StreamDevice(args[1], func(d *conf.Device) {
				beginJSON()
				stream, _ = show.NewStream(out, field, false, doc)
				stream.Header(d)
			}, func(p *conf.DevicePeer) { stream.Peer(p) })
			if err != nil {
				out.Reset(e.stdout)
				doc = nil
				errorf("Unable to access interface: %s\n", conf.Strerror(err))
				return 1
			}
			stream.End()
			return 0
		}
		if stream, ok := show.NewStream(out, field, false, nil); ok {
			if err := streamDevice(c, out, e.stdout, args[1], stream); err != nil {
				errorf("Unable to access interface: %s\n", conf.Strerror(err))
				return 1
			}
			return 0
		}
	}
	dev, peers, err := readSorted(c, args[1])
	if err != nil {
		errorf("Unable to access interface: %s\n", conf.Strerror(err))
		return 1
	}
	defer dev.Wipe()
	defer peers.Wipe()
	if field != "" {
		errorf("Invalid parameter: `%s'\n", conf.HideKeys(field))
		usage()
		return 1
	}
	show.PrettyPeers(out, dev, peers.Peers(), e.style())
	return 0
}

// readSorted reads the device name, keeping its peers for the pretty form.
func readSorted(c *wgdev.Client, name string) (*conf.Device, *show.Sorter, error) {
	var dev *conf.Device
	peers := &show.Sorter{}
	err := c.StreamDevice(name, func(d *conf.Device) { dev = d }, peers.Add)
	if err != nil {
		dev.Wipe()
		peers.Wipe()
		return nil, nil, err
	}
	return dev, peers, nil
}

// streamDevice writes the device name through stream as it is read. What
// out holds of earlier output is written first, so that if the device
// fails what is still buffered of it can be dropped: a failure in the
// first 64 KiB of output (every failure of a small device) prints nothing
// of it, as the reference, which reads the device whole first; a larger
// device that fails part way has printed its first part.
func streamDevice(c *wgdev.Client, out *bufio.Writer, stdout io.Writer, name string, stream *show.Stream) error {
	out.Flush()
	var dev *conf.Device
	err := c.StreamDevice(name, func(d *conf.Device) { dev = d; stream.Header(d) }, stream.Peer)
	defer dev.Wipe()
	if err != nil {
		out.Reset(stdout)
		if dev != nil {
			stream.Abandon()
		}
		return err
	}
	stream.End()
	return nil
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
