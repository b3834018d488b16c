package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// keysSection: `wg genkey` and `wg pubkey`, one process per call, ours
// against the C wg and (CPU time, page faults: issue 17's start goal)
// against an empty Go program built the same way; and what starting any
// process costs here: /bin/true (C) against an empty Go program (the Go
// runtime's own start).
func keysSection(s *Section) {
	runs := 101
	if s.o.Quick {
		runs = 31
	}
	dir, err := os.MkdirTemp("", "wgbench-keys-")
	if err != nil {
		s.Fatalf("%v", err)
	}
	s.Cleanup(func() { os.RemoveAll(dir) })
	keyFile := filepath.Join(dir, "private.key")
	if err := os.WriteFile(keyFile, []byte(newPrivate().String()+"\n"), 0o600); err != nil {
		s.Fatalf("%v", err)
	}
	type cmp struct {
		op        string
		ref, ours Cmd
		refLabel  string
		goal      float64
	}
	cases := []cmp{
		{op: "process start (empty program)", refLabel: "/bin/true (C)",
			ref: Cmd{Args: []string{"/bin/true"}}, ours: Cmd{Args: []string{s.o.Bin + "/gostart"}}},
		{op: "wg genkey (per call)", refLabel: "C wg 1.0.20210914", goal: 1.3e-3,
			ref: Cmd{Args: []string{"/usr/bin/wg", "genkey"}}, ours: Cmd{Args: []string{s.o.Bin + "/wg", "genkey"}}},
		{op: "wg pubkey (per call)", refLabel: "C wg 1.0.20210914", goal: 1.3e-3,
			ref:  Cmd{Args: []string{"/usr/bin/wg", "pubkey"}, Stdin: keyFile},
			ours: Cmd{Args: []string{s.o.Bin + "/wg", "pubkey"}, Stdin: keyFile}},
	}
	gostart := Cmd{Args: []string{s.o.Bin + "/gostart"}}
	for _, c := range cases {
		// The reference, ours and (for wg's rows) the empty Go program,
		// interleaved.
		impls := []Cmd{c.ref, c.ours, gostart}
		if c.goal == 0 {
			impls = impls[:2]
		}
		samples := make([][]Sample, len(impls))
		interleave(runs, len(impls), func(_, i int) {
			samples[i] = append(samples[i], s.Time(nil, impls[i]))
		})
		r := Row{Op: c.op, Ref: c.refLabel, RefV: medianWall(samples[0]), Ours: medianWall(samples[1]), Unit: Seconds, Runs: runs}
		if c.goal > 0 {
			r = r.absGoal(c.goal)
		} else {
			r.Ref += "; ours: an empty Go program"
		}
		s.Add(r)
		if c.goal == 0 {
			s.Add(Row{Op: c.op + ", page faults", Ref: "/bin/true (C); ours: an empty Go program", RefV: medianFaults(samples[0]), Ours: medianFaults(samples[1]), Unit: Count, Runs: runs})
			continue
		}
		// Issue 17: wg's own start at most 10% dearer than an empty Go
		// program built the same way (CPU time, the faults behind it).
		s.Add(Row{Op: c.op + ", CPU time", Ref: "an empty Go program (bin/gostart)", RefV: medianCPU(samples[2]), Ours: medianCPU(samples[1]), Unit: Seconds, Runs: runs}.ratioGoal(1.1, true))
		s.Add(Row{Op: c.op + ", page faults", Ref: fmt.Sprintf("an empty Go program (C wg: %.0f)", medianFaults(samples[0])), RefV: medianFaults(samples[2]), Ours: medianFaults(samples[1]), Unit: Count, Runs: runs}.ratioGoal(1.1, true))
	}
}

func medianWall(l []Sample) float64 {
	return medianOf(l, func(s Sample) float64 { return s.Wall.Seconds() })
}
func medianCPU(l []Sample) float64 {
	return medianOf(l, func(s Sample) float64 { return s.CPU.Seconds() })
}
func medianFaults(l []Sample) float64 {
	return medianOf(l, func(s Sample) float64 { return float64(s.Faults) })
}

func medianOf(l []Sample, f func(Sample) float64) float64 {
	v := make([]float64, len(l))
	for i, s := range l {
		v[i] = f(s)
	}
	return medianF(v)
}
