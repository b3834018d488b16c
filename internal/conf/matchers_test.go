package conf

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// The regexps wg-quick and the earlier code used; the hand-written
// matchers must decide exactly as they do.
var (
	reInterfaceName = regexp.MustCompile(`^[a-zA-Z0-9_=+.-]{1,15}$`)
	reConfigPath    = regexp.MustCompile(`(^|/)([a-zA-Z0-9_=+.-]{1,15})\.conf$`)
	reNameserver    = regexp.MustCompile(`(^[0-9.]+$)|(^.*:.*$)`)
	reKeyLike       = regexp.MustCompile(`[A-Za-z0-9+/]{43}=`)
)

func regexpHideKeys(s string) string {
	return reKeyLike.ReplaceAllStringFunc(s, func(m string) string {
		if _, err := ParseKey(m); err == nil {
			return "(hidden)"
		}
		return m
	})
}

// TestMatchersAgreeWithRegexps feeds random strings built from the
// characters that matter (and keys, whole and broken) to both.
func TestMatchersAgreeWithRegexps(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	key := "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
	pieces := []string{"a", "Z", "0", "9", "_", "=", "+", ".", "-", "/", ":", " ", "\t", "é", "\xff", ".conf", "wg0", key, key[:43], key[1:], "AAAA", "x/y"}
	for i := 0; i < 50000; i++ {
		var b strings.Builder
		for n := r.Intn(8); n >= 0; n-- {
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		s := b.String()
		if got, want := ValidInterfaceName(s), reInterfaceName.MatchString(s); got != want {
			t.Fatalf("ValidInterfaceName(%q) = %v, the regexp says %v", s, got, want)
		}
		name, ok := InterfaceFromConfigPath(s)
		m := reConfigPath.FindStringSubmatch(s)
		if ok != (m != nil) || (ok && name != m[2]) {
			t.Fatalf("InterfaceFromConfigPath(%q) = %q, %v; the regexp says %q", s, name, ok, m)
		}
		if got, want := looksLikeNameserver(s), reNameserver.MatchString(s); got != want {
			t.Fatalf("looksLikeNameserver(%q) = %v, the regexp says %v", s, got, want)
		}
		if got, want := hideKeys(s), regexpHideKeys(s); got != want {
			t.Fatalf("hideKeys(%q) = %q, the regexp gives %q", s, got, want)
		}
	}
}
