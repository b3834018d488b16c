package dns

import (
	"path/filepath"
)

// Kind is the DNS manager wg-quick uses.
type Kind int

const (
	// None: neither a resolvconf to run nor systemd-resolved to talk to.
	None Kind = iota
	// Resolvconf: a real resolvconf program, run as the reference runs it.
	Resolvconf
	// Resolved: systemd-resolved, over D-Bus.
	Resolved
)

func (k Kind) String() string {
	switch k {
	case Resolvconf:
		return "resolvconf"
	case Resolved:
		return "systemd-resolved"
	}
	return "none"
}

// Host is what Detect looks at.
type Host struct {
	// LookPath finds a program in wg-quick's PATH (as bash's `type -P`).
	LookPath func(name string) (string, error)
	// EvalSymlinks resolves every symbolic link of a path.
	EvalSymlinks func(path string) (string, error)
	// Resolved reports whether systemd-resolved answers on the system bus
	// (its name has an owner, or the bus can start it); err when the bus
	// cannot be reached.
	Resolved func() (bool, error)
}

// Manager is Detect's choice.
type Manager struct {
	Kind Kind
	// Resolvconf is the resolvconf program (Kind Resolvconf), or
	// systemd's shim when one was found (for messages).
	Resolvconf string
	// Missing says, for Kind None, what is missing, in words for the user.
	Missing string
}

// shimTargets are the programs systemd's resolvconf is a link to.
var shimTargets = map[string]bool{"resolvectl": true, "systemd-resolve": true}

// IsShim reports whether the resolvconf at path is systemd's compatibility
// shim: a symbolic link to resolvectl (or to the older systemd-resolve).
func IsShim(path string, evalSymlinks func(string) (string, error)) bool {
	target, err := evalSymlinks(path)
	return err == nil && target != path && shimTargets[filepath.Base(target)]
}

// Detect chooses the DNS manager: a resolvconf that is not systemd's shim
// first (the reference's behaviour, unchanged); else systemd-resolved when
// it answers on the system bus; else none, saying what is missing.
func Detect(h Host) Manager {
	path, err := h.LookPath("resolvconf")
	shim := err == nil && IsShim(path, h.EvalSymlinks)
	if err == nil && !shim {
		return Manager{Kind: Resolvconf, Resolvconf: path}
	}
	running, busErr := false, error(nil)
	if h.Resolved != nil {
		running, busErr = h.Resolved()
	}
	if running {
		return Manager{Kind: Resolved, Resolvconf: path}
	}
	why := "systemd-resolved is not running"
	if busErr != nil {
		why = "systemd-resolved cannot be reached on the system bus (" + busErr.Error() + ")"
	}
	if shim {
		return Manager{Kind: None, Resolvconf: path, Missing: "the only resolvconf (" + path +
			") is systemd's, a link to resolvectl, and " + why +
			"; start systemd-resolved, or install openresolv or resolvconf, or remove DNS from the file"}
	}
	return Manager{Kind: None, Missing: "there is no resolvconf in PATH and " + why +
		"; install openresolv or resolvconf, or start systemd-resolved, or remove DNS from the file"}
}
