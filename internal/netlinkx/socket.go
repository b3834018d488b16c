package netlinkx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// The batched exchanges (ApplyBatch, RouteGetAll) send many requests on
// one socket and read one answer for each. The kernel handles every
// request of a send before the send returns, queueing each answer on the
// socket; an answer that finds the receive buffer full is dropped and the
// next read fails with ENOBUFS. How much room an answer takes depends on
// the kernel (about 1.2 KiB for an acknowledgement on Debian's 6.1 and
// 6.12, which is why 256 acknowledged routes overran the default 208 KiB
// there), so the socket is sized for the batch, the batch is sized for the
// socket, and an overrun is survived: the answers still queued are read,
// the requests whose answers were dropped are handed back to the caller,
// which settles them from the kernel's state, and the window shrinks.

// Sizing of the batched socket.
const (
	// maxWindow is the most requests in one send: a thousand routes take a
	// handful of system calls.
	maxWindow = 256
	// answerRoom is what one answer is taken to cost in the receive
	// buffer (the skb's true size, not the message's): an acknowledgement
	// costs 0.7 to 1.3 KiB on the kernels measured, a route lookup's
	// answer a little more. Generous, since an overrun costs a dump.
	answerRoom = 2048
	// wantBuffer is the receive and send buffer asked for: room for
	// maxWindow answers, as the kernel counts it (it doubles the value
	// set). Forced past net.core.rmem_max/wmem_max when the process may
	// (CAP_NET_ADMIN), else capped by them.
	wantBuffer = maxWindow * answerRoom
	// answerTimeout bounds the wait for an answer the kernel owes.
	answerTimeout = 30
)

// batchTuning overrides the batched socket's sizes; the zero value is the
// default. Tests use it to force overruns.
type batchTuning struct {
	rcvbuf int // SO_RCVBUF asked for, without forcing (0: wantBuffer, forced where allowed)
	window int // requests in the first send (0: what the receive buffer holds)
	// onOverrun, when set, is called at each overrun of the receive buffer.
	onOverrun func()
}

// nlSocket is a NETLINK_ROUTE socket for batched exchanges: extended
// acknowledgements (the kernel's own messages), without the echoed
// request where the kernel can leave it out (NETLINK_CAP_ACK).
type nlSocket struct {
	fd      int
	seq     uint32
	buf     []byte
	window  int // requests in one send; halved at each overrun
	maxSend int // bytes in one send (the send buffer's limit)
	tune    batchTuning
}

func openRoute(tune batchTuning) (*nlSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	s := &nlSocket{fd: fd, buf: make([]byte, 1<<16), tune: tune}
	if err := s.setup(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *nlSocket) close() { unix.Close(s.fd) }

func (s *nlSocket) setup() error {
	// Kernels before 4.3 (CAP_ACK) and 4.12 (EXT_ACK) lack the options:
	// they echo the request and give no message, which costs room only.
	for _, o := range []int{unix.NETLINK_EXT_ACK, unix.NETLINK_CAP_ACK} {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_NETLINK, o, 1); err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
			return fmt.Errorf("netlink socket option %d: %w", o, err)
		}
	}
	if s.tune.rcvbuf > 0 {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, s.tune.rcvbuf); err != nil {
			return err
		}
	} else {
		setBuffer(s.fd, unix.SO_RCVBUFFORCE, unix.SO_RCVBUF)
	}
	setBuffer(s.fd, unix.SO_SNDBUFFORCE, unix.SO_SNDBUF)
	rcv, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		return err
	}
	snd, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		return err
	}
	// netlink_sendmsg refuses a message longer than the send buffer
	// less 32 bytes.
	s.maxSend = max(snd-64, unix.NLMSG_HDRLEN)
	s.window = s.tune.window
	if s.window <= 0 {
		s.window = min(max(rcv/answerRoom, 1), maxWindow)
	}
	tv := unix.Timeval{Sec: answerTimeout}
	if err := unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	return unix.Bind(s.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// setBuffer asks for wantBuffer bytes: forced where the process may, else
// as much as the system's maximum allows. A failure leaves the default,
// which the window is then sized for.
func setBuffer(fd, force, plain int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, wantBuffer) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, plain, wantBuffer)
	}
}

