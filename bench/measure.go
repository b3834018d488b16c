package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gowg/wgtools/internal/nettool"
	"github.com/gowg/wgtools/internal/testnet"
)

// The helper modes of the driver's binary, run inside a host.
const (
	helperTime   = "__time"
	helperUpPing = "__upping"
)

// basePath is the PATH of every timed command: Debian's wg, ip and
// wireguard-go for the reference.
const basePath = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

// Cmd is a command to time inside a host.
type Cmd struct {
	Args   []string
	Env    []string // besides basePath
	Stdin  string   // a file as the host sees it; "" is /dev/null
	Stdout string   // a file as the host sees it; "" is /dev/null
	Ping   string   // __upping: the address to ping once Args is done
}

// Sample is one timed run.
type Sample struct {
	Wall   time.Duration // from start to exit
	CPU    time.Duration // the process's user+system time (and its waited-for children's)
	MaxRSS int64         // KiB, the process's peak
	Ping   time.Duration // __upping: from start to the first echo reply
	Faults int64         // the process's minor page faults (and its waited-for children's)
}

type envList []string

func (e *envList) String() string     { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

func helperFlags(name string) (*flag.FlagSet, *envList, *string, *string, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	env := &envList{}
	fs.Var(env, "e", "KEY=VALUE for the command's environment (repeatable)")
	stdin := fs.String("stdin", "", "the command's standard input")
	stdout := fs.String("stdout", "", "the command's standard output")
	ping := fs.String("ping", "", "address to ping once the command is done")
	return fs, env, stdin, stdout, ping
}

// start prepares the command of a helper: absolute path resolved before
// the clock starts, standard input and output opened.
func prepare(args []string, env []string, stdin, stdout string) (*exec.Cmd, error) {
	if len(args) == 0 {
		return nil, errors.New("no command")
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: path, Args: args, Env: append([]string{basePath}, env...), Dir: "/"}
	if stdin == "" {
		stdin = os.DevNull
	}
	if cmd.Stdin, err = os.Open(stdin); err != nil {
		return nil, err
	}
	if stdout == "" {
		stdout = os.DevNull
	}
	if cmd.Stdout, err = os.Create(stdout); err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	return cmd, nil
}

// timeMain is `bench __time [-e K=V]... [-stdin F] [-stdout F] -- CMD...`:
// it runs CMD once and prints "RESULT wall cpu maxrss 0 faults" (ns, ns,
// KiB, -, minor page faults).
func timeMain(args []string) int {
	fs, env, stdin, stdout, _ := helperFlags(helperTime)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmd, err := prepare(fs.Args(), *env, *stdin, *stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", helperTime, err)
		return 2
	}
	_, wall, ok := runTimed(cmd)
	if !ok {
		return 1
	}
	fmt.Printf("RESULT %d %d %d 0 %d\n", wall, cpuOf(cmd.ProcessState), rssOf(cmd.ProcessState), faultsOf(cmd.ProcessState))
	return 0
}

// upPingMain is `bench __upping -ping ADDR [-e K=V]... -- CMD...`: it runs
// CMD (wg-quick up), then pings ADDR until a reply comes back, and prints
// "RESULT wall cpu maxrss ping faults" (ns, ns, KiB, ns from CMD's start,
// minor page faults).
func upPingMain(args []string) int {
	fs, env, stdin, stdout, ping := helperFlags(helperUpPing)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmd, err := prepare(fs.Args(), *env, *stdin, *stdout)
	if err != nil || *ping == "" {
		fmt.Fprintf(os.Stderr, "%s: %v (and -ping is needed)\n", helperUpPing, err)
		return 2
	}
	start, wall, ok := runTimed(cmd)
	if !ok {
		return 1
	}
	// One echo at a time, each given 20 ms: the first is queued by the
	// device until its handshake is done, so it is normally the one
	// answered.
	deadline := start.Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if nettool.Ping(*ping, 20*time.Millisecond) == nil {
			fmt.Printf("RESULT %d %d %d %d %d\n", wall, cpuOf(cmd.ProcessState), rssOf(cmd.ProcessState), time.Since(start), faultsOf(cmd.ProcessState))
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "%s: no ping reply from %s within 5s\n", helperUpPing, *ping)
	return 1
}

// runTimed runs cmd and returns when it started and how long it ran; ok is
// false (the failure said on stderr) when it failed.
func runTimed(cmd *exec.Cmd) (start time.Time, wall time.Duration, ok bool) {
	start = time.Now()
	err := cmd.Run()
	wall = time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(cmd.Args, " "), err)
		return start, wall, false
	}
	return start, wall, true
}

