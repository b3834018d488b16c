// Command mkimage writes wgtools' container image without a container
// engine: a scratch image holding only our static wg and wg-quick in
// /usr/bin and the empty directories they use, as an OCI image layout
// (for podman, skopeo, containerd, crane) and as a tarball `docker load`
// reads. It is run by `make image`, from the tools module, with
// go-containerregistry.
//
//	go run ./mkimage -bin ../bin -version "$(git describe)" -layout ../bin/image -tar ../bin/wgtools-image.tar
//	go run ./mkimage -bin ../bin -version devel -rootfs /rootfs
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
	flag.StringVar(&o.bindir, "bin", "../bin", "directory holding the built wg and wg-quick")
	flag.StringVar(&o.version, "version", "", "the image's tag (required)")
	flag.StringVar(&o.arch, "arch", runtime.GOARCH, "GOARCH of the binaries")
	flag.StringVar(&o.layout, "layout", "", "write an OCI image layout into this directory")
	flag.StringVar(&o.tar, "tar", "", "write a `docker load` tarball to this file")
	flag.StringVar(&o.rootfs, "rootfs", "", "lay the image's files out in this directory (the Dockerfile's build stage does)")
	mtime := flag.String("mtime", "", "time of the files and the image, Unix seconds (default: SOURCE_DATE_EPOCH, else 0)")
	flag.Parse()
	if flag.NArg() != 0 || o.version == "" || o.layout == "" && o.tar == "" && o.rootfs == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *mtime == "" {
		*mtime = os.Getenv("SOURCE_DATE_EPOCH")
	}
	if *mtime != "" {
		sec, err := strconv.ParseInt(*mtime, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mkimage: -mtime %q: not a number of seconds\n", *mtime)
			os.Exit(2)
		}
		o.mtime = time.Unix(sec, 0).UTC()
	} else {
		o.mtime = time.Unix(0, 0).UTC()
	}
	if err := write(&o); err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
}
