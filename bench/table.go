package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Unit says how a row's values print.
type Unit int

const (
	Seconds  Unit = iota // durations, as float seconds
	Gbits                // throughput, Gbit/s
	KiB                  // memory
	Fraction             // a share (printed as a percentage)
	Count                // a number of things (page faults)
)

// Row is one line of the table. Ratio is Ours/Ref.
type Row struct {
	Op   string
	N    int    // 0: not applicable
	Ref  string // what the reference is, for this row
	RefV float64
	Ours float64
	Unit Unit
	// Goal is issue 8's goal for the row, as text; Met says whether this
	// run reached it (nil: no goal, or nothing to compare).
	Goal string
	Met  *bool
	// Runs is how many runs each median is of.
	Runs int
	// Share prints the ratio as a percentage (ours as a share of the
	// reference, e.g. of the bare link).
	Share bool
}

// ratioGoal sets a goal "ours/ref <= max" (higher false) or ">= min".
func (r Row) ratioGoal(limit float64, atMost bool) Row {
	if atMost {
		r.Goal = "ours/ref ≤ " + trimFloat(limit)
	} else {
		r.Goal = "ours/ref ≥ " + trimFloat(limit)
	}
	if r.RefV > 0 && r.Ours > 0 {
		met := r.Ours/r.RefV <= limit
		if !atMost {
			met = r.Ours/r.RefV >= limit
		}
		r.Met = &met
	}
	return r
}

// absGoal sets a goal "ours <= limit" (in the row's unit).
func (r Row) absGoal(limit float64) Row {
	r.Goal = "ours ≤ " + formatValue(limit, r.Unit)
	if r.Ours > 0 {
		met := r.Ours <= limit
		r.Met = &met
	}
	return r
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3g", v)
	return s
}

func formatValue(v float64, u Unit) string {
	if v == 0 || math.IsNaN(v) {
		return "–"
	}
	switch u {
	case Seconds:
		switch {
		case v < 1e-3:
			return fmt.Sprintf("%.0f µs", v*1e6)
		case v < 10e-3:
			return fmt.Sprintf("%.2f ms", v*1e3)
		case v < 1:
			return fmt.Sprintf("%.1f ms", v*1e3)
		default:
			return fmt.Sprintf("%.2f s", v)
		}
	case Gbits:
		return fmt.Sprintf("%.2f Gbit/s", v)
	case KiB:
		if v < 1024 {
			return fmt.Sprintf("%.1f KiB", v)
		}
		return fmt.Sprintf("%.1f MiB", v/1024)
	case Fraction:
		return fmt.Sprintf("%.0f%%", v*100)
	case Count:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprint(v)
}

func formatRatio(r Row) string {
	if r.RefV <= 0 || r.Ours <= 0 {
		return "–"
	}
	q := r.Ours / r.RefV
	if r.Share {
		return fmt.Sprintf("%.1f%%", 100*q)
	}
	s := fmt.Sprintf("%.3g", q)
	if r.Unit == Seconds && q < 0.5 {
		s += fmt.Sprintf(" (%.0fx faster)", 1/q)
	}
	return s
}

func (r Row) progress() string {
	n := ""
	if r.N > 0 {
		n = fmt.Sprintf(" N=%d", r.N)
	}
	return fmt.Sprintf("%s%s: ref %s, ours %s, ratio %s", r.Op, n, formatValue(r.RefV, r.Unit), formatValue(r.Ours, r.Unit), formatRatio(r))
}

// Env describes the machine and the tools of one run.
type Env struct {
	Date      time.Time
	CPU       string
	Cores     int
	Kernel    string
	Go        string
	Tools     []string
	Quick     bool
	Runs      int
	Seconds   int
	LoadStart string
	LoadEnd   string
	OtherLoad string // other heavy work seen during the run
	OursEnv   []string
	// Costs is what starting a process and faulting in a page cost here
	// (machineCosts), so that runs on different kinds of machine can be
	// told apart.
	Costs   string
	Elapsed time.Duration
}

func describe(o *Options) (*Env, error) {
	e := &Env{Date: time.Now(), Cores: runtime.NumCPU(), Go: runtime.Version(), Quick: o.Quick, Runs: o.Runs, Seconds: o.Seconds, OursEnv: o.OursEnv}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
	version := func(label string, args ...string) string {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return label + ": (not found)"
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return label + ": " + line
	}
	e.Tools = []string{
		version("ours", o.Bin+"/wg", "--version"),
		version("reference wg", "/usr/bin/wg", "--version"),
		"reference wg-quick: /usr/bin/wg-quick (bash, Debian's wireguard-tools)",
		version("Debian wireguard-go", "/usr/bin/wireguard-go", "--version"),
	}
	if o.Newest != "" {
		e.Tools = append(e.Tools, version("newest wireguard-go (standalone)", o.Newest, "--version"))
	}
	return e, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// render prints the table as markdown, with the machine and load first.
func render(e *Env, rows []Row, notes []string) string {
	var b strings.Builder
	mode := "full"
	if e.Quick {
		mode = "quick (BENCH_QUICK=1)"
	}
	fmt.Fprintf(&b, "\n### make bench, %s (%s run, %s)\n\n", e.Date.Format("2006-01-02 15:04 MST"), mode, e.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "Machine: %s, %d cores, Linux %s, %s. Load average (1, 5, 15 min) at start %s, at end %s",
		e.CPU, e.Cores, e.Kernel, e.Go, e.LoadStart, e.LoadEnd)
	if e.OtherLoad != "" {
		fmt.Fprintf(&b, "; %s", e.OtherLoad)
	}
	fmt.Fprintf(&b, ".\n")
	if e.Costs != "" {
		fmt.Fprintf(&b, "What this machine charges: %s.\n", e.Costs)
	}
	fmt.Fprintf(&b, "Medians of the runs counted in column n, ours and the reference interleaved (each run of one then of the other, the first of them alternating); iperf3 runs last %d s. Lower is better but for throughput.\n\n", e.Seconds)
	for _, t := range e.Tools {
		fmt.Fprintf(&b, "- %s\n", t)
	}
	if len(e.OursEnv) > 0 {
		fmt.Fprintf(&b, "- ours ran with %s in its environment (-ours-env)\n", strings.Join(e.OursEnv, " "))
	}
	fmt.Fprintf(&b, "\n| operation | N | reference | n | ref. median | ours median | ours/ref | goal (issues 8, 17) | met |\n")
	fmt.Fprintf(&b, "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |\n")
	for _, r := range rows {
		n := ""
		if r.N > 0 {
			n = fmt.Sprint(r.N)
		}
		met := ""
		if r.Met != nil {
			met = "yes"
			if !*r.Met {
				met = "**no**"
			}
		}
		runs := ""
		if r.Runs > 0 {
			runs = fmt.Sprint(r.Runs)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Op, n, r.Ref, runs, formatValue(r.RefV, r.Unit), formatValue(r.Ours, r.Unit), formatRatio(r), r.Goal, met)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// otherLoad counts the qemu VMs running beside the benchmark (the machine
// is shared).
func otherLoad() int {
	out, err := exec.Command("ps", "-eo", "comm=").Output()
	if err != nil {
		return 0
	}
	n := 0
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "qemu-system") {
			n++
		}
	}
	return n
}
