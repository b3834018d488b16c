package netlinkx

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/testnet"
)

// TestApplyRoutesSystem: ApplyRoutes makes the same routes as Apply does
// one by one (compared as `ip -d route show` prints them, every table),
// across several batches, and reports each failure at its place, worded as
// Apply words it (a route that exists, a missing device, the kernel's own
// message for a device that is down).
func TestApplyRoutesSystem(t *testing.T) {
	if !testnet.InHost() {
		testnet.Require(t)
		h := testnet.NewHost(t, "nlxb")
		for _, l := range []string{"a", "c"} {
			h.MustRun("ip", "link", "add", l+"0", "type", "veth", "peer", "name", l+"1")
		}
		h.MustRun("ip", "link", "set", "a0", "up")
		h.RunTest(t, "TestApplyRoutesSystem")
		return
	}
	h := New()
	// 700 routes (three batches): /32s, /128s on every other, a /24, and
	// tables given by number (small and large) and by name.
	var ops []RouteAdd
	for i := range 700 {
		r := RouteAdd{Prefix: netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.%d/32", 60+i/60000, i/250%240, i%250+1))}
		switch {
		case i%2 == 1:
			r.Prefix = netip.MustParsePrefix(fmt.Sprintf("fd65::%x/128", i))
		case i == 100:
			r.Prefix = netip.MustParsePrefix("192.168.7.9/24") // masked, as ip does
		}
		switch i % 7 {
		case 3:
			r.Table, r.TableID = "1234", 1234
		case 4:
			r.Table, r.TableID = "100", 100
		case 5:
			r.Table, r.TableID = "main", 254
		}
		ops = append(ops, r)
	}
	// The same routes through a0, one by one and then (after a flush) in
	// batches: the kernel must list the same.
	ops = withLink(ops, "a0")
	for _, op := range ops {
		if err := h.Apply(op); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	want := routesOf(t, "a0")
	for _, fam := range []string{"-4", "-6"} {
		if out, err := exec.Command("ip", fam, "route", "flush", "table", "all", "dev", "a0").CombinedOutput(); err != nil {
			t.Fatalf("flush: %v %s", err, out)
		}
	}
	if left := routesOf(t, "a0"); strings.Count(left, "\n") > 2 {
		t.Fatalf("routes left after the flush:\n%s", left)
	}
	for i, err := range h.ApplyRoutes(ops) {
		if err != nil {
			t.Fatalf("%s (route %d): %v", ops[i], i, err)
		}
	}
	if got := routesOf(t, "a0"); got != want || strings.Count(got, "\n") < 700 {
		t.Fatalf("routes by ApplyRoutes:\n%s\ndiffer from Apply's:\n%s", got, want)
	}

	// Failures at their place, in the middle of batches.
	fails := []RouteAdd{
		{Link: "a0", Prefix: netip.MustParsePrefix("10.200.0.1/32")},
		ops[0], // exists
		{Link: "nosuch", Prefix: netip.MustParsePrefix("10.200.0.2/32")},
		{Link: "c0", Prefix: netip.MustParsePrefix("10.200.0.3/32")}, // down
		{Link: "a0", Prefix: netip.MustParsePrefix("fd66::1/128")},
	}
	errs := h.ApplyRoutes(fails)
	for i, op := range fails {
		var want error
		switch i {
		case 1, 2, 3:
			want = h.Apply(op)
		}
		got := errs[i]
		switch {
		case want == nil && got != nil:
			t.Errorf("%s: %v", op, got)
		case want != nil && (got == nil || got.Error() != want.Error() || got.(*Error).ExitCode() != want.(*Error).ExitCode()):
			t.Errorf("%s: got %v, want %q (status %d)", op, got, want, want.(*Error).ExitCode())
		}
	}
	t.Logf("errors: %q", errs)
	if errs[3] == nil || !strings.HasPrefix(errs[3].Error(), "Error: ") {
		t.Errorf("the kernel's own message is lost: %v", errs[3])
	}
}

// TestKernelApplyBatchOverrun: with a receive buffer so small that the
// kernel's answers overrun it in every send, ApplyBatch still makes every
// change and reports every failure at its place, as Apply one by one does
// (compared as `ip -d route show` prints the routes, every table): the
// routes whose answers were lost are found in the kernel's tables or sent
// again. Among 3000 routes: one asked twice (the second time after an op
// that is not batched: an address), two through a device that is down,
// one through a missing device. (A route that exists before the batch is
// the one case the recovery cannot tell from one it added: see
// ApplyBatch; TestApplyRoutesSystem has it without overruns.) On this
// machine and on the VM's kernels (make vmtest).
func TestKernelApplyBatchOverrun(t *testing.T) {
	if !inNamespace(t, "nlxo",
		[]string{"link", "add", "a0", "type", "veth", "peer", "name", "a1"},
		[]string{"link", "add", "c0", "type", "veth", "peer", "name", "c1"},
		[]string{"link", "set", "a0", "up"}) {
		return
	}
	var ops []Op
	for i := range 3000 {
		var p netip.Prefix
		if i%3 == 2 {
			p = netip.MustParsePrefix(fmt.Sprintf("fd67::%x/128", i))
		} else {
			p = netip.MustParsePrefix(fmt.Sprintf("10.67.%d.%d/32", i/250, i%250+1))
		}
		r := RouteAdd{Link: "a0", Prefix: p}
		if i%5 == 4 {
			r.Table, r.TableID = "1234", 1234
		}
		ops = append(ops, r)
	}
	ops[1500] = ops[10] // asked twice
	ops[700] = RouteAdd{Link: "c0", Prefix: netip.MustParsePrefix("10.68.0.1/32")}
	ops[2100] = RouteAdd{Link: "c0", Prefix: netip.MustParsePrefix("fd68::1/128")}
	ops[2500] = RouteAdd{Link: "nosuch", Prefix: netip.MustParsePrefix("10.68.0.2/32")}
	ops[1000] = AddrAddOf("a0", conf.Address{Raw: "10.69.0.1/32", Prefix: netip.MustParsePrefix("10.69.0.1/32")})

	// One by one.
	h := New()
	want := make([]error, len(ops))
	for i, op := range ops {
		want[i] = h.Apply(op)
	}
	wantRoutes := routesOf(t, "a0")
	failures := 0
	for _, e := range want {
		if e != nil {
			failures++
		}
	}
	if failures != 4 {
		t.Fatalf("%d failures one by one, want 4: %q", failures, want)
	}
	// The same, batched, from the same start.
	for _, c := range [][]string{{"-4", "route", "flush", "table", "all", "dev", "a0"}, {"-6", "route", "flush", "table", "all", "dev", "a0"}, {"address", "flush", "dev", "a0"}} {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(c, " "), err, out)
		}
	}
	overruns := 0
	tiny := New()
	tiny.batch = batchTuning{rcvbuf: 1, window: maxWindow, onOverrun: func() { overruns++ }}
	got := tiny.ApplyBatch(ops)
	for i, op := range ops {
		w, g := want[i], got[i]
		switch {
		case w == nil && g != nil:
			t.Errorf("%s (op %d): %v", op, i, g)
		case w != nil && (g == nil || g.Error() != w.Error() || g.(*Error).ExitCode() != w.(*Error).ExitCode()):
			t.Errorf("%s (op %d): got %v, want %q", op, i, g, w)
		}
	}
	if gotRoutes := routesOf(t, "a0"); gotRoutes != wantRoutes {
		t.Errorf("routes by the overrun batch:\n%s\ndiffer from Apply's:\n%s", gotRoutes, wantRoutes)
	}
	if overruns < 2 {
		t.Errorf("%d overruns: the recovery went untested", overruns)
	}
	t.Logf("%d overruns; failures %q", overruns, []error{got[700], got[1500], got[2100], got[2500]})
}

func withLink(ops []RouteAdd, link string) []RouteAdd {
	out := make([]RouteAdd, len(ops))
	for i, op := range ops {
		op.Link = link
		out[i] = op
	}
	return out
}

// routesOf lists a link's routes in every table, the link's name taken out.
func routesOf(t *testing.T, link string) string {
	var b strings.Builder
	for _, fam := range []string{"-4", "-6"} {
		out, err := exec.Command("ip", "-d", fam, "route", "show", "table", "all", "dev", link).CombinedOutput()
		if err != nil {
			t.Fatalf("ip route show: %v %s", err, out)
		}
		for l := range strings.SplitSeq(string(out), "\n") {
			if l != "" && !strings.Contains(l, "fe80::") && !strings.Contains(l, "multicast") && !strings.Contains(l, "local ") {
				b.WriteString(l + "\n")
			}
		}
	}
	return b.String()
}
