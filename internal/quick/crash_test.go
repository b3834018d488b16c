package quick

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"
)

// TestStepPanic: a step that panics fails as one line (status 1), so that
// up rolls back what was done and says what happened.
func TestStepPanic(t *testing.T) {
	var b bytes.Buffer
	r := newRunner(&Sys{Stderr: &b, Prog: "wg-quick"})
	err := r.step(context.Background(), Step{Op: panicOp{}})
	var f *Failure
	want := regexp.MustCompile("^internal error in `ip link set mtu 1420 up dev wg0': assignment to entry in nil map at github.com/gowg/wgtools/internal/quick.panicOp.Do \\(crash_test.go:\\d+\\)$")
	if !errors.As(err, &f) || f.Code != 1 || !want.MatchString(f.Msg) {
		t.Errorf("%#v", err)
	}
}

// panicOp is a step that panics.
type panicOp struct{}

func (panicOp) String() string { return "ip link set mtu 1420 up dev wg0" }
func (panicOp) Do(context.Context) error {
	var m map[string]int
	m["x"] = 1
	return nil
}
