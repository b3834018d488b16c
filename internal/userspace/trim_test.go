package userspace

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// exeResident is the resident size (KiB) of this executable's read-only
// mappings.
func exeResident(t *testing.T) int {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Skip("no /proc/self/exe: ", err)
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps: ", err)
	}
	total, mine := 0, false
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && len(f[1]) == 4:
			mine = len(f) >= 6 && f[5] == exe && !strings.Contains(f[1], "w")
		case mine && len(f) == 3 && f[0] == "Rss:":
			n, _ := strconv.Atoi(f[1])
			total += n
		}
	}
	return total
}

// TestTrimText: the executable's read-only pages leave the resident set
// (they come back as they are used), and the process goes on working.
func TestTrimText(t *testing.T) {
	before := exeResident(t)
	trimText()
	after := exeResident(t)
	if after >= before || before == 0 {
		t.Fatalf("resident text %d KiB before, %d KiB after", before, after)
	}
	t.Logf("resident text %d KiB before, %d KiB after", before, after)
	if got := strconv.Itoa(12345) + strings.Repeat("x", 3); got != "12345xxx" {
		t.Fatal(got)
	}
}
