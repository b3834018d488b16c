package show

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// referenceWG is Debian's wg, which the golden files are checked against.
const referenceWG = "/usr/bin/wg"

// uapiGet is a device as a userspace daemon answers "get=1", with each
// handshake moved so that it is as far before now as it is before the
// tests' fixed clock.
func uapiGet(d *conf.Device, now time.Time) string {
	var b strings.Builder
	if !d.PrivateKey.IsZero() {
		fmt.Fprintf(&b, "private_key=%s\n", d.PrivateKey.Hex())
	}
	if d.ListenPort != 0 {
		fmt.Fprintf(&b, "listen_port=%d\n", d.ListenPort)
	}
	if d.FwMark != 0 {
		fmt.Fprintf(&b, "fwmark=%d\n", d.FwMark)
	}
	for _, p := range d.Peers {
		fmt.Fprintf(&b, "public_key=%s\n", p.PublicKey.Hex())
		if !p.PresharedKey.IsZero() {
			fmt.Fprintf(&b, "preshared_key=%s\n", p.PresharedKey.Hex())
		}
		fmt.Fprintf(&b, "protocol_version=1\n")
		if p.Endpoint.IsValid() {
			fmt.Fprintf(&b, "endpoint=%s\n", p.Endpoint)
		}
		if !p.LastHandshake.IsZero() {
			at := now.Add(p.LastHandshake.Sub(goldenNow))
			fmt.Fprintf(&b, "last_handshake_time_sec=%d\nlast_handshake_time_nsec=%d\n", at.Unix(), at.Nanosecond())
		} else {
			fmt.Fprintf(&b, "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\n")
		}
		fmt.Fprintf(&b, "tx_bytes=%d\nrx_bytes=%d\npersistent_keepalive_interval=%d\n", p.TxBytes, p.RxBytes, p.PersistentKeepalive)
		for _, a := range p.AllowedIPs {
			fmt.Fprintf(&b, "allowed_ip=%s\n", a)
		}
	}
	return b.String()
}

// goldenNow is the fixed clock of the golden files.
var goldenNow = now

// daemon answers "get=1" on a UAPI socket with a device as of the moment
// it is asked, and notes that moment.
type daemon struct {
	ln   *net.UnixListener
	dev  *conf.Device
	mu   sync.Mutex
	asks []time.Time
}

func startDaemon(t *testing.T, path string, d *conf.Device) *daemon {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	dm := &daemon{ln: ln, dev: d}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dm.answer(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return dm
}

func (dm *daemon) answer(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	if l, err := r.ReadString('\n'); err != nil || l != "get=1\n" {
		return
	}
	r.ReadString('\n')
	now := time.Now()
	dm.mu.Lock()
	dm.asks = append(dm.asks, now)
	dm.mu.Unlock()
	fmt.Fprintf(c, "%serrno=0\n\n", uapiGet(dm.dev, now))
}

// TestGoldenAgainstReference: the golden files of devices the reference
// was not captured on (handshakes in the future, at the same second, long
// ago; every transfer unit; every endpoint form; no peers; a name with an
// escape sequence) are what Debian's wg prints for the same device, served
// to it by a UAPI socket in a test host. The golden files were written by
// this package (-update); this is where their content is checked.
func TestGoldenAgainstReference(t *testing.T) {
	testnet.Require(t)
	if _, err := os.Stat(referenceWG); err != nil {
		t.Skip("needs " + referenceWG + " (wireguard-tools) to check the golden files against")
	}
	h := testnet.NewHost(t, "wgshow")
	for _, c := range []struct {
		golden string
		dev    *conf.Device
		args   []string
		env    []string
	}{
		{"pretty-clocks", clocks(), nil, nil},
		{"pretty-clocks-color", clocks(), nil, []string{"WG_COLOR_MODE=always"}},
		{"pretty-units", units(), nil, nil},
		{"pretty-endpoints", endpoints(), nil, nil},
		{"pretty-empty", &conf.Device{Name: "empty0"}, nil, []string{"WG_COLOR_MODE=always"}},
		{"pretty-escape-name", &conf.Device{Name: "a\x1b[31mb", ListenPort: 2}, nil, nil},
		{"dump-endpoints", endpoints(), []string{"dump"}, nil},
	} {
		t.Run(c.golden, func(t *testing.T) {
			want, err := os.ReadFile("testdata/" + c.golden + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			dm := startDaemon(t, h.Path("/run/wireguard/"+c.dev.Name+".sock"), c.dev)
			env := append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "WG_COLOR_MODE=never"}, c.env...)
			// A handshake's age counts whole seconds from when the
			// reference reads its clock: a run in which a second began
			// between the daemon's answer and the reference's end is
			// tried again.
			for try := 0; ; try++ {
				dm.mu.Lock()
				dm.asks = nil
				dm.mu.Unlock()
				r := h.RunEnv(env, referenceWG, append([]string{"show", c.dev.Name}, c.args...)...)
				end := time.Now()
				dm.mu.Lock()
				asks := dm.asks
				dm.mu.Unlock()
				if r.Code != 0 || r.Stderr != "" || len(asks) != 1 {
					t.Fatalf("wg show %s: exit %d, %d requests, stderr %q", c.dev.Name, r.Code, len(asks), r.Stderr)
				}
				if asks[0].Unix() != end.Unix() && try < 5 {
					continue
				}
				if r.Stdout != string(want) {
					t.Errorf("the reference prints (-) where testdata/%s.golden has (+):\n%s", c.golden, difftest.Lines(r.Stdout, string(want)))
				}
				break
			}
		})
	}
}
