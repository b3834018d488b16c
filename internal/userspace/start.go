package userspace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/ipc"
)

// DaemonArg is the reserved first argument that makes the wg-quick binary
// run as the daemon of one userspace device.
const DaemonArg = "__userspace-device"

// Environment variables that carry the inherited descriptors, as
// wireguard-go names them, and the readiness pipe.
const (
	envTUNFD   = "WG_TUN_FD"
	envUAPIFD  = "WG_UAPI_FD"
	envReadyFD = "WG_READY_FD"
)

// RunDir is where UAPI sockets are (wireguard-go's fixed directory).
const RunDir = "/var/run/wireguard"

// SocketPath is the UAPI socket of the device name.
func SocketPath(name string) string { return filepath.Join(RunDir, name+".sock") }

// startTimeout bounds the wait for the daemon to serve.
const startTimeout = 15 * time.Second

// Options are what Start needs from its caller.
type Options struct {
	// Self is the executable to re-execute (the wg-quick binary).
	Self string
	// Stdout and Stderr receive the daemon's log when Verbose is set
	// (wireguard-go's LOG_LEVEL); otherwise its output is discarded.
	Stdout, Stderr *os.File
	// LogLevel is wireguard-go's LOG_LEVEL value ("" for the default,
	// errors only, to /dev/null).
	LogLevel string
	// Env is the daemon's environment (the descriptors' variables are
	// added to it).
	Env []string
	// Warn, when set, is told (one line, without a newline) what the
	// daemon could not drop of its capabilities (see keptCaps); it runs
	// all the same.
	Warn func(string)
	// Prepare is called with the interface name once the TUN interface
	// exists and before the daemon starts (wg-quick turns off IPv6
	// address generation there). An error stops Start.
	Prepare func(name string) error
}

// Start brings up the userspace device name and returns when its daemon
// serves UAPI requests. On failure nothing of it remains.
func Start(name string, opts Options) (err error) {
	tunFile, err := openTUN(name)
	if err != nil {
		return fmt.Errorf("Failed to create TUN device: %w", err)
	}
	defer tunFile.Close()
	if opts.Prepare != nil {
		if err := opts.Prepare(name); err != nil {
			return err
		}
	}
	uapiFile, err := ipc.UAPIOpen(name)
	if err != nil {
		return fmt.Errorf("UAPI listen error: %w", err)
	}
	defer uapiFile.Close()
	defer func() {
		if err != nil {
			os.Remove(SocketPath(name))
		}
	}()

	readR, readW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("starting the userspace device: %w", err)
	}
	defer readR.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		readW.Close()
		return fmt.Errorf("starting the userspace device: %w", err)
	}
	defer null.Close()
	stdout, stderr := null, null
	if opts.LogLevel != "" && opts.LogLevel != "silent" {
		if opts.Stdout != nil {
			stdout = opts.Stdout
		}
		if opts.Stderr != nil {
			stderr = opts.Stderr
		}
	}
	env := append(append([]string(nil), opts.Env...),
		envTUNFD+"=3", envUAPIFD+"=4", envReadyFD+"=5")
	proc, warn, err := startConfined(opts.Self, []string{filepath.Base(opts.Self), DaemonArg, name}, &os.ProcAttr{
		Dir:   "/",
		Env:   env,
		Files: []*os.File{null, stdout, stderr, tunFile, uapiFile, readW},
		// Its own process group: a terminal's ^C or ^Z to wg-quick does
		// not reach it. Not its own session: with the scheduler's
		// autogroups (CONFIG_SCHED_AUTOGROUP, on by default), a new
		// session is a new scheduling group, which the kernel then
		// shares the CPU with as one entity against the session that
		// makes and takes the tunnel's traffic; under load that halved
		// the throughput and cost half as much CPU again per GB
		// (docs/performance.md). The standalone wireguard-go stays in
		// its caller's session too.
		Sys: &syscall.SysProcAttr{Setpgid: true},
	})
	readW.Close()
	if err != nil {
		return fmt.Errorf("starting the userspace device: %w", err)
	}
	if err := awaitReady(readR, startTimeout); err != nil {
		proc.Kill()
		proc.Wait()
		return err
	}
	if warn != nil && opts.Warn != nil {
		opts.Warn(fmt.Sprintf("The userspace device of `%s' keeps more capabilities than it needs: %s", name, strings.ReplaceAll(warn.Error(), "\n", "; ")))
	}
	// The daemon outlives wg-quick; init reaps it.
	proc.Release()
	return nil
}

// awaitReady reads the daemon's one-line report.
func awaitReady(r *os.File, timeout time.Duration) error {
	r.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	switch {
	case line == "ok\n":
		return nil
	case strings.HasPrefix(line, "error: "):
		return errors.New(strings.TrimSuffix(strings.TrimPrefix(line, "error: "), "\n"))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("the userspace device did not start within %s", timeout)
	default:
		return errors.New("the userspace device exited while starting")
	}
}

// startConfined starts the daemon from a thread of its own that holds only
// the capabilities the daemon keeps (confineThread), so that the daemon
// and all its threads hold only those from their start. The thread is
// never given back to the Go scheduler: it ends with the goroutine. warn
// says what could not be dropped.
func startConfined(path string, argv []string, attr *os.ProcAttr) (proc *os.Process, warn, err error) {
	type started struct {
		proc      *os.Process
		warn, err error
	}
	done := make(chan started, 1)
	go func() {
		runtime.LockOSThread() // and never unlocked
		warn := confineThread()
		proc, err := os.StartProcess(path, argv, attr)
		done <- started{proc, warn, err}
	}()
	s := <-done
	return s.proc, s.warn, s.err
}

// openTUN creates the TUN interface name as wireguard-go does (no packet
// information header, virtio-net header for offloads) and returns its file,
// non-blocking and ready for tun.CreateTUNFromFile.
func openTUN(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun"), nil
}
