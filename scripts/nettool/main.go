// Command nettool is the demo's toolbox inside its network namespaces:
//
//	nettool serve ADDR   answer HTTP with "hello, wireguard"
//	nettool get URL      print the body
//	nettool ping ADDR    one echo request, exit 0 when answered within a second
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/gowg/wgtools/internal/nettool"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: nettool serve ADDR | get URL | ping ADDR")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = nettool.Serve(os.Args[2], os.Stdout)
	case "get":
		var body string
		if body, err = nettool.Get(os.Args[2], 5*time.Second); err == nil {
			fmt.Println(body)
		}
	case "ping":
		err = nettool.Ping(os.Args[2], time.Second)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nettool:", err)
		os.Exit(1)
	}
}
