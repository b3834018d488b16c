package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

// iperfSection: TCP throughput from host a to host b with iperf3 (1 and 4
// streams): over the bare veth, and through a tunnel whose two ends are the
// same backend (Debian's wireguard-go, the newest standalone, our embedded
// device). The devices' peak RSS under that load, their CPU use and the
// offloads in effect (average packet sizes on the links) are recorded.
func iperfSection(s *Section) {
	a, b := s.pair()
	confA, confB := tunnelConfigs()
	a.WriteFile("/etc/wireguard/"+ifName+".conf", []byte(confA), 0o600)
	b.WriteFile("/etc/wireguard/"+ifName+".conf", []byte(confB), 0o600)
	b.Start("iperf3", "-s")
	bs := s.backends()
	runs := 5
	if s.o.Quick {
		runs = 1
	}
	type result struct {
		gbps1, gbps4 []float64
		peak         []float64 // KiB, the larger of the two devices
		cpuA, cpuB   []float64 // cores, during the 4-stream run
		busy         []float64 // share of the machine's CPU time busy
		sizes        [][3]float64
		// What both devices did during the 4-stream run, per GB
		// through the tunnel (wait: seconds runnable but not running).
		cs, faults, wait []float64
		threads          []float64
		ownGroup         bool                 // in a scheduler autogroup other than the driver's
		perf             map[string][]float64 // -perf-events, both devices, per GB
	}
	bare := &result{}
	res := make([]*result, len(bs))
	for i := range res {
		res[i] = &result{perf: map[string][]float64{}}
	}
	targets := len(bs) + 1 // the last one is the bare veth
	interleave(runs, targets, func(run, i int) {
		if i == len(bs) {
			bare.gbps1 = append(bare.gbps1, s.iperf(a, "192.168.241.2", 1))
			bare.gbps4 = append(bare.gbps4, s.iperf(a, "192.168.241.2", 4))
			return
		}
		bk, r := bs[i], res[i]
		s.Time(b, bk.quick("up", ifName))
		s.Time(a, bk.quick("up", ifName))
		// The devices' start (our daemon tidies its memory half a
		// second after configuration) is not part of the measure.
		time.Sleep(time.Second)
		pa, pb := daemonPID(a, ifName), daemonPID(b, ifName)
		if pa == 0 || pb == 0 {
			s.Fatalf("%s: no daemon found (a %d, b %d)", bk.Name, pa, pb)
		}
		r.gbps1 = append(r.gbps1, s.iperf(a, tunB, 1))
		before := [3]linkStat{stat(a, ifName), stat(b, ifName), stat(a, "eth0")}
		ca, cb, busy0 := cpuTime(pa), cpuTime(pb), machineBusy()
		pc0 := readCounters(pa).add(readCounters(pb))
		perfA := s.perfAttach(pa, fmt.Sprintf("%s-%d-sender", bk.Name, run))
		perfB := s.perfAttach(pb, fmt.Sprintf("%s-%d-receiver", bk.Name, run))
		start := time.Now()
		r.gbps4 = append(r.gbps4, s.iperf(a, tunB, 4))
		secs := time.Since(start).Seconds()
		gb := r.gbps4[len(r.gbps4)-1] * secs / 8
		both := perfA()
		for ev, v := range perfB() {
			both[ev] += v
		}
		for ev, v := range both {
			r.perf[ev] = append(r.perf[ev], v/gb)
		}
		r.cpuA = append(r.cpuA, (cpuTime(pa)-ca)/secs)
		r.cpuB = append(r.cpuB, (cpuTime(pb)-cb)/secs)
		pc := readCounters(pa).add(readCounters(pb)).sub(pc0)
		r.cs = append(r.cs, pc.switches/gb)
		r.faults = append(r.faults, pc.minflt/gb)
		r.wait = append(r.wait, pc.wait/gb)
		r.threads = append(r.threads, pc.threads)
		r.ownGroup = autogroup(pa) != autogroup(os.Getpid())
		busy1 := machineBusy()
		r.busy = append(r.busy, (busy1[0]-busy0[0])/(busy1[1]-busy0[1]))
		after := [3]linkStat{stat(a, ifName), stat(b, ifName), stat(a, "eth0")}
		r.sizes = append(r.sizes, [3]float64{
			after[0].txAvg(before[0]), // a's TUN: what the kernel hands the device (TSO)
			after[1].rxAvg(before[1]), // b's TUN: what the device writes (GRO)
			after[2].txAvg(before[2]), // a's veth: the UDP datagrams (UDP GSO)
		})
		r.peak = append(r.peak, float64(max(procKiB(pa, "VmHWM"), procKiB(pb, "VmHWM"))))
		s.down(a, bk)
		s.down(b, bk)
	})
	last := len(bs) - 1
	for _, st := range []struct {
		n   int
		get func(*result) []float64
	}{{1, func(r *result) []float64 { return r.gbps1 }}, {4, func(r *result) []float64 { return r.gbps4 }}} {
		op := fmt.Sprintf("TCP throughput, iperf3 -P %d", st.n)
		ours := medianF(st.get(res[last]))
		for i, bk := range bs[:last] {
			r := Row{Op: op, Ref: strings.TrimPrefix(bk.Label, "bash wg-quick + "), RefV: medianF(st.get(res[i])), Ours: ours, Unit: Gbits, Runs: runs}
			if bk.Name == "debian" {
				r = r.ratioGoal(4, false)
			} else {
				r = r.ratioGoal(1, false)
			}
			s.Add(r)
		}
		s.Add(Row{Op: op + ", as a share of the bare link", Ref: "bare veth, no tunnel", RefV: medianF(st.get(bare)), Ours: ours, Unit: Gbits, Runs: runs, Share: true})
	}
	for i, bk := range bs[:last] {
		r := Row{Op: "device peak RSS under iperf3", Ref: strings.TrimPrefix(bk.Label, "bash wg-quick + "), RefV: medianF(res[i].peak), Ours: medianF(res[last].peak), Unit: KiB, Runs: runs}
		if bk.Name == "newest" {
			r = r.ratioGoal(0.5, true)
		}
		s.Add(r)
	}
	for i, bk := range bs {
		r := res[i]
		name := strings.TrimPrefix(bk.Label, "bash wg-quick + ")
		if !bk.Ref {
			name = "ours (embedded device)"
		}
		sz := func(k int) float64 {
			var l []float64
			for _, x := range r.sizes {
				l = append(l, x[k])
			}
			return medianF(l)
		}
		s.Note("iperf3 -P 4, %s: sender's device %.2f cores, receiver's %.2f (%.2f CPU-seconds per GB through the tunnel), machine %.0f%% busy; average packet on the sender's TUN %.0f B (kernel to device; > MTU: TSO), on the receiver's TUN %.0f B (device to kernel; > MTU: GRO), on the sender's veth %.0f B (UDP; > 1500: UDP GSO)",
			name, medianF(r.cpuA), medianF(r.cpuB), (medianF(r.cpuA)+medianF(r.cpuB))/(medianF(r.gbps4)/8), 100*medianF(r.busy), sz(0), sz(1), sz(2))
		group := "the driver's scheduler autogroup"
		if r.ownGroup {
			group = "a scheduler autogroup of their own (own session)"
		}
		s.Note("iperf3 -P 4, %s, both devices, per GB through the tunnel: %.0f context switches, %.0f minor page faults, %.2f s runnable but waiting for a CPU; %.0f threads; in %s",
			name, medianF(r.cs), medianF(r.faults), medianF(r.wait), medianF(r.threads), group)
		if len(r.perf) > 0 {
			var evs []string
			for ev, l := range r.perf {
				evs = append(evs, fmt.Sprintf("%s %.4g", ev, medianF(l)))
			}
			slices.Sort(evs)
			s.Note("iperf3 -P 4, %s, both devices, perf stat per GB through the tunnel (medians): %s", name, strings.Join(evs, ", "))
		}
	}
	if s.o.PerfRecord != "" {
		s.Note("perf record -g profiles of each device in the 4-stream runs: %s", s.o.PerfRecord)
	}
}

