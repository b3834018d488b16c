package main

import (
	"os"
	"path/filepath"
	"time"
)

// keysSection: `wg genkey` and `wg pubkey`, one process per call, ours
// against the C wg; and what starting any process costs here: /bin/true
// (C) against an empty Go program (the Go runtime's own start).
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
	for _, c := range cases {
		var ref, ours []time.Duration
		interleave(runs, 2, func(_, i int) {
			if i == 0 {
				ref = append(ref, s.Time(nil, c.ref).Wall)
			} else {
				ours = append(ours, s.Time(nil, c.ours).Wall)
			}
		})
		r := Row{Op: c.op, Ref: c.refLabel, RefV: median(ref).Seconds(), Ours: median(ours).Seconds(), Unit: Seconds, Runs: runs}
		if c.goal > 0 {
			r = r.absGoal(c.goal)
		} else {
			r.Ref += "; ours: an empty Go program"
		}
		s.Add(r)
	}
}
