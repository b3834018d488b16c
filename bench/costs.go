package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// machineCosts measures what starting a process and faulting in a page
// cost on this machine, for the table's head: /bin/true and an empty Go
// program per process (CPU time, wall time and minor faults, medians of
// 51 interleaved runs), and the time per fault of touching fresh
// anonymous pages (median of 5 runs of 4096 pages). Processes that start
// dearly, or faults that cost tens of microseconds (a VM with nested
// paging), make every per-process figure larger, and the Go runtime's
// start with them.
func machineCosts(o *Options) string {
	const runs = 51
	progs := [][]string{{"/bin/true"}, {o.Bin + "/gostart"}}
	wall := make([][]time.Duration, len(progs))
	cpu := make([][]time.Duration, len(progs))
	faults := make([][]int64, len(progs))
	interleave(runs, len(progs), func(_, i int) {
		cmd := exec.Command(progs[i][0], progs[i][1:]...)
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return
		}
		wall[i] = append(wall[i], time.Since(start))
		cpu[i] = append(cpu[i], cpuOf(cmd.ProcessState))
		faults[i] = append(faults[i], faultsOf(cmd.ProcessState))
	})
	var fault []time.Duration
	for range 5 {
		if d, ok := faultCost(4096); ok {
			fault = append(fault, d)
		}
	}
	out := ""
	for i, name := range []string{"/bin/true", "an empty Go program"} {
		if len(wall[i]) == 0 {
			continue
		}
		out += fmt.Sprintf("%s %s wall, %s CPU, %.0f page faults per process; ", name,
			formatValue(median(wall[i]).Seconds(), Seconds), formatValue(median(cpu[i]).Seconds(), Seconds), medianI(faults[i]))
	}
	if len(fault) > 0 {
		out += fmt.Sprintf("a page fault (first touch of an anonymous page) %.2f µs", float64(median(fault).Nanoseconds())/1e3)
	}
	return out
}

// faultCost maps n fresh anonymous pages, writes one byte to each, and
// returns the time per page; the mapping is removed.
func faultCost(n int) (time.Duration, bool) {
	size := n * os.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return 0, false
	}
	defer syscall.Munmap(mem)
	syscall.Madvise(mem, 14) // MADV_NOHUGEPAGE: one fault per page
	start := time.Now()
	for i := 0; i < size; i += os.Getpagesize() {
		mem[i] = 1
	}
	return time.Since(start) / time.Duration(n), true
}
