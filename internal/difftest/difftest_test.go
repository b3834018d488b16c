package difftest

import (
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"x\ny\nz", "x\ny\nz", ""},
		{"x\ny\nz", "x\nz", "- y\n"},
		{"x\nz", "x\ny\nz", "+ y\n"},
		{"x\ny", "x\nY", "+ Y\n- y\n"},
	} {
		if got := Lines(c.a, c.b); got != c.want {
			t.Errorf("Lines(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
	// Long texts: by position, the line numbered.
	a := strings.Repeat("same\n", 3000) + "old"
	b := strings.Repeat("same\n", 3000) + "new"
	if got, want := Lines(a, b), "line 3001:\n- \"old\"\n+ \"new\"\n"; got != want {
		t.Errorf("long texts: %q, want %q", got, want)
	}
}