func cpuOf(ps *os.ProcessState) time.Duration { return ps.UserTime() + ps.SystemTime() }

func faultsOf(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Minflt
	}
	return 0
}

func rssOf(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// Time runs c in h (nil: where the driver runs, for commands that touch
// no network) through the helper and returns its sample. A failure ends
// the section.
func (s *Section) Time(h *testnet.Host, c Cmd) Sample {
	mode := helperTime
	if c.Ping != "" {
		mode = helperUpPing
	}
	args := []string{mode}
	for _, e := range c.Env {
		args = append(args, "-e", e)
	}
	if c.Stdin != "" {
		args = append(args, "-stdin", c.Stdin)
	}
	if c.Stdout != "" {
		args = append(args, "-stdout", c.Stdout)
	}
	if c.Ping != "" {
		args = append(args, "-ping", c.Ping)
	}
	args = append(append(args, "--"), c.Args...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	where := "the machine's namespaces"
	if h != nil {
		cmd = h.Command(ctx, s.o.Self, args...)
		where = h.Name
	} else {
		cmd = exec.CommandContext(ctx, s.o.Self, args...)
	}
	cmd.Env = []string{basePath}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.Fatalf("%s in %s: %v\n%s", strings.Join(c.Args, " "), where, err, tail(errb.String(), 2000))
	}
	var smp Sample
	for line := range strings.SplitSeq(out.String(), "\n") {
		f, ok := strings.CutPrefix(line, "RESULT ")
		if !ok {
			continue
		}
		n := strings.Fields(f)
		num := func(i int) int64 {
			if i >= len(n) {
				return 0
			}
			v, _ := strconv.ParseInt(n[i], 10, 64)
			return v
		}
		smp = Sample{Wall: time.Duration(num(0)), CPU: time.Duration(num(1)), MaxRSS: num(2), Ping: time.Duration(num(3)), Faults: num(4)}
		return smp
	}
	s.Fatalf("%s in %s: no result\n%s%s", strings.Join(c.Args, " "), where, out.String(), tail(errb.String(), 2000))
	return smp
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// median of a list of durations (the mean of the middle two for an even
// count); 0 for none.
func median(list []time.Duration) time.Duration {
	if len(list) == 0 {
		return 0
	}
	l := slices.Clone(list)
	slices.Sort(l)
	if len(l)%2 == 1 {
		return l[len(l)/2]
	}
	return (l[len(l)/2-1] + l[len(l)/2]) / 2
}

func medianI(list []int64) float64 {
	f := make([]float64, len(list))
	for i, v := range list {
		f[i] = float64(v)
	}
	return medianF(f)
}

func medianF(list []float64) float64 {
	if len(list) == 0 {
		return 0
	}
	l := slices.Clone(list)
	slices.Sort(l)
	if len(l)%2 == 1 {
		return l[len(l)/2]
	}
	return (l[len(l)/2-1] + l[len(l)/2]) / 2
}

// interleave calls f(run, i) for every run and every implementation
// index i, rotating which implementation goes first from one run to the
// next, so that neither side always runs on a warmer (or busier) machine.
func interleave(runs, impls int, f func(run, i int)) {
	for r := range runs {
		for k := range impls {
			f(r, (k+r)%impls)
		}
	}
}
