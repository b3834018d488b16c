package conf

import (
	"fmt"
	"path/filepath"
	"strings"
)

// MaxInterfaceNameLen is IFNAMSIZ-1.
const MaxInterfaceNameLen = 15

// ValidInterfaceName applies wg-quick's rule, ^[a-zA-Z0-9_=+.-]{1,15}$.
// (Written out rather than as a regexp: wg links this package, and the
// regexp package's start-up work would be paid by every wg process.)
func ValidInterfaceName(name string) bool {
	if len(name) == 0 || len(name) > MaxInterfaceNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_=+.-", c) >= 0) {
			return false
		}
	}
	return true
}

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
// which must itself be a valid name (wg-quick's
// (^|/)([a-zA-Z0-9_=+.-]{1,15})\.conf$).
func InterfaceFromConfigPath(path string) (string, bool) {
	base := path[strings.LastIndexByte(path, '/')+1:]
	name, ok := strings.CutSuffix(base, ".conf")
	if !ok || !ValidInterfaceName(name) {
		return "", false
	}
	return name, true
}

// InterfaceNameRule is wg-quick's rule for names, as a user reads it.
const InterfaceNameRule = "An interface name is 1 to 15 bytes of letters, digits and `_=+.-'"

// ConfigNameProblem says why a config path's base name is not NAME.conf
// with NAME a valid interface name ("" when it is).
func ConfigNameProblem(path string) string {
	if _, ok := InterfaceFromConfigPath(path); ok {
		return ""
	}
	base := path[strings.LastIndexByte(path, '/')+1:]
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
		if !ValidInterfaceName(string(r)) {
			return fmt.Sprintf("`%s' has `%s'", printable(name), printable(string(r)))
		}
	}
	return fmt.Sprintf("`%s' is not NAME.conf", printable(path))
}
