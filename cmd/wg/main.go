// Command wg is a drop-in replacement for WireGuard's wg(8): it shows and
// changes the configuration of WireGuard interfaces, kernel and userspace
// alike, and makes keys. Output, messages and exit codes follow
// wireguard-tools (see internal/version.Reference).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/crash"
	"github.com/gowg/wgtools/internal/wgdev"
)

// env is everything a subcommand may touch; main wires in the process's
// own, tests wire in buffers.
type env struct {
	prog      string // argv[0], used in usage lines and pubkey errors
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
	// stdoutFile is the process's standard output when it is a file
	// descriptor (genkey checks who may read it, show whether it is a
	// terminal); nil in tests.
	stdoutFile *os.File
	// devices opens the device client (wgdev.New in main).
	devices func() *wgdev.Client
	// now is the clock handshake ages are counted from.
	now func() time.Time
	// resolver resolves endpoint host names; nil is the system's.
	resolver conf.Resolver
}

// parseOptions are the parser's options for this process: warnings go to
// stderr as they come, and the environment is the process's.
func (e *env) parseOptions() *conf.Options {
	return &conf.Options{
		Warn:      func(s string) { fmt.Fprintf(e.stderr, "%s\n", s) },
		LookupEnv: e.lookupEnv,
		Resolver:  e.resolver,
	}
}

// ifaceName is the name wg set and setconf use: at most IFNAMSIZ-1 bytes,
// the rest cut off as wg's strncpy does.
func ifaceName(s string) string {
	if len(s) > conf.MaxInterfaceNameLen {
		return s[:conf.MaxInterfaceNameLen]
	}
	return s
}

func (e *env) getenv(key string) string {
	v, _ := e.lookupEnv(key)
	return v
}

type subcommand struct {
	name string
	run  func(e *env, args []string) int
	help string
}

// subcommands is the dispatch table; its order and texts are the usage
// text's. Aliases share a function and branch on args[0].
var subcommands = []subcommand{
	{"show", showMain, "Shows the current configuration and device information"},
	{"showconf", showconfMain, "Shows the current configuration of a given WireGuard interface, for use with `setconf'"},
	{"set", setMain, "Change the current configuration, add peers, remove peers, or change peers"},
	{"setconf", setconfMain, "Applies a configuration file to a WireGuard interface"},
	{"addconf", setconfMain, "Appends a configuration file to a WireGuard interface"},
	{"syncconf", setconfMain, "Synchronizes a configuration file to a WireGuard interface"},
	{"genkey", genkeyMain, "Generates a new private key and writes it to stdout"},
	{"genpsk", genkeyMain, "Generates a new preshared key and writes it to stdout"},
	{"pubkey", pubkeyMain, "Reads a private key from stdin and writes a public key to stdout"},
}

func usage(e *env, w io.Writer) {
	fmt.Fprintf(w, "Usage: %s <cmd> [<args>]\n\nAvailable subcommands:\n", e.prog)
	for _, c := range subcommands {
		fmt.Fprintf(w, "  %s: %s\n", c.name, c.help)
	}
	fmt.Fprintf(w, "You may pass `--help' to any of these subcommands to view usage.\n")
}

// run is wg's main: args[0] is the program name.
func run(e *env, args []string) int {
	if len(args) == 1 {
		return showMain(e, []string{"show"})
	}
	if len(args) == 2 {
		switch args[1] {
		case "-v", "--version", "version":
			fmt.Fprintf(e.stdout, "%s\n", versionLine())
			return 0
		case "-h", "--help", "help":
			usage(e, e.stdout)
			return 0
		}
	}
	for _, c := range subcommands {
		if c.name == args[1] {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "Invalid subcommand: `%s'\n", conf.HideKeys(args[1]))
	usage(e, e.stderr)
	return 1
}

// tuneGC lets the collector run less often than Go's default: wg lives for
// milliseconds and its heap (a device with thousands of peers) is garbage
// only at exit, so collecting at every doubling costs a third of its CPU
// time. GOGC in the environment still wins (the runtime has read it: a
// percentage other than the default 100 came from there); the memory
// limit keeps huge configurations in check. The environment itself is not
// read: copying it into Go's table costs page faults at every start.
func tuneGC() {
	if prev := debug.SetGCPercent(400); prev != 100 {
		debug.SetGCPercent(prev)
		return
	}
	debug.SetMemoryLimit(1 << 30)
}

func main() {
	tuneGC()
	stdout := os.Stdout
	e := &env{
		prog:       os.Args[0],
		stdin:      os.Stdin,
		stdout:     stdout,
		stderr:     os.Stderr,
		lookupEnv:  os.LookupEnv,
		stdoutFile: stdout,
		devices:    wgdev.New,
		now:        time.Now,
	}
	os.Exit(runSafely(e, os.Args))
}

// runSafely is run with a panic turned into one line and status 1.
func runSafely(e *env, args []string) int {
	return crash.Guard(e.stderr, e.prog, func() int { return run(e, args) })
}