// perfAttach starts perf stat (-perf-events) and perf record
// (-perf-record) on pid; the function it returns stops them and returns
// perf stat's counts by event. Without those flags it does nothing.
func (s *Section) perfAttach(pid int, name string) (stop func() map[string]float64) {
	var cmds []*exec.Cmd
	statFile := ""
	if s.o.PerfEvents != "" {
		f, err := os.CreateTemp("", "wgbench-perfstat-*")
		if err != nil {
			s.Fatalf("perf stat: %v", err)
		}
		f.Close()
		statFile = f.Name()
		cmds = append(cmds, exec.Command("perf", "stat", "-x,", "-e", s.o.PerfEvents, "-p", strconv.Itoa(pid), "-o", statFile))
	}
	if s.o.PerfRecord != "" {
		os.MkdirAll(s.o.PerfRecord, 0o755)
		cmds = append(cmds, exec.Command("perf", "record", "-q", "-g", "-o", filepath.Join(s.o.PerfRecord, name+".data"), "-p", strconv.Itoa(pid)))
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			s.Fatalf("%s: %v", strings.Join(c.Args, " "), err)
		}
	}
	time.Sleep(100 * time.Millisecond) // perf attaches
	return func() map[string]float64 {
		for _, c := range cmds {
			c.Process.Signal(os.Interrupt)
			c.Wait()
		}
		counts := map[string]float64{}
		if statFile == "" {
			return counts
		}
		defer os.Remove(statFile)
		b, _ := os.ReadFile(statFile)
		// "VALUE,UNIT,EVENT,..." per event.
		for line := range strings.SplitSeq(string(b), "\n") {
			f := strings.Split(line, ",")
			if len(f) < 3 || strings.HasPrefix(line, "#") {
				continue
			}
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				counts[f[2]] += v
			}
		}
		return counts
	}
}

