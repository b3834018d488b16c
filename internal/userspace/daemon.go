package userspace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"
)

// uapiBacklog is the UAPI socket's listen backlog (the kernel caps it at
// net.core.somaxconn, as it does for Go's own listeners).
const uapiBacklog = 4096

// DaemonMain runs the device whose TUN and UAPI descriptors were inherited
// from Start; args are the arguments after DaemonArg (the interface name).
// It returns the process's exit status.
func DaemonMain(args []string, lookupEnv func(string) (string, bool)) int {
	ready := readyPipe(lookupEnv)
	fail := func(format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		if ready != nil {
			fmt.Fprintf(ready, "error: %s\n", msg)
			ready.Close()
		} else {
			fmt.Fprintln(os.Stderr, msg)
		}
		return 1
	}
	if len(args) != 1 {
		return fail("usage: %s INTERFACE (internal to wg-quick)", DaemonArg)
	}
	name := args[0]
	tunFD, err1 := inheritedFD(lookupEnv, envTUNFD)
	uapiFD, err2 := inheritedFD(lookupEnv, envUAPIFD)
	if err := errors.Join(err1, err2); err != nil {
		return fail("%v", err)
	}
	if err := unix.SetNonblock(tunFD, true); err != nil {
		return fail("Failed to create TUN device: %v", err)
	}
	// The collector is off from the start, as for a configuration
	// request (see governor): the device allocates tens of megabytes of
	// packet buffers as it starts and as its sockets open, over which it
	// would otherwise run twice before the first packet. It is back on
	// once the configuration settles (mem.touch below).
	mem := newGovernor(lookupEnv)
	mem.configuring()
	tdev, err := tun.CreateTUNFromFile(os.NewFile(uintptr(tunFD), "/dev/net/tun"), device.DefaultMTU)
	if err != nil {
		return fail("Failed to create TUN device: %v", err)
	}
	level, _ := lookupEnv("LOG_LEVEL")
	logger := device.NewLogger(logLevel(level), fmt.Sprintf("(%s) ", name))
	watched := newGoneTUN(tdev)
	dev := device.NewDevice(watched, conn.NewDefaultBind(), logger)
	// The socket was made to listen by wg-quick, whose credentials its
	// clients would see (SO_PEERCRED): listening again here makes them
	// the daemon's, so that `wg-quick down` (userspace.Watch) finds and
	// waits for this process, not for the long-gone wg-quick up.
	if err := unix.Listen(uapiFD, uapiBacklog); err != nil {
		dev.Close()
		return fail("Failed to listen on uapi socket: %v", err)
	}
	uapi, err := ipc.UAPIListen(name, os.NewFile(uintptr(uapiFD), "uapi"))
	if err != nil {
		dev.Close()
		return fail("Failed to listen on uapi socket: %v", err)
	}
	logger.Verbosef("Device started")

	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM, unix.SIGINT)
	// In the caller's session, maybe with its terminal: a hang-up is
	// not for the daemon, and a log written to the terminal from the
	// background must not stop it (SIGTTOU ignored, the write goes on).
	signal.Ignore(unix.SIGHUP, unix.SIGPIPE, unix.SIGTTOU, unix.SIGTTIN, unix.SIGTSTP)
	errs := make(chan error, 1)
	srv := newServer(dev)
	srv.mem = mem
	go func() {
		for {
			c, err := uapi.Accept()
			if err != nil {
				errs <- err
				return
			}
			go srv.serve(c)
		}
	}()
	if ready != nil {
		io.WriteString(ready, "ok\n")
		ready.Close()
	}
	mem.touch()
	select {
	case <-term:
	case <-errs:
	case <-watched.Gone():
	case <-dev.Wait():
	}
	uapi.Close() // removes the socket
	logger.Verbosef("Shutting down")
	// No dev.Close(): exiting closes the TUN descriptor (which deletes the
	// interface, if it is still there), the sockets and the memory at
	// once, where closing the device stops its peers one by one (seconds
	// with thousands of peers on a loaded machine, which wg-quick down
	// waits for).
	return 0
}

func readyPipe(lookupEnv func(string) (string, bool)) *os.File {
	fd, err := inheritedFD(lookupEnv, envReadyFD)
	if err != nil {
		return nil
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "ready")
}

func inheritedFD(lookupEnv func(string) (string, bool), key string) (int, error) {
	v, ok := lookupEnv(key)
	if !ok {
		return 0, fmt.Errorf("%s is not set (this entry point is internal to wg-quick)", key)
	}
	fd, err := strconv.ParseUint(v, 10, 31)
	if err != nil || fd < 3 {
		return 0, fmt.Errorf("%s is not a descriptor: %q", key, v)
	}
	return int(fd), nil
}

// logLevel maps wireguard-go's LOG_LEVEL.
func logLevel(v string) int {
	switch v {
	case "verbose", "debug":
		return device.LogLevelVerbose
	case "silent":
		return device.LogLevelSilent
	}
	return device.LogLevelError
}
