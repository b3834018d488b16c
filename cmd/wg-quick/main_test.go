package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/nettool"
)

// The test binary doubles as the tests' HTTP server and client inside the
// namespaces (no tool needed there): WGTEST_HELLO=serve ADDR answers
// "hello, wireguard"; WGTEST_HELLO=get URL prints the body;
// WGTEST_HELLO=ping ADDR sends one echo request and waits for the reply;
// WGTEST_HELLO=pings ADDR sends 20, one a second, answered or not;
// stream-serve and stream-send are one TCP stream (see streamSend).
func TestMain(m *testing.M) {
	arg := os.Args[len(os.Args)-1]
	var err error
	switch os.Getenv("WGTEST_HELLO") {
	case "":
	case "serve":
		err = nettool.Serve(arg, os.Stdout)
	case "ping":
		err = nettool.Ping(arg, time.Second)
	case "pings":
		// Background traffic for doctor's watch: an echo request a
		// second (each waits a second for its reply), 20 of them.
		for range 20 {
			start := time.Now()
			nettool.Ping(arg, time.Second)
			time.Sleep(time.Second - time.Since(start))
		}
	case "get":
		var body string
		body, err = nettool.Get(arg, 5*time.Second)
		fmt.Print(body)
	case "stream-serve":
		err = streamServe(arg)
	case "stream-send":
		err = streamSend(os.Args[len(os.Args)-2], arg)
	}
	if os.Getenv("WGTEST_HELLO") != "" {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds our wg-quick and wg once, next to the stub resolvconf
// of the reference captures, and returns their directory.
func binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "wgquick-test-bin")
		if buildErr != nil {
			return
		}
		for _, b := range []struct{ out, pkg string }{{"wg-quick", "."}, {"wg", "../wg"}} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, b.out), b.pkg)
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("building %s: %v\n%s", b.out, err, out)
				return
			}
		}
		stub := filepath.Join(binDir, "stubbin")
		os.MkdirAll(stub, 0o755)
		data, err := os.ReadFile("../../testdata/reference/wg-quick/_tools/stubbin/resolvconf")
		if err != nil {
			buildErr = err
			return
		}
		buildErr = os.WriteFile(filepath.Join(stub, "resolvconf"), data, 0o755)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// streamServe accepts one TCP connection on addr (saying "listening" on
// stdout first), counts the bytes it reads until the sender closes its
// side, and sends the count back.
func streamServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	c, err := ln.Accept()
	ln.Close()
	if err != nil {
		return err
	}
	defer c.Close()
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", n, err)
	}
	fmt.Printf("received %d\n", n)
	_, err = fmt.Fprintf(c, "%d\n", n)
	return err
}

// streamSend sends to addr, 16 KiB every 10 ms, until the file stop
// exists (bounded to 10 minutes), then closes its side and reads the
// receiver's count: any error (a reset, a lost connection) or a count
// that is not what was sent fails it.
func streamSend(addr, stop string) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 16<<10)
	var sent int64
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); {
		if _, err := os.Stat(stop); err == nil {
			break
		}
		c.SetWriteDeadline(time.Now().Add(time.Minute))
		n, err := c.Write(buf)
		sent += int64(n)
		if err != nil {
			return fmt.Errorf("after %d bytes sent: %w", sent, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(time.Minute))
	var got int64
	if _, err := fmt.Fscan(c, &got); err != nil {
		return fmt.Errorf("reading the receiver's count: %w", err)
	}
	fmt.Printf("sent %d, received %d\n", sent, got)
	if got != sent {
		return fmt.Errorf("sent %d bytes, the receiver counted %d", sent, got)
	}
	return nil
}
