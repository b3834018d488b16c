package conf

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxInterfaceNameLen is IFNAMSIZ-1.
const MaxInterfaceNameLen = 15

var (
	// Compiled on first use: a process that never checks a name (wg
	// genkey, wg show) does not pay for them at start.
	interfaceNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9_=+.-]{1,15}$`) })
	configPathPattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(^|/)([a-zA-Z0-9_=+.-]{1,15})\.conf$`) })
)

// ValidInterfaceName applies wg-quick's rule: 1 to 15 characters of
// [a-zA-Z0-9_=+.-].
func ValidInterfaceName(name string) bool { return interfaceNamePattern().MatchString(name) }

// DefaultConfigDir is where wg-quick looks for NAME.conf.
const DefaultConfigDir = "/etc/wireguard"

// QuickConfigPath turns wg-quick's argument into a config path: a bare
// interface name means DefaultConfigDir/NAME.conf, anything else is a path.
func QuickConfigPath(arg string) string {
	if ValidInterfaceName(arg) {
		return filepath.Join(DefaultConfigDir, arg+".conf")
	}
	return arg
}

// InterfaceFromConfigPath extracts the interface name from a config path
// as given (before any symlink is resolved): the base name without .conf,
// which must itself be a valid name.
func InterfaceFromConfigPath(path string) (string, bool) {
	m := configPathPattern().FindStringSubmatch(path)
	if m == nil {
		return "", false
	}
	return m[2], true
}

// InterfaceNameRule is wg-quick's rule for names, as a user reads it.
const InterfaceNameRule = "An interface name is 1 to 15 bytes of letters, digits and `_=+.-'"

// ConfigNameProblem says why a config path's base name is not NAME.conf
// with NAME a valid interface name ("" when it is).
func ConfigNameProblem(path string) string {
	if _, ok := InterfaceFromConfigPath(path); ok {
		return ""
	}
	base := filepath.Base(path)
	name, ok := strings.CutSuffix(base, ".conf")
	switch {
	case !ok:
		return fmt.Sprintf("`%s' does not end in .conf", printable(base))
	case name == "":
		return "there is no name before .conf"
	case len(name) > MaxInterfaceNameLen:
		return fmt.Sprintf("`%s' is %d bytes", printable(name), len(name))
	}
	for _, r := range name {
		if !(r < utf8.RuneSelf && interfaceNamePattern().MatchString(string(r))) {
			return fmt.Sprintf("`%s' has `%s'", printable(name), printable(string(r)))
		}
	}
	return fmt.Sprintf("`%s' is not NAME.conf", printable(path))
}
