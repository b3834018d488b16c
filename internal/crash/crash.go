// Package crash turns a panic into the one line a user sees: what went
// wrong and where in our code, never the panic's value when that could
// carry input (a configuration line, a key).
package crash

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
)

// Describe says what a recovered panic was: a runtime error's own text
// (index out of range, nil dereference), else only the type of the value
// given to panic, and the function and line where it happened. Call it
// from the deferred function that recovered p, while the panicking frames
// are still on the stack.
func Describe(p any) string {
	what := fmt.Sprintf("panic(%T)", p)
	if re, ok := p.(runtime.Error); ok {
		what = re.Error()
	}
	if where := location(); where != "" {
		what += " at " + where
	}
	return what
}

// location is the first frame below runtime.gopanic that is not the
// runtime's own: the function that panicked.
func location() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	panicking := false
	for {
		f, more := frames.Next()
		if f.Function == "runtime.gopanic" {
			panicking = true
		} else if panicking && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

// Guard runs f and returns its status. A panic in f is printed on w as one
// line, "PROG: internal error: DESCRIPTION", and gives status 1.
func Guard(w io.Writer, prog string, f func() int) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(w, "%s: internal error: %s\n", prog, Describe(p))
			code = 1
		}
	}()
	return f()
}
