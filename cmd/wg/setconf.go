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
func setconfMain(e *env, args []string) int {
	if len(args) != 3 {
		fmt.Fprintf(e.stderr, "Usage: %s %s <interface> <configuration filename>\n", e.prog, args[0])
		return 1
	}
	path := args[2]
	data, err := readConfig(path)
	if err != nil {
		var perr *os.PathError
		if errors.As(err, &perr) {
			err = perr.Err
		}
		fmt.Fprintf(e.stderr, "fopen: %s\n", conf.Strerror(err))
		return 1
	}
	defer clear(data)
	cfg, err := conf.Parse(path, data, e.parseOptions())
	if err != nil {
		fmt.Fprintf(e.stderr, "%s\n", err)
		var cerr *conf.Error
		if errors.As(err, &cerr) {
			if cerr.Stage == conf.StageFinish {
				fmt.Fprintf(e.stderr, "Invalid configuration\n")
			} else {
				fmt.Fprintf(e.stderr, "Configuration parsing error\n")
			}
			// A wg-quick file given to wg: say so, and what to do.
			if cerr.QuickKey != "" {
				fmt.Fprintf(e.stderr, "`%s' is a wg-quick key: use `wg-quick strip' to remove wg-quick's keys\n", cerr.QuickKey)
			}
		}
		return 1
	}
	defer cfg.Wipe()
	name := ifaceName(args[1])
	c := e.devices()
	defer c.Close()
	switch args[0] {
	case "setconf":
		wgdev.SetconfSemantics(cfg)
	case "syncconf":
		var runtime *conf.Device
		if len(cfg.Peers) > 0 {
			runtime, err = c.Device(name)
			if err != nil {
				fmt.Fprintf(e.stderr, "Unable to retrieve current interface configuration: %s\n", conf.Strerror(err))
				return 1
			}
		}
		wgdev.SyncconfSemantics(cfg, runtime)
	}
	if err := c.Configure(name, cfg); err != nil {
		fmt.Fprintf(e.stderr, "Unable to modify interface: %s\n", conf.Strerror(err))
		return 1
	}
	return 0
}

// readConfig reads a configuration file, but no more than one byte past
// the parser's limit (conf.MaxFileSize): a wrong path (a disk image,
// /dev/zero) is refused by the parser without filling memory.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, conf.MaxFileSize+1))
}
