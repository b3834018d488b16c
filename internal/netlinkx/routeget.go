package netlinkx

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// RouteLookup is the answer to one destination of RouteGetAll: the route
// the kernel would use, ok false when it has none, or the kernel's error
// (e.g. "network is unreachable").
type RouteLookup struct {
	Route Route
	OK    bool
	Err   error
}

// RouteGetAll asks the kernel which route it would use to reach each of
// dsts (`ip route get DST` for each), with the requests sent in batches on
// one socket: a few system calls for the endpoints of thousands of peers,
// where a request each costs a round trip (about 20 µs here). A question
// whose answer was lost to an overrun of the receive buffer is asked
// again, with fewer a send.
func (h *Handle) RouteGetAll(dsts []netip.Addr) []RouteLookup {
	out := make([]RouteLookup, len(dsts))
	if len(dsts) == 0 {
		return out
	}
	s, err := openRoute(h.batch)
	if err != nil {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	defer s.close()
	reqs := make([][]byte, len(dsts))
	for i, d := range dsts {
		reqs[i] = routeGetMessage(d)
	}
	answered := make([]bool, len(dsts))
	answer := func(i int, m syscall.NetlinkMessage) {
		l := &out[i]
		answered[i] = true
		switch m.Header.Type {
		case unix.NLMSG_ERROR:
			l.Err = ackError(m.Header.Flags, m.Data)
		case unix.RTM_NEWROUTE:
			l.Route, l.OK = parseRoute(m.Data)
			if !l.OK {
				l.Err = fmt.Errorf("route lookup: a short answer from the kernel")
			}
		default:
			l.Err = fmt.Errorf("route lookup: an answer of type %d from the kernel", m.Header.Type)
		}
	}
	lost, err := s.exchange(reqs, answer)
	for round := 0; err == nil && len(lost) > 0; round++ {
		if round == maxRecoveryRounds {
			err = fmt.Errorf("the kernel's answers kept overrunning the receive buffer (%d rounds)", round)
			break
		}
		again := make([][]byte, len(reqs))
		for _, i := range lost {
			again[i] = reqs[i]
		}
		lost, err = s.exchange(again, answer)
	}
	if err != nil {
		for i := range out {
			if !answered[i] {
				out[i].Err = err
			}
		}
	}
	return out
}

// routeGetMessage is the RTM_GETROUTE request of `ip route get DST`: a
// host prefix of dst, asking for the table the route was found in.
func routeGetMessage(dst netip.Addr) []byte {
	dst = dst.WithZone("")
	fam := byte(unix.AF_INET)
	if dst.Is6() {
		fam = unix.AF_INET6
	}
	b := make([]byte, unix.NLMSG_HDRLEN, 48)
	b = append(b, fam, byte(dst.BitLen()), 0, 0, 0, 0, 0, 0)
	b = binary.NativeEndian.AppendUint32(b, unix.RTM_F_LOOKUP_TABLE)
	b = appendAttr(b, unix.RTA_DST, dst.AsSlice())
	binary.NativeEndian.PutUint32(b[0:4], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:6], unix.RTM_GETROUTE)
	binary.NativeEndian.PutUint16(b[6:8], unix.NLM_F_REQUEST)
	return b
}

// parseRoute reads an RTM_NEWROUTE message's body: the destination, the
// output interface, the table, the type and the mtu metric (with its lock).
func parseRoute(data []byte) (Route, bool) {
	if len(data) < unix.SizeofRtMsg {
		return Route{}, false
	}
	fam, dstLen, table, typ := data[0], int(data[1]), uint32(data[4]), int(data[7])
	var dst netip.Addr
	if fam == unix.AF_INET6 {
		dst = netip.IPv6Unspecified()
	} else {
		dst = netip.IPv4Unspecified()
	}
	r := Route{Type: typ}
	for a := range attrs(data[unix.SizeofRtMsg:]) {
		switch a.typ {
		case unix.RTA_DST:
			if d, ok := netip.AddrFromSlice(a.data); ok {
				dst = d
			}
		case unix.RTA_OIF:
			if len(a.data) >= 4 {
				r.LinkIndex = int(binary.NativeEndian.Uint32(a.data))
			}
		case unix.RTA_TABLE:
			if len(a.data) >= 4 {
				table = binary.NativeEndian.Uint32(a.data)
			}
		case unix.RTA_METRICS:
			var lock uint32
			for m := range attrs(a.data) {
				if len(m.data) < 4 {
					continue
				}
				switch m.typ {
				case unix.RTAX_MTU:
					r.MTU = int(binary.NativeEndian.Uint32(m.data))
				case unix.RTAX_LOCK:
					lock = binary.NativeEndian.Uint32(m.data)
				}
			}
			r.MTULock = lock&(1<<unix.RTAX_MTU) != 0
		}
	}
	r.Dst = netip.PrefixFrom(dst, dstLen)
	r.Table = table
	return r, true
}

type attr struct {
	typ  uint16
	data []byte
}

// attrs iterates over the route attributes in b (the nested flag bits
// cleared from their types).
func attrs(b []byte) func(yield func(attr) bool) {
	return func(yield func(attr) bool) {
		for len(b) >= unix.SizeofRtAttr {
			l := int(binary.NativeEndian.Uint16(b[:2]))
			if l < unix.SizeofRtAttr || l > len(b) {
				return
			}
			if !yield(attr{typ: binary.NativeEndian.Uint16(b[2:4]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER), data: b[unix.SizeofRtAttr:l]}) {
				return
			}
			b = b[min(nlmAlign(l), len(b)):]
		}
	}
}
