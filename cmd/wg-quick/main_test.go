package main

import (
	"fmt"
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
// WGTEST_HELLO=pings ADDR sends 20, one a second, answered or not.
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
