package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/wgdev"
)

// setconfMain is `wg setconf`, `wg addconf` and `wg syncconf` (args[0]
// says which).
//
//   - setconf replaces everything: what the file leaves out is reset (no
//     private key, a random port, no fwmark) and peers not in it are dropped.
//   - addconf applies only what the file says; peers are added or updated.
//   - syncconf resets the interface like setconf but keeps the sessions of
//     peers in both the file and the device; it removes the others.
//
// The file is read once, line by line, and its peers kept in a compact
// list (conf.PeerList): nothing is sent before the whole file has parsed,
// as the reference, and a userspace device is then sent the request as it
// is written, so that thousands of peers cost little memory.
func setconfMain(e *env, args []string) int {
	if len(args) != 3 {
		fmt.Fprintf(e.stderr, "Usage: %s %s <interface> <configuration filename>\n", e.prog, args[0])
		return 1
	}
	path := args[2]
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(e.stderr, "fopen: %s\n", conf.Strerror(pathErr(err)))
		return 1
	}
	defer f.Close()
	var peers conf.PeerList
	defer peers.Wipe()
	cfg, err := conf.ParseReader(path, io.LimitReader(f, conf.MaxFileSize+1), e.parseOptions(), peers.Add)
	if err != nil {
		var cerr *conf.Error
		var ferr *conf.FatalError
		switch {
		case errors.As(err, &cerr):
			fmt.Fprintf(e.stderr, "%s\n", err)
			if cerr.Stage == conf.StageFinish {
				fmt.Fprintf(e.stderr, "Invalid configuration\n")
			} else {
				fmt.Fprintf(e.stderr, "Configuration parsing error\n")
			}
			// A wg-quick file given to wg: say so, and what to do.
			if cerr.QuickKey != "" {
				fmt.Fprintf(e.stderr, "`%s' is a wg-quick key: use `wg-quick strip' to remove wg-quick's keys\n", cerr.QuickKey)
			}
		case errors.As(err, &ferr):
			fmt.Fprintf(e.stderr, "%s\n", err)
		default:
			// The file opened but could not be read (a directory).
			fmt.Fprintf(e.stderr, "fopen: %s\n", conf.Strerror(pathErr(err)))
		}
		return 1
	}
	defer cfg.Wipe()
	name := ifaceName(args[1])
	c := e.devices()
	defer c.Close()
	more := peers.All()
	switch args[0] {
	case "setconf":
		wgdev.SetconfSemantics(cfg)
	case "syncconf":
		sync := wgdev.NewSync(more, peers.Len())
		if peers.Len() > 0 {
			err := c.StreamDevice(name, func(d *conf.Device) { d.Wipe() }, func(p *conf.DevicePeer) { sync.DevicePeer(p.PublicKey) })
			if err != nil {
				fmt.Fprintf(e.stderr, "Unable to retrieve current interface configuration: %s\n", conf.Strerror(err))
				return 1
			}
		}
		more = sync.Apply(cfg, more)
	}
	if err := c.ConfigureStream(name, cfg, more); err != nil {
		fmt.Fprintf(e.stderr, "Unable to modify interface: %s\n", conf.Strerror(err))
		return 1
	}
	return 0
}

// pathErr is the errno of a failed open or read, as perror prints it.
func pathErr(err error) error {
	var perr *os.PathError
	if errors.As(err, &perr) {
		return perr.Err
	}
	return err
}
