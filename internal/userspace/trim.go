package userspace

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimText drops the read-only mappings of the executable (its code and
// constant data) from the process's page tables, and turns off the
// kernel's read-around for them: the daemon is the whole wg-quick binary
// (netlink, configuration parsing, hooks, firewall...) but uses only
// wireguard-go's part of it once the device runs. The pages stay in the
// page cache; those the daemon uses come back one by one as it touches
// them, so its resident set is what it uses rather than what wg-quick's
// start-up and the kernel's read-around brought in. Writable mappings
// (the binary's data) are left alone: dropping them would lose their
// contents. Failures are ignored: this only saves memory.
func trimText() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "start-end perms offset dev inode path"
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		// By address: the regions are not Go memory, and are never read
		// through a slice here.
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_RANDOM)
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}
