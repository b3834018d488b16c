package firewall

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
	"golang.org/x/sys/unix"
)

// udpIn opens a UDP socket inside the namespace fd, bound to addr, with
// the fwmark mark when it is not 0.
func udpIn(t *testing.T, fd int, addr string, mark int) *net.UDPConn {
	t.Helper()
	var pc net.PacketConn
	err := inNetNS(fd, func() error {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(s uintptr) {
				if mark != 0 {
					serr = unix.SetsockoptInt(int(s), unix.SOL_SOCKET, unix.SO_MARK, mark)
				}
			})
			if err != nil {
				return err
			}
			return serr
		}}
		var err error
		pc, err = lc.ListenPacket(context.Background(), "udp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("UDP socket on %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.(*net.UDPConn)
}

// failsafe bounds a wait that should end at once; reaching it fails the
// test (it never decides a pass).
const failsafe = 10 * time.Second

// readUntil reads datagrams until one says want, and returns all read.
func readUntil(t *testing.T, c *net.UDPConn, want string) []string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failsafe))
	var got []string
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("waiting for %q (got %q): %v", want, got, err)
		}
		got = append(got, string(buf[:n]))
		if string(buf[:n]) == want {
			return got
		}
	}
}

func send(t *testing.T, c *net.UDPConn, to, msg string) {
	t.Helper()
	if _, err := c.WriteToUDP([]byte(msg), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(to))); err != nil {
		t.Fatalf("sending %q to %s: %v", msg, to, err)
	}
}

