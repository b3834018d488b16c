package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/wgdev"
)

// TestPanicIsOneLine: a panic inside a subcommand reaches the user as one
// line with status 1, without the panic's value.
func TestPanicIsOneLine(t *testing.T) {
	const secret = "kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8="
	var stdout, stderr bytes.Buffer
	e := &env{
		prog: "wg", stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		lookupEnv: func(string) (string, bool) { return "", false },
		devices:   func() *wgdev.Client { panic("PrivateKey = " + secret) },
		now:       time.Now,
	}
	code := runSafely(e, []string{"wg", "show", "wg0"})
	want := regexp.MustCompile(`^wg: internal error: panic\(string\) at github\.com/gowg/wgtools/cmd/wg\.TestPanicIsOneLine\.func\d \(panic_test\.go:\d+\)\n$`)
	if code != 1 || !want.MatchString(stderr.String()) || stdout.Len() != 0 {
		t.Errorf("status %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
