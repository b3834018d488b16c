package doctor

import (
	"context"

	"github.com/gowg/wgtools/internal/quick"
)

// readDrift asks the engine what `wg-quick reload` would change now
// (quick.PlanReload, which changes nothing): what it would do is exactly
// how the interface differs from the file, each change its reload line;
// nothing to do is no difference. doctor and reload cannot disagree.
// Reload's DNS steps are left to the DNS check (dns-not-applied), which
// says more about them (where it looked, what the manager holds).
func readDrift(ctx context.Context, s *State, l *quick.Loaded, sys *quick.Sys) {
	steps, _, err := quick.PlanReload(ctx, sys, l)
	if err != nil {
		s.NotChecked = append(s.NotChecked, NotChecked{"what differs from the file (wg-quick reload's plan)", err.Error()})
		return
	}
	for _, st := range steps {
		if line := st.Line(); line != "" && st.Kind() != "dns" {
			s.Drift = append(s.Drift, Difference{What: st.Kind(), Text: "[#] " + line})
		}
	}
}
