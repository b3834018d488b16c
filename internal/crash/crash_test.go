package crash

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

const secret = "kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8="

//go:noinline
func index(s []int, i int) int { return s[i] }

func TestGuard(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func() int
		want *regexp.Regexp
	}{
		{"runtime error", func() int { return index([]int{1}, 3) },
			regexp.MustCompile(`^wg: internal error: runtime error: index out of range \[3\] with length 1 at github\.com/gowg/wgtools/internal/crash\.index \(crash_test\.go:\d+\)\n$`)},
		{"string", func() int { panic("bad line PrivateKey = " + secret) },
			regexp.MustCompile(`^wg: internal error: panic\(string\) at github\.com/gowg/wgtools/internal/crash\.TestGuard\.func2 \(crash_test\.go:\d+\)\n$`)},
		{"error", func() int { panic(errors.New(secret)) },
			regexp.MustCompile(`^wg: internal error: panic\(\*errors\.errorString\) at .*\n$`)},
		{"nil map", func() int { var m map[string]int; m["x"] = 1; return 0 },
			regexp.MustCompile(`^wg: internal error: assignment to entry in nil map at .*crash\.TestGuard\.func4 .*\n$`)},
	} {
		var b bytes.Buffer
		code := Guard(&b, "wg", c.f)
		if code != 1 || !c.want.MatchString(b.String()) || strings.Contains(b.String(), secret) || strings.Count(b.String(), "\n") != 1 {
			t.Errorf("%s: status %d, %q", c.name, code, b.String())
		}
	}
	var b bytes.Buffer
	if code := Guard(&b, "wg", func() int { return 7 }); code != 7 || b.Len() != 0 {
		t.Errorf("no panic: status %d, %q", code, b.String())
	}
}
