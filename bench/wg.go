package main

import (
	"bytes"
	"os"
	"time"
)

// wgSection: wg commands on a device with 5000 peers (each with an
// endpoint, a /32 and every other one a /128), ours against the C wg, both
// talking to the same device (our embedded one, brought up empty by our
// wg-quick). The wall time includes the device's work (it answers the
// request), as for a user; the wg process's own CPU time is given too.
// syncconf goes from the 5000 peers to a file where a tenth changed (one
// in twenty peers replaced, one in twenty with another allowed IP): the
// device is set back with setconf (untimed) before each run.
func wgSection(s *Section) {
	const n = 5000
	runs := s.o.Runs
	h := s.Host(hostPrefix)
	pk := newPrivate()
	in := iface{Private: pk, Port: 51820}
	h.WriteFile("/etc/wireguard/"+ifName+".conf", []byte(iface{Private: pk, Port: 51820, Extra: []string{"Table = off", "MTU = 1420"}}.String()), 0o600)
	peers := genPeers(n, true)
	h.WriteFile("/run/wgbench/a.conf", []byte(config(in, peers)), 0o600)
	h.WriteFile("/run/wgbench/b.conf", []byte(config(in, changed(peers))), 0o600)
	ours := s.ours()
	s.Time(h, ours.quick("up", ifName))
	s.Cleanup(func() { h.Run(ours.WGQuick, "down", ifName) })
	wgs := []struct{ label, bin string }{{"c", "/usr/bin/wg"}, {"ours", s.o.Bin + "/wg"}}
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
	for _, c := range cases {
		wall := make([][]time.Duration, 2)
		cpu := make([][]time.Duration, 2)
		interleave(runs, 2, func(run, i int) {
			if c.reset {
				setA(wgs[1].bin)
			}
			out := ""
			if run == 0 {
				out = "/run/wgbench/out." + wgs[i].label
			}
			smp := s.Time(h, Cmd{Args: append([]string{wgs[i].bin}, c.args...), Stdout: out})
			wall[i] = append(wall[i], smp.Wall)
			cpu[i] = append(cpu[i], smp.CPU)
		})
		if c.args[0] == "show" || c.args[0] == "showconf" {
			a, _ := os.ReadFile(h.Path("/run/wgbench/out.c"))
			b, _ := os.ReadFile(h.Path("/run/wgbench/out.ours"))
			if !bytes.Equal(a, b) || len(a) < n*50 {
				s.Note("%s: the outputs of the C wg (%d bytes) and ours (%d bytes) differ", c.op, len(a), len(b))
			}
		}
		s.Add(Row{Op: c.op, N: n, Ref: "C wg 1.0.20210914 (wall, device included)", RefV: median(wall[0]).Seconds(), Ours: median(wall[1]).Seconds(), Unit: Seconds, Runs: runs}.ratioGoal(1.1, true))
		s.Add(Row{Op: c.op, N: n, Ref: "C wg (CPU time of the wg process)", RefV: median(cpu[0]).Seconds(), Ours: median(cpu[1]).Seconds(), Unit: Seconds, Runs: runs})
	}
}
