package testrun

import (
	"fmt"
	"path"
	"strings"
)

// Entry is one skip that is correct on the machines the tests run on.
type Entry struct {
	Package string // import path relative to the module ("." for its root)
	Test    string // the test's name, a path.Match pattern ("TestVM/*")
	Message string // words the skip message must contain
	Reason  string // why this skip is correct here
	Line    int    // where the entry is in its list
}

func (e *Entry) String() string {
	return fmt.Sprintf("%s | %s | %s | %s", e.Package, e.Test, e.Message, e.Reason)
}

// Allowlist is the list of skips a strict run accepts.
type Allowlist struct {
	Entries []Entry
}

// ParseAllowlist reads a list of allowed skips, one a line:
//
//	PACKAGE | TEST | MESSAGE | REASON
//
// PACKAGE is relative to the module, TEST a path.Match pattern over the
// test's name (a "*" does not cross a "/"), MESSAGE words the skip message
// must contain, REASON why the skip is correct. Blank lines and lines
// starting with '#' are comments. Every field must be given.
func ParseAllowlist(name, text string) (*Allowlist, error) {
	a := &Allowlist{}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 4 {
			return nil, fmt.Errorf("%s:%d: want PACKAGE | TEST | MESSAGE | REASON, got %d fields", name, n, len(f))
		}
		for j := range f {
			f[j] = strings.TrimSpace(f[j])
			if f[j] == "" {
				return nil, fmt.Errorf("%s:%d: field %d is empty (PACKAGE | TEST | MESSAGE | REASON)", name, n, j+1)
			}
		}
		if _, err := path.Match(f[1], ""); err != nil {
			return nil, fmt.Errorf("%s:%d: bad test pattern %q: %v", name, n, f[1], err)
		}
		if strings.HasPrefix(f[0], "/") || strings.Contains(f[0], ".") && f[0] != "." {
			return nil, fmt.Errorf("%s:%d: package %q: give it relative to the module (internal/wgdev, or . for its root)", name, n, f[0])
		}
		a.Entries = append(a.Entries, Entry{Package: f[0], Test: f[1], Message: f[2], Reason: f[3], Line: n})
	}
	return a, nil
}

// Match returns the entry allowing the skip of test in pkg (relative to
// the module) with the given message, or nil.
func (a *Allowlist) Match(pkg, test, message string) *Entry {
	if a == nil {
		return nil
	}
	for i := range a.Entries {
		e := &a.Entries[i]
		if e.Package != pkg {
			continue
		}
		if ok, _ := path.Match(e.Test, test); !ok {
			continue
		}
		if strings.Contains(message, e.Message) {
			return e
		}
	}
	return nil
}
