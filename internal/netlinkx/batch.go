package netlinkx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// batchSize is how many requests go into one send: small enough that
// their answers (an error answer echoes its request, plus the kernel's
// message) fit the socket's receive buffer, large enough that a thousand
// routes take a handful of system calls.
const batchSize = 256

// ApplyRoutes adds routes as Apply would add each one, in order, and
// returns one error per route (nil where it was added), worded as Apply's.
// The requests are sent in batches on one socket and the kernel's answers
// read back: a few system calls for thousands of routes, where Apply
// costs a socket and two round trips (the link lookup, the change) for
// each. Unlike a loop over Apply, the routes after a failing one are
// still tried; a caller that stops at the first error and deletes the
// interface (wg-quick's rollback) ends in the same state.
func (h *Handle) ApplyRoutes(ops []RouteAdd) []error {
	errs := make([]error, len(ops))
	fail := func(i int, err error) { errs[i] = opError(ops[i].String(), err) }
	index := map[string]int{}
	msgs := make([][]byte, len(ops))
	for i, op := range ops {
		idx, ok := index[op.Link]
		if !ok {
			l, err := h.link(op.Link)
			if err != nil {
				fail(i, err)
				continue
			}
			idx = l.Attrs().Index
			index[op.Link] = idx
		}
		msgs[i] = routeMessage(op, idx)
	}
	s, err := openRoute()
	if err != nil {
		for i := range ops {
			if errs[i] == nil {
				fail(i, err)
			}
		}
		return errs
	}
	defer unix.Close(s.fd)
	for start := 0; start < len(ops); start += batchSize {
		end := min(start+batchSize, len(ops))
		if err := s.exchange(msgs[start:end], errs[start:end]); err != nil {
			for i := start; i < len(ops); i++ {
				if errs[i] == nil {
					fail(i, err)
				}
			}
			return errs
		}
		for i := start; i < end; i++ {
			if e := errs[i]; e != nil {
				var ours *Error
				if !errors.As(e, &ours) {
					fail(i, e)
				}
			}
		}
	}
	return errs
}

// routeMessage is the RTM_NEWROUTE request `ip route add PREFIX dev LINK
// [table T]` sends (create, exclusive, acknowledged): protocol boot, link
// scope for IPv4 and universe for IPv6, unicast, the main table unless
// another is given. Its sequence number is set when it is sent.
func routeMessage(op RouteAdd, linkIndex int) []byte {
	p := op.Prefix.Masked()
	addr := p.Addr().WithZone("").AsSlice()
	fam, scope := byte(unix.AF_INET), byte(unix.RT_SCOPE_LINK)
	if p.Addr().Is6() {
		fam, scope = unix.AF_INET6, unix.RT_SCOPE_UNIVERSE
	}
	table := byte(unix.RT_TABLE_MAIN)
	bigTable := false
	if op.TableID != 0 {
		if op.TableID < 256 {
			table = byte(op.TableID)
		} else {
			table, bigTable = unix.RT_TABLE_UNSPEC, true
		}
	}
	b := make([]byte, unix.NLMSG_HDRLEN, 64)
	b = append(b, fam, byte(p.Bits()), 0, 0, table, unix.RTPROT_BOOT, scope, unix.RTN_UNICAST, 0, 0, 0, 0)
	b = appendAttr(b, unix.RTA_DST, addr)
	if bigTable {
		b = appendAttr(b, unix.RTA_TABLE, binary.NativeEndian.AppendUint32(nil, op.TableID))
	}
	b = appendAttr(b, unix.RTA_OIF, binary.NativeEndian.AppendUint32(nil, uint32(linkIndex)))
	binary.NativeEndian.PutUint32(b[0:4], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:6], unix.RTM_NEWROUTE)
	binary.NativeEndian.PutUint16(b[6:8], unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL)
	return b
}

func appendAttr(b []byte, typ uint16, data []byte) []byte {
	n := unix.SizeofRtAttr + len(data)
	b = binary.NativeEndian.AppendUint16(b, uint16(n))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%unix.NLMSG_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

// routeSocket is a NETLINK_ROUTE socket with extended acknowledgements
// (the kernel's own error messages).
type routeSocket struct {
	fd  int
	seq uint32
	buf []byte
}

func openRoute() (*routeSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	tv := unix.Timeval{Sec: 30}
	for _, o := range []func() error{
		func() error { return unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1) },
		func() error { return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv) },
		func() error { return unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}) },
	} {
		if err := o(); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return &routeSocket{fd: fd, buf: make([]byte, 1<<16)}, nil
}

// exchange sends requests (nil ones are skipped) in one message and sets
// errs[i] from the kernel's acknowledgement of each. Its own error means
// the exchange itself failed.
func (s *routeSocket) exchange(reqs [][]byte, errs []error) error {
	return s.roundTrip(reqs, func(i int, m syscall.NetlinkMessage) {
		if m.Header.Type == unix.NLMSG_ERROR {
			errs[i] = ackError(m.Header.Flags, m.Data)
		}
	})
}

// roundTrip sends requests (nil ones are skipped) in one message and calls
// answer with each request's index and the first message the kernel sends
// back for it (an acknowledgement, an error, or the data asked for). Its
// own error means the exchange itself failed.
func (s *routeSocket) roundTrip(reqs [][]byte, answer func(i int, m syscall.NetlinkMessage)) error {
	var out []byte
	pending := map[uint32]int{}
	for i, m := range reqs {
		if m == nil {
			continue
		}
		s.seq++
		binary.NativeEndian.PutUint32(m[8:12], s.seq)
		pending[s.seq] = i
		out = append(out, m...)
	}
	if len(pending) == 0 {
		return nil
	}
	if err := unix.Sendto(s.fd, out, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	for len(pending) > 0 {
		n, _, err := unix.Recvfrom(s.fd, s.buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("reading the kernel's answers: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(s.buf[:n])
		if err != nil {
			return fmt.Errorf("reading the kernel's answers: %w", err)
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
	return nil
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
