package netlinkx

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/testnet"
)

// kernelTestsEnv marks a run in the test VM (make vmtest), where the
// TestKernel* tests check the batched exchanges against Debian's kernels.
const kernelTestsEnv = "WGTOOLS_KERNEL_TESTS"

// inNamespace gives a system test a network namespace of its own, with
// the `ip` commands of setup run in it first, and reports whether the
// caller is now in it and should do its work. On this machine that is a
// test host (testnet): the outer run builds it and runs the test binary
// again inside, where inNamespace returns true. In the test VM
// (WGTOOLS_KERNEL_TESTS set, as root) the test's goroutine is locked to a
// thread that unshares a namespace and is never unlocked, so the
// namespace ends with the test; a test in this form must keep its work on
// its own goroutine.
func inNamespace(t *testing.T, prefix string, setup ...[]string) bool {
	t.Helper()
	if testnet.InHost() {
		return true
	}
	if os.Getenv(kernelTestsEnv) == "" {
		testnet.Require(t)
		h := testnet.NewHost(t, prefix)
		for _, c := range setup {
			h.MustRun("ip", c...)
		}
		h.RunTest(t, t.Name())
		return false
	}
	if os.Geteuid() != 0 {
		t.Fatal("kernel-path test: needs root")
	}
	runtime.LockOSThread() // never unlocked: the thread ends with the test
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatalf("unshare(CLONE_NEWNET): %v", err)
	}
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatalf("lo: %v", err)
	}
	for _, c := range setup {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(c, " "), err, out)
		}
	}
	return true
}