// counters are what a process (all its threads) did, from /proc.
type counters struct {
	switches, minflt, wait, threads float64
}

func (c counters) add(d counters) counters {
	return counters{c.switches + d.switches, c.minflt + d.minflt, c.wait + d.wait, c.threads + d.threads}
}

// sub is c - d, but for threads, which stays c's.
func (c counters) sub(d counters) counters {
	return counters{c.switches - d.switches, c.minflt - d.minflt, c.wait - d.wait, c.threads}
}

// readCounters reads pid's minor faults (the process's, /proc/PID/stat)
// and its threads' context switches and run-queue waits
// (/proc/PID/task/*/status and schedstat).
func readCounters(pid int) counters {
	var c counters
	dir := fmt.Sprintf("/proc/%d", pid)
	if b, err := os.ReadFile(dir + "/stat"); err == nil {
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 7 {
				c.minflt, _ = strconv.ParseFloat(f[7], 64)
			}
		}
	}
	tasks, _ := os.ReadDir(dir + "/task")
	for _, t := range tasks {
		c.threads++
		if b, err := os.ReadFile(dir + "/task/" + t.Name() + "/status"); err == nil {
			for line := range strings.SplitSeq(string(b), "\n") {
				k, v, _ := strings.Cut(line, ":")
				if k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches" {
					n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
					c.switches += n
				}
			}
		}
		if b, err := os.ReadFile(dir + "/task/" + t.Name() + "/schedstat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 1 {
				ns, _ := strconv.ParseFloat(f[1], 64)
				c.wait += ns / 1e9
			}
		}
	}
	return c
}

// autogroup is the scheduler autogroup of pid ("/autogroup-N nice 0");
// a new session (setsid) makes a new one.
func autogroup(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/autogroup", pid))
	name, _, _ := strings.Cut(string(b), " ")
	return name
}

// iperf runs iperf3 from h to dst with n streams and returns Gbit/s
// received.
func (s *Section) iperf(h *testnet.Host, dst string, n int) float64 {
	args := []string{"-c", dst, "-t", strconv.Itoa(s.o.Seconds), "-P", strconv.Itoa(n), "-J", "--connect-timeout", "3000"}
	if s.o.Seconds >= 4 {
		args = append(args, "-O", "1")
	}
	var out string
	for try := 0; ; try++ {
		r := h.Run("iperf3", args...)
		if r.Code == 0 {
			out = r.Stdout
			break
		}
		if try == 5 {
			s.Fatalf("iperf3 -c %s: exit %d\n%s%s", dst, r.Code, tail(r.Stdout, 1000), r.Stderr)
		}
		time.Sleep(200 * time.Millisecond) // the server may not listen yet, or be busy
	}
	var v struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.End.SumReceived.BitsPerSecond == 0 {
		s.Fatalf("iperf3 -c %s: no result (%v)\n%s", dst, err, tail(out, 1000))
	}
	return v.End.SumReceived.BitsPerSecond / 1e9
}

// linkStat is a link's counters.
type linkStat struct{ rxBytes, rxPackets, txBytes, txPackets float64 }

func (a linkStat) txAvg(b linkStat) float64 {
	return ratio(a.txBytes-b.txBytes, a.txPackets-b.txPackets)
}
func (a linkStat) rxAvg(b linkStat) float64 {
	return ratio(a.rxBytes-b.rxBytes, a.rxPackets-b.rxPackets)
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// stat reads a link's counters in h (ip -s -j link).
func stat(h *testnet.Host, link string) linkStat {
	var v []struct {
		Stats64 struct {
			Rx struct{ Bytes, Packets float64 } `json:"rx"`
			Tx struct{ Bytes, Packets float64 } `json:"tx"`
		} `json:"stats64"`
	}
	out := h.MustRun("ip", "-s", "-j", "link", "show", "dev", link)
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) == 0 {
		return linkStat{}
	}
	st := v[0].Stats64
	return linkStat{st.Rx.Bytes, st.Rx.Packets, st.Tx.Bytes, st.Tx.Packets}
}

// cpuTime is a process's user+system CPU time in seconds.
func cpuTime(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100 // USER_HZ
}

// machineBusy is the machine's busy and total CPU time (jiffies, all
// CPUs) from /proc/stat.
func machineBusy() [2]float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return [2]float64{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var total, idle float64
	for k, v := range f[1:min(len(f), 9)] { // guest time is in user already
		x, _ := strconv.ParseFloat(v, 64)
		total += x
		if k == 3 || k == 4 { // idle, iowait
			idle += x
		}
	}
	return [2]float64{total - idle, total}
}
