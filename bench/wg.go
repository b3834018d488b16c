package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
)

// wgSection: wg commands on a device with 5000 peers, and 20,000 in a full
// run (each with an endpoint, a /32 and every other one a /128), ours
// against the C wg, both talking to the same device (our embedded one,
// brought up empty by our wg-quick). First, with the device still empty,
// `wg show IF` against an empty Go program run the same way (issue 17's
// start goal). The wall time includes the device's work (it answers the
// request), as for a user; the wg process's own CPU time and page faults
// are given too (issue 17: CPU time at most the C wg's). syncconf goes
// from the peers to a file where a tenth changed (one in twenty peers
// replaced, one in twenty with another allowed IP): the device is set back
// with setconf (untimed) before each run.
func wgSection(s *Section) {
	h := s.Host(hostPrefix)
	pk := newPrivate()
	in := iface{Private: pk, Port: 51820}
	h.WriteFile("/etc/wireguard/"+ifName+".conf", []byte(iface{Private: pk, Port: 51820, Extra: []string{"Table = off", "MTU = 1420"}}.String()), 0o600)
	ours := s.ours()
	s.Time(h, ours.quick("up", ifName))
	s.Cleanup(func() { h.Run(ours.WGQuick, "down", ifName) })
	wgs := []struct{ label, bin string }{{"c", "/usr/bin/wg"}, {"ours", s.o.Bin + "/wg"}}

	// wg show of the empty interface: C, ours and the empty Go program.
	{
		runs := 31
		if s.o.Quick {
			runs = 11
		}
		impls := []Cmd{{Args: []string{wgs[0].bin, "show", ifName}}, {Args: []string{wgs[1].bin, "show", ifName}}, {Args: []string{s.o.Bin + "/gostart"}}}
		samples := make([][]Sample, len(impls))
		interleave(runs, len(impls), func(_, i int) { samples[i] = append(samples[i], s.Time(h, impls[i])) })
		op := "wg show IF (empty interface)"
		s.Add(Row{Op: op, Ref: "C wg (wall, device included)", RefV: medianWall(samples[0]), Ours: medianWall(samples[1]), Unit: Seconds, Runs: runs})
		s.Add(Row{Op: op + ", CPU time", Ref: "an empty Go program (bin/gostart)", RefV: medianCPU(samples[2]), Ours: medianCPU(samples[1]), Unit: Seconds, Runs: runs}.ratioGoal(1.1, true))
		s.Add(Row{Op: op + ", page faults", Ref: fmt.Sprintf("an empty Go program (C wg: %.0f)", medianFaults(samples[0])), RefV: medianFaults(samples[2]), Ours: medianFaults(samples[1]), Unit: Count, Runs: runs}.ratioGoal(1.1, true))
	}

	sizes := []int{5000, 20000}
	if s.o.Quick {
		sizes = sizes[:1]
	}
	for _, n := range sizes {
		runs := s.o.Runs
		if n > 5000 {
			runs = min(runs, 3)
		}
		peers := genPeers(n, true)
		h.WriteFile("/run/wgbench/a.conf", []byte(config(in, peers)), 0o600)
		h.WriteFile("/run/wgbench/b.conf", []byte(config(in, changed(peers))), 0o600)
		setA := func(bin string) { s.Time(h, Cmd{Args: []string{bin, "setconf", ifName, "/run/wgbench/a.conf"}}) }
		setA(wgs[1].bin)
		cases := []struct {
			op    string
			args  []string
			reset bool // set the device back to a.conf before each run
		}{
			{op: "wg show IF dump", args: []string{"show", ifName, "dump"}},
			{op: "wg showconf IF", args: []string{"showconf", ifName}},
			{op: "wg show IF (pretty)", args: []string{"show", ifName}},
			{op: "wg setconf IF (same file)", args: []string{"setconf", ifName, "/run/wgbench/a.conf"}},
			{op: "wg syncconf IF (10% changed)", args: []string{"syncconf", ifName, "/run/wgbench/b.conf"}, reset: true},
		}
		if n > 5000 {
			// 20,000 peers: what issue 17 names (show dump, setconf, syncconf).
			cases = []struct {
				op    string
				args  []string
				reset bool
			}{cases[0], cases[3], cases[4]}
		}
		for _, c := range cases {
			samples := make([][]Sample, 2)
			interleave(runs, 2, func(run, i int) {
				if c.reset {
					setA(wgs[1].bin)
				}
				out := ""
				if run == 0 {
					out = "/run/wgbench/out." + wgs[i].label
				}
				samples[i] = append(samples[i], s.Time(h, Cmd{Args: append([]string{wgs[i].bin}, c.args...), Stdout: out}))
			})
			if c.args[0] == "show" || c.args[0] == "showconf" {
				a, _ := os.ReadFile(h.Path("/run/wgbench/out.c"))
				b, _ := os.ReadFile(h.Path("/run/wgbench/out.ours"))
				if !bytes.Equal(sortedLines(a), sortedLines(b)) || len(a) < n*50 {
					s.Note("%s, %d peers: the outputs of the C wg (%d bytes) and ours (%d bytes) differ", c.op, n, len(a), len(b))
				}
			}
			s.Add(Row{Op: c.op, N: n, Ref: "C wg 1.0.20210914 (wall, device included)", RefV: medianWall(samples[0]), Ours: medianWall(samples[1]), Unit: Seconds, Runs: runs}.ratioGoal(1.0, true))
			s.Add(Row{Op: c.op, N: n, Ref: "C wg (CPU time of the wg process)", RefV: medianCPU(samples[0]), Ours: medianCPU(samples[1]), Unit: Seconds, Runs: runs}.ratioGoal(1.0, true))
			s.Add(Row{Op: c.op, N: n, Ref: "C wg (page faults of the wg process)", RefV: medianFaults(samples[0]), Ours: medianFaults(samples[1]), Unit: Count, Runs: runs})
		}
	}
}

// sortedLines is b with its lines sorted: the embedded device lists its
// peers in a new order each time (a Go map), so two reads differ in order.
func sortedLines(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	slices.SortFunc(lines, bytes.Compare)
	return bytes.Join(lines, nil)
}
