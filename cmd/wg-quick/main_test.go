package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as the tests' HTTP server and client inside the
// namespaces (no tool needed there): WGTEST_HELLO=serve ADDR answers
// "hello, wireguard"; WGTEST_HELLO=get URL prints the body.
func TestMain(m *testing.M) {
	switch os.Getenv("WGTEST_HELLO") {
	case "serve":
		ln, err := net.Listen("tcp", os.Args[len(os.Args)-1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "hello, wireguard")
		}))
		os.Exit(1)
	case "ping":
		if err := ping(os.Args[len(os.Args)-1], time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "get":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", os.Args[len(os.Args)-1], nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(os.Stdout, resp.Body)
		os.Exit(0)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// ping sends one ICMP echo request to dst and waits for its reply (the
// machine need not have ping installed).
func ping(dst string, timeout time.Duration) error {
	ip := net.ParseIP(dst)
	network, typ := "ip4:icmp", byte(8)
	if ip.To4() == nil {
		network, typ = "ip6:ipv6-icmp", 128
	}
	c, err := net.ListenPacket(network, "")
	if err != nil {
		return err
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	msg := []byte{typ, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'w', 'g', 't', 'e', 's', 't'}
	if typ == 8 { // ICMPv6 checksums are the kernel's job
		var sum uint32
		for i := 0; i < len(msg); i += 2 {
			sum += uint32(msg[i])<<8 | uint32(msg[i+1])
		}
		sum = (sum >> 16) + (sum & 0xffff)
		sum += sum >> 16
		msg[2], msg[3] = byte(^sum>>8), byte(^sum)
	}
	if _, err := c.WriteTo(msg, &net.IPAddr{IP: ip}); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("no reply from %s: %v", dst, err)
		}
		// An echo reply (0 or 129) with our id.
		if n >= 8 && (buf[0] == 0 || buf[0] == 129) && int(buf[4])<<8|int(buf[5]) == id && from.(*net.IPAddr).IP.Equal(ip) {
			return nil
		}
	}
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
