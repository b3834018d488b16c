package netlinkx

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"

	"github.com/gowg/wgtools/internal/conf"
)

// Handle reads and changes the network namespace the process is in.
type Handle struct {
	h *netlink.Handle
	// batch sizes the batched exchanges' socket (tests shrink it).
	batch batchTuning
}

// New returns a Handle on the current network namespace. Each request uses
// its own socket, opened with extended acknowledgements so that the
// kernel's error messages reach the user as iproute2 shows them.
func New() *Handle {
	// A process-wide switch in the netlink package that only adds the
	// kernel's message to errors of requests without a shared socket.
	nl.EnableErrorMessageReporting = true
	// The zero Handle has no shared sockets: every request opens one in
	// the namespace of the calling thread, as iproute2 does.
	return &Handle{h: &netlink.Handle{}}
}

// dumpRetries bounds how often an interrupted dump is read again.
const dumpRetries = 5

// retryDump runs a dump again while the kernel reports it interrupted.
func retryDump[T any](what string, dump func() (T, error)) (T, error) {
	var v T
	var err error
	for range dumpRetries {
		v, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, fmt.Errorf("%s: the kernel's table kept changing while it was read (%d tries)", what, dumpRetries)
}

// Error is a failed Op, worded as iproute2 words it.
type Error struct {
	// Cmd is the command line of the Op that failed.
	Cmd string
	// Err is the underlying error (a syscall.Errno, possibly with the
	// kernel's message).
	Err error
	// text is what ip prints.
	text string
	code int
}

func (e *Error) Error() string { return e.text }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is ip's exit status for this failure: 2 when the kernel refused
// the request, 1 when ip would not have sent it.
func (e *Error) ExitCode() int { return e.code }

// NewError words err, the failure of the change cmd names, as ip would.
// Apply's errors are made by it; fakes of the namespace use it too.
func NewError(cmd string, err error) *Error { return opError(cmd, err) }

// opError words err as ip would for cmd.
func opError(cmd string, err error) *Error {
	e := &Error{Cmd: cmd, Err: err, code: 2}
	var nf netlink.LinkNotFoundError
	var missing *missingLinkError
	var errno syscall.Errno
	switch {
	case errors.As(err, &missing):
		e.text, e.code = fmt.Sprintf("Cannot find device \"%s\"", missing.name), 1
	case errors.As(err, &nf):
		e.text, e.code = "Cannot find device", 1
	case errors.As(err, &errno):
		if msg, ok := strings.CutPrefix(err.Error(), errno.Error()+": "); ok && msg != "" {
			if !strings.HasSuffix(msg, ".") {
				msg += "."
			}
			e.text = "Error: " + msg
		} else {
			e.text = "RTNETLINK answers: " + conf.ErrnoString(errno)
		}
	default:
		e.text = err.Error()
	}
	return e
}

// MissingLink is the error of a change naming a device that does not
// exist (ip's `Cannot find device "NAME"`, status 1).
func MissingLink(name string) error { return &missingLinkError{name: name} }

// missingLinkError is a device name that does not resolve to a link.
type missingLinkError struct{ name string }

func (m *missingLinkError) Error() string { return fmt.Sprintf("Cannot find device \"%s\"", m.name) }
