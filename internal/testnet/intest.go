package testnet

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// envInHost marks a test binary re-run inside a host by RunTest.
const envInHost = "WGTEST_IN_HOST"

// InHost reports whether this test binary was started by RunTest, inside a
// host's namespaces.
func InHost() bool { return os.Getenv(envInHost) == "1" }

// RunTest re-runs the current test binary inside h (its network and mount
// namespaces), running only the test named name, and fails t if that run
// fails; its output is logged. The test uses InHost to tell the two runs
// apart: the outer one builds the host, the inner one does the work with
// the process's own netlink sockets (so nothing it does can reach the
// machine's namespace). A skip inside (of a subtest) fails t too: the
// outer run would otherwise pass with that part unchecked.
func (h *Host) RunTest(t testing.TB, name string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := h.RunEnv([]string{envInHost + "=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		self, "-test.run", "^"+regexp.QuoteMeta(name)+"$", "-test.v", "-test.count=1")
	out := strings.TrimSpace(r.Stdout + r.Stderr)
	if r.Code != 0 || !strings.Contains(out, "--- PASS: "+name) || strings.Contains(out, "--- SKIP: ") {
		t.Fatalf("%s inside %s (exit %d):\n%s", name, h.Name, r.Code, out)
	}
	t.Logf("%s inside %s:\n%s", name, h.Name, out)
}
