// Command wg-quick is a drop-in replacement for WireGuard's wg-quick(8) on
// Linux: it brings a WireGuard interface up or down from a configuration
// file, saves the running configuration, and strips a file to what wg reads.
// Every change goes through netlink; where the kernel has no WireGuard
// module, an embedded userspace device (wireguard-go) carries the packets.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gowg/wgtools/internal/crash"
	"github.com/gowg/wgtools/internal/userspace"
)

// env is everything a verb may touch; main wires in the process's own.
type env struct {
	prog      string // basename of argv[0], as in the reference's messages
	self      string // this executable, for re-execution
	args      []string
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
	uid       int
	init      bool // PID 1: a container's init (see stayAsInit)
}

func (e *env) die(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "%s: %s\n", e.prog, fmt.Sprintf(format, args...))
	return 1
}

func (e *env) warn(s string) { fmt.Fprintln(e.stderr, s) }

type verb struct {
	name string
	run  func(e *env, arg string) int
	// withOptions, when set, runs a verb that takes options before its
	// CONFIG_FILE|INTERFACE (it gets every argument after the verb).
	withOptions func(e *env, args []string) int
}

var verbs = []verb{
	{"up", upMain, nil},
	{"down", downMain, nil},
	{"save", saveMain, nil},
	{"strip", stripMain, nil},
	{"doctor", nil, doctorMain},
	{"reresolve", reresolveMain, nil},
}

func usage(e *env) {
	fmt.Fprintf(e.stderr, `Usage: %[1]s [ up | down | save | strip ] [ CONFIG_FILE | INTERFACE ]

  CONFIG_FILE is a configuration file, whose filename is the interface name
  followed by `+"`"+`.conf'. Otherwise, INTERFACE is an interface name, with
  configuration found at /etc/wireguard/INTERFACE.conf. It is to be readable
  by wg(8)'s `+"`"+`setconf' sub-command, with the exception of the following additions
  to the [Interface] section, which are handled by %[1]s:

  - Address: may be specified one or more times and contains one or more
    IP addresses (with an optional CIDR mask) to be set for the interface.
  - DNS: an optional DNS server to use while the device is up.
  - MTU: an optional MTU for the interface; if unspecified, auto-calculated.
  - Table: an optional routing table to which routes will be added; if
    unspecified or `+"`"+`auto', the default table is used. If `+"`"+`off', no routes
    are added.
  - PreUp, PostUp, PreDown, PostDown: script snippets which will be executed
    by bash(1) at the corresponding phases of the link, most commonly used
    to configure DNS. The string `+"`"+`%%i' is expanded to INTERFACE.
  - SaveConfig: if set to `+"`"+`true', the configuration is saved from the current
    state of the interface upon shutdown.

See wg-quick(8) for more info and examples.
`, e.prog)
}

// run is wg-quick's main; args are the arguments after the program name.
func run(e *env, args []string) int {
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
		usage(e)
		return 0
	}
	if len(args) >= 2 {
		for _, v := range verbs {
			if v.name == args[0] && (len(args) == 2 || v.withOptions != nil) {
				if code, done := autoSu(e); done {
					return code
				}
				if v.withOptions != nil {
					return v.withOptions(e, args[1:])
				}
				return v.run(e, args[1])
			}
		}
	}
	usage(e)
	return 1
}

func main() {
	// The embedded userspace device's daemon is this binary run with a
	// reserved first argument (see internal/userspace).
	if len(os.Args) >= 2 && os.Args[1] == userspace.DaemonArg {
		os.Exit(userspace.DaemonMain(os.Args[2:], os.LookupEnv))
	}
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	e := &env{
		prog:      filepath.Base(os.Args[0]),
		self:      self,
		args:      os.Args[1:],
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		lookupEnv: os.LookupEnv,
		uid:       os.Getuid(),
		init:      os.Getpid() == 1,
	}
	os.Exit(runSafely(e, os.Args[1:]))
}

// runSafely is run with a panic turned into one line (without the
// panic's value, which could hold part of the configuration) and status 1.
func runSafely(e *env, args []string) int {
	return crash.Guard(e.stderr, e.prog, func() int { return run(e, args) })
}
