package userspace

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAwaitReady: the daemon's warnings reach the caller, one line each,
// before its "ok"; an error line or an early exit fails the start.
func TestAwaitReady(t *testing.T) {
	for _, c := range []struct {
		report string
		warns  []string
		err    string
	}{
		{report: "ok\n"},
		{report: "warning: one\nwarning: two\nok\n", warns: []string{"one", "two"}},
		{report: "warning: one\nerror: Failed to listen\n", warns: []string{"one"}, err: "Failed to listen"},
		{report: "warning: one\n", warns: []string{"one"}, err: "exited while starting"},
		{report: "", err: "exited while starting"},
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString(c.report)
		w.Close()
		var warns []string
		err = awaitReady(r, time.Second, func(s string) { warns = append(warns, s) })
		r.Close()
		if !slices.Equal(warns, c.warns) {
			t.Errorf("%q: warnings %q, want %q", c.report, warns, c.warns)
		}
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: error %v, want %q", c.report, err, c.err)
		}
	}
}
