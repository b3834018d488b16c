package osys

import (
	"path/filepath"
	"strings"
)

// ChildEnv is the environment of hooks and helpers: wg-quick's own, with
// LC_ALL=C and the directory of the wg-quick binary (symlinks resolved)
// first in PATH, as the reference exports.
func ChildEnv(environ []string, self string) []string {
	dir := ""
	if p, err := filepath.EvalSymlinks(self); err == nil {
		dir = filepath.Dir(p)
	}
	path := ""
	var env []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH":
			path = v
		case "LC_ALL":
		default:
			env = append(env, kv)
		}
	}
	if dir != "" {
		path = dir + ":" + path
	}
	return append(env, "PATH="+path, "LC_ALL=C")
}
