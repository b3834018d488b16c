// Command mkpkg builds wgtools' .deb and .rpm packages with nfpm (as a
// library): our static wg and wg-quick, their man pages, bash completion
// and systemd units, at the paths the distributions' wireguard-tools
// package uses, declared to provide, replace and conflict with
// wireguard-tools, and depending on nothing at run time.
//
//	go run ./mkpkg -format deb -version "$(git describe)" -unitdir /lib/systemd/system -o wgtools.deb
//
// It is run by `make deb` and `make rpm` (see the Makefile), from the
// tools module, so that the wg binaries never link nfpm.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.format, "format", "deb", "package format: deb or rpm")
	flag.StringVar(&o.version, "version", "", "version, as `git describe` gives it (required)")
	flag.StringVar(&o.arch, "arch", runtime.GOARCH, "GOARCH of the binaries")
	flag.StringVar(&o.root, "root", "..", "the wgtools source tree (dist/, LICENSE)")
	flag.StringVar(&o.bindir, "bin", "", "directory holding the built wg and wg-quick (default ROOT/bin)")
	flag.StringVar(&o.unitdir, "unitdir", "", "systemd unit directory in the package (default: /lib/systemd/system for deb, /usr/lib/systemd/system for rpm)")
	flag.StringVar(&o.maintainer, "maintainer", "wgtools <https://github.com/gowg/wgtools>", "the package's Maintainer (deb) / Packager (rpm)")
	mtime := flag.String("mtime", "", "modification time of every file, Unix seconds (default: SOURCE_DATE_EPOCH, else now)")
	flag.StringVar(&o.out, "o", "", "the package file to write (required)")
	flag.Parse()
	if flag.NArg() != 0 || o.version == "" || o.out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *mtime == "" {
		*mtime = os.Getenv("SOURCE_DATE_EPOCH")
	}
	o.mtime = time.Now().UTC().Truncate(time.Second)
	if *mtime != "" {
		sec, err := strconv.ParseInt(*mtime, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mkpkg: -mtime %q: not a number of seconds\n", *mtime)
			os.Exit(2)
		}
		o.mtime = time.Unix(sec, 0).UTC()
	}
	if o.bindir == "" {
		o.bindir = o.root + "/bin"
	}
	if err := build(&o); err != nil {
		fmt.Fprintf(os.Stderr, "mkpkg: %v\n", err)
		os.Exit(1)
	}
}
