package netlinkx

import (
	"fmt"
	"net/netip"
	"testing"
)

// BenchmarkRouteMessages7500 encodes the requests of 7500 routes (5000
// /32s and 2500 /128s) and renders their trace lines, which is what
// ApplyRoutes and wg-quick's trace cost besides the kernel's work.
func BenchmarkRouteMessages7500(b *testing.B) {
	var ops []RouteAdd
	for i := range 5000 {
		ops = append(ops, RouteAdd{Link: "wg0", Prefix: netip.MustParsePrefix(fmt.Sprintf("10.1.%d.%d/32", i/250, i%250+1))})
		if i%2 == 0 {
			ops = append(ops, RouteAdd{Link: "wg0", Prefix: netip.MustParsePrefix(fmt.Sprintf("fd01::%x/128", i+1))})
		}
	}
	for b.Loop() {
		for _, op := range ops {
			_ = routeMessage(op, 5)
			_ = op.String()
		}
	}
}
