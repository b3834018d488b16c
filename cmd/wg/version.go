package main

import (
	"fmt"

	"github.com/gowg/wgtools/internal/version"
)

// versionLine is what `wg --version` prints: our name and version, the
// wireguard-tools release we match, and where we live.
func versionLine() string {
	return fmt.Sprintf("%s %s (wireguard-tools %s compatible) - %s", version.Name, version.String(), version.Reference, version.URL)
}
