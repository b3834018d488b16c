package quick

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/firewall"
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
	// Firewall is the full tunnel's firewall backend (WG_QUICK_FIREWALL).
	Firewall firewall.Backend
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
		Firewall:  newOSFirewall(o.Firewall),
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
	var (
		busOnce sync.Once
		bus     *dns.Bus
		busErr  error
	)
	sys.Resolved = func() (ResolvedBus, error) {
		busOnce.Do(func() { bus, busErr = dns.ConnectSystemBus() })
		if busErr != nil {
			return nil, busErr
		}
		return bus, nil
	}
	return sys, func() {
		dev.Close()
		if bus != nil {
			bus.Close()
		}
	}
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

func (osFiles) ReadFile(name string) ([]byte, error)     { return os.ReadFile(name) }
func (osFiles) Stat(name string) (fs.FileInfo, error)    { return os.Stat(name) }
func (osFiles) Lstat(name string) (fs.FileInfo, error)   { return os.Lstat(name) }
func (osFiles) EvalSymlinks(name string) (string, error) { return filepath.EvalSymlinks(name) }

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

// stopGrace is how long a program told to stop (SIGTERM) may take before
// it is killed.
const stopGrace = 5 * time.Second

// Run runs c. When ctx is done (wg-quick got a signal), the program and
// what it started get SIGTERM, again every 100 ms while it runs, and
// SIGKILL after stopGrace. Without a terminal the program runs in a process
// group of its own, which is signalled as one; with a terminal it stays in
// wg-quick's group (so that it can read the terminal, and ^C reaches it
// directly) and its process tree is signalled.
func (osExec) Run(ctx context.Context, c Command) (int, error) {
	cmd := exec.Command(c.Path)
	cmd.Args = c.Args
	cmd.Env = c.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	group := !isTerminal(c.Stdin)
	if group {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		signal := func(sig syscall.Signal) {
			if group {
				syscall.Kill(-cmd.Process.Pid, sig)
			} else {
				signalTree(cmd.Process.Pid, sig)
			}
		}
		deadline := time.After(stopGrace)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		signal(syscall.SIGTERM)
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				signal(syscall.SIGTERM)
			case <-deadline:
				signal(syscall.SIGKILL)
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil && cmd.ProcessState != nil {
		// It ran and ended, but its output could not be copied.
		return cmd.ProcessState.ExitCode(), nil
	}
	return 0, err
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
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
		Warn: func(msg string) {
			if u.opts.Stderr != nil {
				io.WriteString(u.opts.Stderr, "[!] "+msg+"\n")
			}
		},
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

// signalTree sends sig to pid and to every process descended from it.
func signalTree(pid int, sig syscall.Signal) error {
	children := map[int][]int{}
	if entries, err := os.ReadDir("/proc"); err == nil {
		for _, e := range entries {
			child, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			// "PID (comm) STATE PPID ...": comm may hold spaces and parens.
			i := strings.LastIndexByte(string(stat), ')')
			if i < 0 {
				continue
			}
			f := strings.Fields(string(stat[i+1:]))
			if len(f) < 2 {
				continue
			}
			if ppid, err := strconv.Atoi(f[1]); err == nil {
				children[ppid] = append(children[ppid], child)
			}
		}
	}
	var all []int
	var walk func(int)
	walk = func(p int) {
		all = append(all, p)
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	// Descendants first, so none is reparented before it is signalled.
	for i := len(all) - 1; i > 0; i-- {
		syscall.Kill(all[i], sig)
	}
	return syscall.Kill(pid, sig)
}

// osFirewall is internal/firewall in wg-quick's own network namespace.
type osFirewall struct {
	fw  *firewall.Firewall
	svm firewall.SrcValidMark
}

func newOSFirewall(b firewall.Backend) *osFirewall {
	return &osFirewall{fw: firewall.New(firewall.Options{Backend: b})}
}

func firewallOp(op firewall.Op) FirewallOp {
	return FirewallOp{Line: op.String(), Payload: op.Payload(), Do: op.Do}
}

func (f *osFirewall) PlanInstall(ctx context.Context, s firewall.Spec) (FirewallOp, error) {
	op, err := f.fw.PlanInstall(ctx, s)
	if err != nil {
		return FirewallOp{}, err
	}
	return firewallOp(op), nil
}

func (f *osFirewall) PlanRemove(ctx context.Context, iface string) ([]FirewallOp, error) {
	ops, err := f.fw.PlanRemove(ctx, iface)
	out := make([]FirewallOp, len(ops))
	for i, op := range ops {
		out[i] = firewallOp(op)
	}
	return out, err
}

func (f *osFirewall) Marks(ctx context.Context, iface string) ([]uint32, error) {
	return f.fw.Marks(ctx, iface)
}

func (f *osFirewall) EnableSrcValidMark(iface string) (*FirewallOp, error) {
	op, err := f.svm.PlanEnable(iface)
	if op == nil || err != nil {
		return nil, err
	}
	o := firewallOp(*op)
	return &o, nil
}

func (f *osFirewall) RestoreSrcValidMark(ctx context.Context, iface string) (*FirewallOp, error) {
	op, err := f.svm.PlanRestore(ctx, iface, f.fw)
	if op == nil || err != nil {
		return nil, err
	}
	o := firewallOp(*op)
	return &o, nil
}