// exchange sends the requests (nil ones are skipped) in order, at most a
// window of them in one send, and reads each send's answers before the
// next send: answer gets each request's index and the first message the
// kernel sent back for it (an acknowledgement, an error, or the data
// asked for). Each request must draw exactly one answer.
//
// The requests whose answers were dropped by an overrun of the receive
// buffer are returned in order: the kernel handled them, but how is
// unknown, and the caller settles them (from the kernel's state, or by
// asking again). Each overrun halves the window; a window of one cannot
// overrun. The error means the exchange itself failed: the requests not
// yet answered may or may not have been handled.
func (s *nlSocket) exchange(reqs [][]byte, answer func(i int, m syscall.NetlinkMessage)) (lost []int, err error) {
	var idx []int
	for i, m := range reqs {
		if m != nil {
			idx = append(idx, i)
		}
	}
	out := make([]byte, 0, 16<<10)
	pending := map[uint32]int{}
	for pos := 0; pos < len(idx); {
		out = out[:0]
		first := s.seq + 1
		n := 0
		for pos+n < len(idx) && n < s.window {
			m := reqs[idx[pos+n]]
			if n > 0 && len(out)+len(m) > s.maxSend {
				break
			}
			s.seq++
			binary.NativeEndian.PutUint32(m[8:12], s.seq)
			pending[s.seq] = idx[pos+n]
			out = append(out, m...)
			n++
		}
		if err := s.send(out); err != nil {
			return lost, err
		}
		overrun, err := s.collect(pending, answer)
		if err != nil {
			return lost, err
		}
		if overrun {
			for seq := first; seq != first+uint32(n); seq++ {
				if i, ok := pending[seq]; ok {
					lost = append(lost, i)
					delete(pending, seq)
				}
			}
			s.window = max(s.window/2, 1)
			if s.tune.onOverrun != nil {
				s.tune.onOverrun()
			}
		}
		pos += n
	}
	return lost, nil
}

func (s *nlSocket) send(b []byte) error {
	for {
		err := unix.Sendto(s.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		if !errors.Is(err, unix.EINTR) {
			if err != nil {
				return fmt.Errorf("sending to the kernel: %w", err)
			}
			return nil
		}
	}
}

// collect reads answers until every pending request has one, or, after
// an overrun, until the socket is empty (the kernel answered the whole
// send before the send returned, so what is not queued was dropped); it
// reports whether there was an overrun.
func (s *nlSocket) collect(pending map[uint32]int, answer func(int, syscall.NetlinkMessage)) (overrun bool, err error) {
	flags := 0
	for len(pending) > 0 {
		n, _, err := unix.Recvfrom(s.fd, s.buf, flags)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			overrun, flags = true, unix.MSG_DONTWAIT
			continue
		case overrun && errors.Is(err, unix.EAGAIN):
			return true, nil
		case errors.Is(err, unix.EAGAIN):
			return false, fmt.Errorf("reading the kernel's answers: none for %d requests in %d s", len(pending), answerTimeout)
		case err != nil:
			return overrun, fmt.Errorf("reading the kernel's answers: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(s.buf[:n])
		if err != nil {
			return overrun, fmt.Errorf("reading the kernel's answers: %w", err)
		}
		for _, m := range msgs {
			i, ok := pending[m.Header.Seq]
			if !ok || m.Header.Type == unix.NLMSG_NOOP {
				continue
			}
			delete(pending, m.Header.Seq)
			answer(i, m)
		}
	}
	return overrun, nil
}

// ackError is the error an NLMSG_ERROR answer carries (nil for an
// acknowledgement), with the kernel's message when it gave one, in the
// form the netlink package gives ("errno: message"), which opError words
// as ip does.
func ackError(flags uint16, data []byte) error {
	if len(data) < 4 {
		return errors.New("short netlink answer")
	}
	code := int32(binary.NativeEndian.Uint32(data[:4]))
	if code == 0 {
		return nil
	}
	err := error(syscall.Errno(-code))
	rest := data[4:]
	if flags&unix.NLM_F_ACK_TLVS == 0 || len(rest) < unix.NLMSG_HDRLEN {
		return err
	}
	// Skip the echoed request: its header only when the kernel capped it.
	skip := unix.NLMSG_HDRLEN
	if flags&unix.NLM_F_CAPPED == 0 {
		skip = nlmAlign(int(binary.NativeEndian.Uint32(rest[:4])))
	}
	if skip > len(rest) {
		return err
	}
	rest = rest[skip:]
	for len(rest) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(rest[:2]))
		typ := binary.NativeEndian.Uint16(rest[2:4])
		if l < unix.SizeofRtAttr || l > len(rest) {
			break
		}
		if typ == unix.NLMSGERR_ATTR_MSG {
			return fmt.Errorf("%w: %s", err, unix.ByteSliceToString(rest[unix.SizeofRtAttr:l]))
		}
		rest = rest[min(nlmAlign(l), len(rest)):]
	}
	return err
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
