package quick

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// stepwiseHost is the in-memory machine whose ApplyBatch stops at the
// first failure, as one step per route would: the reference a batch is
// compared with.
type stepwiseHost struct{ *fakeHost }

func (s stepwiseHost) ApplyBatch(ops []netlinkx.Op) []error {
	errs := make([]error, len(ops))
	for i, op := range ops {
		if errs[i] = s.Apply(op); errs[i] != nil {
			for j := i + 1; j < len(ops); j++ {
				errs[j] = syscall.ECANCELED
			}
			break
		}
	}
	return errs
}

// manyPeers is a config with n peers, each with a /32 and every other one
// a /128, and one allowed IP inside the interface's own prefix (covered by
// its connected route, so skipped).
func manyPeers(n int, iface string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\nAddress = 10.0.0.1/16\n%s", keyAPriv, iface)
	for i := range n {
		fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.1.%d.%d/32", testKey(i), i/250, i%250+1)
		if i%2 == 0 {
			fmt.Fprintf(&b, ", fd01::%x/128", i+1)
		}
		if i == 7 {
			b.WriteString(", 10.0.3.3/32")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// testKey is a distinct valid public key per i.
func testKey(i int) string {
	var k [32]byte
	k[0], k[1], k[31] = byte(i), byte(i>>8), 1
	return base64.StdEncoding.EncodeToString(k[:])
}

// TestRouteBatchSameAsSteps: with route batching, up prints the same
// trace, ends with the same status and leaves the same machine as with one
// step per route, when it succeeds, when a route in the middle fails (the
// trace stops there and the rollback leaves the machine as before), with a
// table given, and when a signal arrives just before the routes.
func TestRouteBatchSameAsSteps(t *testing.T) {
	for _, c := range []struct {
		name   string
		iface  string
		setup  func(f *fakeHost)
		cancel string
	}{
		{name: "auto"},
		{name: "table", iface: "Table = 1234\n"},
		{name: "route-fails", setup: func(f *fakeHost) {
			f.failOps["ip -4 route add 10.1.0.100/32 dev wg0"] = syscall.EEXIST
		}},
		{name: "signal", cancel: "ip link set mtu 1420 up dev wg0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := manyPeers(300, c.iface)
			run := func(batching bool) (string, *fakeHost) {
				f := newFakeHost()
				if c.setup != nil {
					c.setup(f)
				}
				f.cancelOn = c.cancel
				before := f.state()
				sys := f.sys()
				if !batching {
					sys.Net = stepwiseHost{f}
				}
				ctx, cancel := context.WithCancelCause(context.Background())
				defer cancel(nil)
				f.cancel = cancel
				code := Up(ctx, sys, loadText(t, text))
				after := f.state()
				return fmt.Sprintf("exit %d\n%s\nsame state as before: %v\n%s", code, f.stderr.String(), before == after, after), f
			}
			want, _ := run(false)
			got, b := run(true)
			if got != want {
				t.Fatalf("with batching:\n%s\nwithout:\n%s\n%s", got, want, difftest.Lines(want, got))
			}
			if c.name == "auto" && (len(b.batches) != 1 || b.batches[0] != 450) {
				t.Errorf("batches %v, want one of 450 routes", b.batches)
			}
			if !strings.Contains(want, "route add") && c.cancel == "" {
				t.Errorf("no routes added:\n%s", want)
			}
		})
	}
}

// TestAllowedIPText: the written-out filter is the reference's regular
// expression.
func TestAllowedIPText(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-z:.]+/[0-9]+$`)
	for _, s := range []string{"10.0.0.1/32", "fd00::1/128", "::/0", "0.0.0.0/0", "(none)", "", "/", "a/", "/1",
		"10.0.0.1/", "10.0.0.1/3x", "FD00::1/64", "::ffff:1.2.3.4/128", "a b/1", "x/1/2", "z.:9/007", "1.2.3.4/32\n"} {
		if got, want := allowedIPText(s), re.MatchString(s); got != want {
			t.Errorf("%q: %v, the expression says %v", s, got, want)
		}
	}
}
