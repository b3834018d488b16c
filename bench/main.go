// Command bench is make bench's driver: it runs our wg and wg-quick and the
// reference (Debian's wireguard-tools and wireguard-go, and the newest
// wireguard-go built standalone) on identical generated configurations in
// network namespaces (internal/testnet hosts: private /run and
// /etc/wireguard), interleaving the runs of each, and prints one table:
// operation, N, reference median, ours median, ratio, and the goal of
// issue 8. Nothing here passes or fails on time: a goal that is not met is
// reported as such.
//
// It is run by bench/run.sh (make bench), which builds what it needs:
//
//	sudo make bench                 # every section, about 12 minutes
//	sudo BENCH_QUICK=1 make bench   # fewer sizes and runs, about 1.5 minutes
//	sudo make bench BENCH_ARGS='-only quick,keys'
//
// The same binary is also its own helper inside the hosts (the first
// argument __time or __upping): it times a command there, so that entering
// the namespaces (nsenter) is not part of what is measured.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options are the driver's flags.
type Options struct {
	Bin     string // our bin/ (wg, wg-quick, gostart)
	Newest  string // the newest wireguard-go, built standalone
	Quick   bool
	Only    []string
	Runs    int // runs of each fast measurement
	Out     string
	Self    string
	Seconds int // iperf3 duration
	// OursEnv is added to the environment of our wg-quick (and so of its
	// device's daemon), for experiments (GOGC=..., GOMEMLIMIT=...).
	OursEnv []string
	// Backends limits the backends compared (debian, newest, ours); all
	// when empty. Ours always runs.
	Backends []string
	// Userspace adds reference backends: the reference wg-quick with
	// another userspace implementation (LABEL=PATH), for experiments.
	Userspace []string
	// PerfEvents, when set, are counted by perf stat on each device
	// during the 4-stream iperf3 runs; PerfRecord, when set, is where
	// perf record -g writes a profile of each device in those runs.
	// OursAlt adds other builds of our wg-quick as references
	// (LABEL=PATH): a before and after in one run.
	OursAlt    []string
	PerfEvents string
	PerfRecord string
}

// sections in the order they run; each adds rows to the table.
var sectionNames = []string{"keys", "wg", "quick", "ping", "iperf", "memory"}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case helperTime:
			os.Exit(timeMain(os.Args[2:]))
		case helperUpPing:
			os.Exit(upPingMain(os.Args[2:]))
		}
	}
	var o Options
	var only string
	flag.StringVar(&o.Bin, "bin", "bin", "directory of our wg, wg-quick and gostart")
	flag.StringVar(&o.Newest, "newest", "", "the newest wireguard-go, built standalone (go install golang.zx2c4.com/wireguard@VERSION)")
	flag.BoolVar(&o.Quick, "quick", os.Getenv("BENCH_QUICK") == "1", "fewer sizes and runs (default from BENCH_QUICK=1)")
	flag.StringVar(&only, "only", "", "comma-separated sections to run ("+strings.Join(sectionNames, ",")+"); default all")
	flag.IntVar(&o.Runs, "runs", 0, "runs of each fast measurement (default 7, quick 3)")
	flag.IntVar(&o.Seconds, "seconds", 0, "iperf3 duration of each run in seconds (default 5, quick 2)")
	flag.StringVar(&o.Out, "o", "", "also write the table (markdown) to this file")
	flag.Func("backends", "comma-separated reference backends to compare with ours (debian,newest); default both", func(v string) error {
		o.Backends = strings.Split(v, ",")
		return nil
	})
	flag.Func("ours-env", "KEY=VALUE added to our wg-quick's environment (repeatable; for experiments)", func(v string) error {
		o.OursEnv = append(o.OursEnv, v)
		return nil
	})
	flag.Func("userspace", "LABEL=PATH: also compare the reference wg-quick with this userspace implementation (repeatable; for experiments)", func(v string) error {
		if l, p, ok := strings.Cut(v, "="); !ok || l == "" || p == "" {
			return fmt.Errorf("want LABEL=PATH, not %q", v)
		}
		o.Userspace = append(o.Userspace, v)
		return nil
	})
	flag.Func("ours-alt", "LABEL=PATH: also compare another build of our wg-quick (repeatable; for a before and after in one run)", func(v string) error {
		if l, p, ok := strings.Cut(v, "="); !ok || l == "" || p == "" {
			return fmt.Errorf("want LABEL=PATH, not %q", v)
		}
		o.OursAlt = append(o.OursAlt, v)
		return nil
	})
	flag.StringVar(&o.PerfEvents, "perf-events", "", "perf stat events counted on each device during the 4-stream iperf3 runs (e.g. task-clock,context-switches,page-faults)")
	flag.StringVar(&o.PerfRecord, "perf-record", "", "directory where perf record -g writes a profile of each device during the 4-stream iperf3 runs")
	flag.Parse()
	if only != "" {
		o.Only = strings.Split(only, ",")
		for _, s := range o.Only {
			if !slices.Contains(sectionNames, s) {
				fmt.Fprintf(os.Stderr, "bench: unknown section %q (sections: %s)\n", s, strings.Join(sectionNames, ","))
				os.Exit(2)
			}
		}
	}
	if o.Runs == 0 {
		o.Runs = 7
		if o.Quick {
			o.Runs = 3
		}
	}
	if o.Seconds == 0 {
		o.Seconds = 5
		if o.Quick {
			o.Seconds = 2
		}
	}
	var err error
	if o.Self, err = os.Executable(); err != nil {
		fatalf("%v", err)
	}
	if o.Bin, err = filepath.Abs(o.Bin); err != nil {
		fatalf("%v", err)
	}
	if o.Newest != "" {
		if o.Newest, err = filepath.Abs(o.Newest); err != nil {
			fatalf("%v", err)
		}
	}
	os.Exit(run(&o))
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}

