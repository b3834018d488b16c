// Package nettool is the demo's and the system tests' network toolbox, so
// that they need nothing installed in the namespaces they drive: an HTTP
// server answering "hello, wireguard", an HTTP client, and a one-packet
// ping. It is internal to wgtools and not part of wg or wg-quick.
package nettool

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// Greeting is what Serve answers.
const Greeting = "hello, wireguard"

// Serve answers every HTTP request on addr with Greeting. It prints
// "listening" once it listens and returns only on error.
func Serve(addr string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "listening")
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, Greeting)
	}))
}

// Get fetches url (within timeout) and returns its body.
func Get(url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(body), err
}

// Ping sends one ICMP (or ICMPv6) echo request to dst and waits up to
// timeout for its reply. It needs a raw socket (root).
func Ping(dst string, timeout time.Duration) error {
	ip := net.ParseIP(dst)
	if ip == nil {
		return fmt.Errorf("not an IP address: %q", dst)
	}
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
	msg := []byte{typ, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'w', 'g', 't', 'o', 'o', 'l'}
	if typ == 8 { // the kernel computes ICMPv6 checksums
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
			return fmt.Errorf("no reply from %s", dst)
		}
		if n >= 8 && (buf[0] == 0 || buf[0] == 129) && int(buf[4])<<8|int(buf[5]) == id && from.(*net.IPAddr).IP.Equal(ip) {
			return nil
		}
	}
}