// counter reads the packet count of the counter in an nft chain.
func counter(t *testing.T, h *host, family, chain string) int {
	t.Helper()
	out := h.in("", "nft", "list", "chain", family, "probe", chain)
	m := regexp.MustCompile(`counter packets (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no counter in %s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestBehaviour: host A has the protected interface wg0 (a veth, with the
// addresses of a tunnel, link-local included) and an underlay eth0 to host
// B. With the rules installed: a packet from B to an address of wg0,
// arriving on eth0, is dropped in the raw hook (counted before, not after,
// and never delivered, while a packet sent after it to A's underlay
// address is); and the fwmark of A's UDP packets comes back, through
// conntrack, on the replies, for marked sockets only. Without the rules
// both differ, which shows the rules are what does it.
func TestBehaviour(t *testing.T) {
	testnet.Require(t) // before the subtests, so that a skip is not reported as a pass
	useVariant(t, iptVariants[0])
	for _, backend := range []Backend{NFTables, IPTables} {
		for _, fam := range []Family{IPv4, IPv6} {
			t.Run(backend.String()+"/"+fam.String(), func(t *testing.T) {
				behaviour(t, backend, fam)
			})
		}
	}
}

func behaviour(t *testing.T, backend Backend, fam Family) {
	const mark = 51820
	a, b := newHost(t, "fwa"), newHost(t, "fwb")
	testnet.Connect(t, a.Host, b.Host, "eth0")
	for _, cmd := range []string{
		"ip link add wg0 type veth peer name wg0p",
		"ip link set dev wg0 addrgenmode none",
		"ip link set wg0 up", "ip link set wg0p up",
		"ip addr add 10.0.0.2/32 dev wg0",
		"ip addr add fd00::2/128 dev wg0 nodad",
		"ip addr add fe80::1252:f66b:1350:d98e/64 dev wg0 nodad",
		"ip addr add 192.0.2.1/24 dev eth0",
		"ip addr add 2001:db8:1::1/64 dev eth0 nodad",
	} {
		a.in("", "sh", "-c", cmd)
	}
	for _, cmd := range []string{
		"ip addr add 192.0.2.2/24 dev eth0",
		"ip addr add 2001:db8:1::2/64 dev eth0 nodad",
		"ip route add 10.0.0.2/32 via 192.0.2.1",
		"ip -6 route add fd00::2/128 via 2001:db8:1::1",
	} {
		b.in("", "sh", "-c", cmd)
	}
	tunnel, underA, underB, any, pf := "10.0.0.2", "192.0.2.1", "192.0.2.2", "0.0.0.0", "ip"
	spec := Spec{"wg0", IPv4, mark, addrs("10.0.0.2")}
	if fam == IPv6 {
		tunnel, underA, underB, any, pf = "fd00::2", "2001:db8:1::1", "2001:db8:1::2", "::", "ip6"
		spec = Spec{"wg0", IPv6, mark, addrs("fd00::2", "fe80::1252:f66b:1350:d98e")}
	}
	hp := func(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
	// Counters around the raw hook (-300) and after the mangle hooks (-150).
	a.in(fmt.Sprintf(`table %[1]s probe {
	chain before { type filter hook prerouting priority -350; %[1]s daddr %[2]s udp dport 5555 counter; }
	chain after { type filter hook prerouting priority -250; %[1]s daddr %[2]s udp dport 5555 counter; }
	chain markin { type filter hook prerouting priority -100; udp sport 6666 meta mark %[3]d counter; }
	chain ctout { type filter hook postrouting priority -100; udp dport 6666 ct mark %[3]d counter; }
}
`, pf, tunnel, mark), "nft", "-f", "-")

	inbox := udpIn(t, a.fd, hp(any, 5555), 0)
	attacker := udpIn(t, b.fd, hp(underB, 0), 0)
	echo := udpIn(t, b.fd, hp(underB, 6666), 0)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFromUDP(buf)
			if err != nil {
				return
			}
			echo.WriteToUDP(buf[:n], from)
		}
	}()
	marked := udpIn(t, a.fd, hp(underA, 0), mark)
	plain := udpIn(t, a.fd, hp(underA, 0), 0)

	// round sends a spoofed packet then a legitimate one, and a marked and
	// a plain UDP exchange; it reports whether the spoofed one was
	// delivered, and the counters' increase.
	round := func(n int) (delivered bool, before, after, markin, ctout int) {
		b0, a0, m0, c0 := counter(t, a, pf, "before"), counter(t, a, pf, "after"), counter(t, a, pf, "markin"), counter(t, a, pf, "ctout")
		send(t, attacker, hp(tunnel, 5555), fmt.Sprint("spoofed ", n))
		send(t, attacker, hp(underA, 5555), fmt.Sprint("legitimate ", n))
		for _, m := range readUntil(t, inbox, fmt.Sprint("legitimate ", n)) {
			delivered = delivered || m == fmt.Sprint("spoofed ", n)
		}
		for _, c := range []*net.UDPConn{marked, plain} {
			msg := fmt.Sprint("echo ", n)
			send(t, c, hp(underB, 6666), msg)
			readUntil(t, c, msg)
		}
		return delivered, counter(t, a, pf, "before") - b0, counter(t, a, pf, "after") - a0,
			counter(t, a, pf, "markin") - m0, counter(t, a, pf, "ctout") - c0
	}

	if d, before, after, markin, ctout := round(1); !d || before != 1 || after != 1 || markin != 0 || ctout != 0 {
		t.Fatalf("without rules: delivered %v, counted %d before raw and %d after, %d marked replies, %d marked conntrack entries out; want true 1 1 0 0",
			d, before, after, markin, ctout)
	}
	fw := a.fw(backend)
	if err := fw.Install(ctx(t), spec); err != nil {
		t.Fatal(err)
	}
	d, before, after, markin, ctout := round(2)
	if d || before != 1 || after != 0 {
		t.Errorf("with rules: spoofed packet delivered %v, counted %d before raw and %d after; want false 1 0", d, before, after)
	}
	if markin != 1 || ctout != 1 {
		t.Errorf("with rules: %d replies came back marked, %d marked packets left with the ct mark; want 1 1 (the marked socket's only)", markin, ctout)
	}
	if backend == IPTables {
		out := a.in("", fam.iptables(), "-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n")
		if !regexp.MustCompile(`(?m)^\s+1\s+\d+ DROP .*` + regexp.QuoteMeta(tunnel)).MatchString(out) {
			t.Errorf("the DROP rule for %s did not count 1 packet:\n%s", tunnel, out)
		}
	}
	if err := fw.Remove(ctx(t), "wg0", nil); err != nil {
		t.Fatal(err)
	}
	if d, before, after, markin, _ := round(3); !d || before != 1 || after != 1 || markin != 0 {
		t.Errorf("after removal: delivered %v, counted %d/%d, %d marked replies; want true 1 1 0", d, before, after, markin)
	}
	if strings.Contains(a.in("", "nft", "list", "ruleset"), "wg-quick") {
		t.Error("rules left")
	}
}
