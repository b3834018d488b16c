package netlinkx

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestKernelAnswerRoom measures what the kernel's answers cost in the
// batched socket's receive buffer (the kernel counts an skb's true size,
// not the message's): a route addition's acknowledgement, its refusal
// (which must come without the echoed request: NETLINK_CAP_ACK), a route
// lookup's answer. Each must fit answerRoom, which sizes the window:
// otherwise the default window would overrun the buffer it was sized for.
// On this machine and on the VM's kernels (make vmtest), whose figures it
// logs.
func TestKernelAnswerRoom(t *testing.T) {
	if !inNamespace(t, "nlxr",
		[]string{"link", "add", "a0", "type", "veth", "peer", "name", "a1"},
		[]string{"link", "set", "a0", "up"},
		[]string{"address", "add", "192.0.2.1/24", "dev", "a0"}) {
		return
	}
	h := New()
	l, err := h.link("a0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := openRoute(batchTuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	rcv, _ := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	t.Logf("receive buffer %d bytes, window %d, send limit %d bytes", rcv, s.window, s.maxSend)
	if s.window != maxWindow {
		t.Errorf("window %d with a receive buffer of %d bytes as root, want %d", s.window, rcv, maxWindow)
	}
	const n = 64
	adds := make([][]byte, n)
	gets := make([][]byte, n)
	for i := range n {
		adds[i] = routeMessage(RouteAdd{Prefix: netip.MustParsePrefix(fmt.Sprintf("10.70.0.%d/32", i+1))}, l.Attrs().Index)
		gets[i] = routeGetMessage(netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", i+2)))
	}
	for _, c := range []struct {
		what string
		reqs [][]byte
		want uint16 // the answers' type
		err  bool
	}{
		{"a route addition's acknowledgement", adds, unix.NLMSG_ERROR, false},
		{"a route addition's refusal (File exists)", adds, unix.NLMSG_ERROR, true},
		{"a route lookup's answer", gets, unix.RTM_NEWROUTE, false},
	} {
		room, answers := answerCost(t, s, c.reqs)
		t.Logf("%s: %d bytes of the receive buffer", c.what, room)
		if room > answerRoom {
			t.Errorf("%s takes %d bytes of the receive buffer, more than answerRoom (%d)", c.what, room, answerRoom)
		}
		for _, m := range answers {
			switch {
			case m.Header.Type != c.want:
				t.Errorf("%s: an answer of type %d", c.what, m.Header.Type)
			case c.want == unix.NLMSG_ERROR && (ackError(m.Header.Flags, m.Data) != nil) != c.err:
				t.Errorf("%s: %v", c.what, ackError(m.Header.Flags, m.Data))
			case c.err && m.Header.Flags&unix.NLM_F_CAPPED == 0:
				t.Errorf("%s: the request is echoed (NETLINK_CAP_ACK not honoured)", c.what)
			}
		}
	}
}

// answerCost sends reqs in one send, reads what their answers take of the
// receive buffer before reading them, then reads them; it returns the
// cost of one answer and the answers.
func answerCost(t *testing.T, s *nlSocket, reqs [][]byte) (int, []syscall.NetlinkMessage) {
	t.Helper()
	var out []byte
	pending := map[uint32]int{}
	for i, m := range reqs {
		s.seq++
		binary.NativeEndian.PutUint32(m[8:12], s.seq)
		pending[s.seq] = i
		out = append(out, m...)
	}
	if err := s.send(out); err != nil {
		t.Fatal(err)
	}
	var info [unix.SK_MEMINFO_VARS]uint32
	size := uint32(len(info) * 4)
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&size)), 0); e != 0 {
		t.Fatalf("SO_MEMINFO: %v", e)
	}
	answers := make([]syscall.NetlinkMessage, len(reqs))
	overrun, err := s.collect(pending, func(i int, m syscall.NetlinkMessage) { answers[i] = m })
	if err != nil || overrun {
		t.Fatalf("reading the answers: %v (overrun %v)", err, overrun)
	}
	return int(info[unix.SK_MEMINFO_RMEM_ALLOC]) / len(reqs), answers
}
