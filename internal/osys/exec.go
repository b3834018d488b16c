package osys

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Command is a program to run: a hook (bash), resolvconf, or the
// userspace implementation named by WG_QUICK_USERSPACE_IMPLEMENTATION.
type Command struct {
	Path   string // found with LookPath
	Args   []string
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Exec runs programs.
type Exec struct{}

// LookPath searches env's PATH as bash's `type -P` does.
func (Exec) LookPath(name string, env []string) (string, error) {
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
func (Exec) Run(ctx context.Context, c Command) (int, error) {
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