func run(o *Options) int {
	d := newDriver(o)
	defer d.stopSignals()
	env, err := describe(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	start := time.Now()
	env.LoadStart = loadAvg()
	env.Costs = machineCosts(o)
	vms := otherLoad()
	// write prints the table and writes it to -o; an interrupt (^C, a
	// run cut short on a loaded machine) writes the rows measured so far.
	write := func(notes []string) bool {
		env.LoadEnd = loadAvg()
		if vms > 0 {
			env.OtherLoad = fmt.Sprintf("%d qemu VM(s) running during the run", vms)
		}
		env.Elapsed = time.Since(start)
		table := render(env, d.rows, notes)
		fmt.Print(table)
		if o.Out != "" {
			if err := os.WriteFile(o.Out, []byte(table), 0o644); err != nil {
				fmt.Fprintf(os.Stderr, "bench: %v\n", err)
				return false
			}
			fmt.Fprintf(os.Stderr, "bench: table written to %s\n", o.Out)
		}
		return true
	}
	current := ""
	d.mu.Lock()
	d.interrupted = func() {
		write(append(slices.Clone(d.notes), fmt.Sprintf("interrupted during the %s section: its rows so far, and none of the sections after it", current)))
	}
	d.mu.Unlock()
	for _, name := range sectionNames {
		if len(o.Only) > 0 && !slices.Contains(o.Only, name) {
			continue
		}
		d.mu.Lock()
		current = name
		d.mu.Unlock()
		d.section(name, func(s *Section) { sections[name](s) })
		n := otherLoad()
		d.mu.Lock()
		vms = max(vms, n)
		d.mu.Unlock()
	}
	d.mu.Lock()
	d.interrupted = nil
	d.mu.Unlock()
	if !write(d.notes) {
		return 1
	}
	if d.failed > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d section(s) could not run to the end (see above)\n", d.failed)
		return 1
	}
	return 0
}

// sections maps a section name to its function.
var sections = map[string]func(*Section){
	"keys":   keysSection,
	"wg":     wgSection,
	"quick":  quickSection,
	"ping":   pingSection,
	"iperf":  iperfSection,
	"memory": memorySection,
}
