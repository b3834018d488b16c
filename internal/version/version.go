// Package version says which release of this project a binary is and which
// wireguard-tools release it follows.
package version

import "runtime/debug"

// Version is stamped at link time (make sets -X .../version.Version=...);
// `go install module@vX` gets the module version from the build info.
var Version = ""

// Reference is the wireguard-tools release whose behaviour we match.
const Reference = "v1.0.20260223"

// Name is this project's name as printed by --version.
const Name = "wgtools"

// URL is where this project lives.
const URL = "https://github.com/gowg/wgtools"

// String returns Version, else the module version from the build info,
// else "devel".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
