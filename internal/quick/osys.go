package quick

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gowg/wgtools/internal/netlinkx"
	"github.com/gowg/wgtools/internal/userspace"
	"github.com/gowg/wgtools/internal/wgdev"
)

// OSOptions are what the real machine's Sys needs from main.
type OSOptions struct {
	Prog string // program name for messages
	Self string // this executable (re-executed for the userspace device)
	// Environ and LookupEnv are wg-quick's own environment.
	Environ   []string
	LookupEnv func(string) (string, bool)
	Stdin     *os.File
	Stdout    *os.File
	Stderr    *os.File
}

// NewOSSys wires the real machine: netlink, wgdev, the embedded userspace
// device, programs run with the reference's environment (LC_ALL=C, the
// directory of wg-quick first in PATH), the per-interface lock in
// /var/run/wireguard. Close the returned function's resources with the
// returned closer.
func NewOSSys(o OSOptions) (*Sys, func()) {
	h := netlinkx.New()
	dev := wgdev.New()
	env := childEnv(o.Environ, o.Self)
	sys := &Sys{
		Net:       h,
		Dev:       dev,
		Exec:      osExec{},
		Files:     osFiles{},
		Prog:      o.Prog,
		Env:       env,
		LookupEnv: o.LookupEnv,
		Stdin:     o.Stdin,
		Stdout:    o.Stdout,
		Stderr:    o.Stderr,
		Lock: func(iface, verb string) (*Lock, error) {
			return AcquireLock(wgdev.DefaultRunDir, iface, verb)
		},
	}
	sys.Userspace = &osUserspace{net: h, opts: o, env: env}
	return sys, func() { dev.Close() }
}

// childEnv is the environment of hooks and helpers: wg-quick's own, with
// LC_ALL=C and the directory of the wg-quick binary (symlinks resolved)
// first in PATH, as the reference exports.
func childEnv(environ []string, self string) []string {
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

type osFiles struct{}

func (osFiles) ReadFile(name string) ([]byte, error)   { return os.ReadFile(name) }
func (osFiles) Stat(name string) (fs.FileInfo, error)  { return os.Stat(name) }
func (osFiles) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

type osExec struct{}

// LookPath searches env's PATH as bash's `type -P` does.
func (osExec) LookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if executable(name) {
			return name, nil
		}
		return "", exec.ErrNotFound
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		if p := filepath.Join(dir, name); executable(p) {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func executable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// hookWaitDelay is how long a program told to stop (SIGTERM) may take
// before it is killed.
const hookWaitDelay = 10 * time.Second

func (osExec) Run(ctx context.Context, c Command) (int, error) {
	cmd := exec.CommandContext(ctx, c.Path)
	cmd.Args = c.Args
	cmd.Env = c.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = hookWaitDelay
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil && cmd.ProcessState != nil {
		// Started and ended, but its output could not be copied.
		return cmd.ProcessState.ExitCode(), nil
	}
	return 0, err
}

type osUserspace struct {
	net  *netlinkx.Handle
	opts OSOptions
	env  []string
}

func (u *osUserspace) KernelModule() bool {
	_, err := os.Stat("/sys/module/wireguard")
	return err == nil
}

func (u *osUserspace) StartEmbedded(name string) error {
	level, _ := u.opts.LookupEnv("LOG_LEVEL")
	return userspace.Start(name, userspace.Options{
		Self:     u.opts.Self,
		Stdout:   u.opts.Stdout,
		Stderr:   u.opts.Stderr,
		LogLevel: level,
		Env:      u.env,
		Prepare: func(name string) error {
			// No IPv6 link-local address, as on a kernel interface. Best
			// effort: it fails only where IPv6 is off, and then there is
			// no link-local address anyway.
			u.net.SetAddrGenModeNone(name)
			return nil
		},
	})
}

func (u *osUserspace) Watch(name string) func(time.Duration) bool {
	s := userspace.Watch(name)
	if s == nil {
		return nil
	}
	return s.Wait
}
