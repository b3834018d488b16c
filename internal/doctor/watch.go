package doctor

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// The watch: a packet socket (AF_PACKET, cooked, every interface of the
// namespace) reads the first bytes of each packet for a bounded time, as
// tcpdump would, and keeps what concerns the tunnel: packets it delivers
// for other hosts (and what becomes of them on the way out and back), and
// the packets this host sends into it and gets out of it.

const (
	// snapLen is how much of each packet the kernel copies (a classic BPF
	// program that returns it): the IPv6 header is 40 bytes.
	snapLen = 64
	// maxPackets and maxFlows bound the work on a busy host.
	maxPackets = 1 << 20
	maxFlows   = 4096
	pollEvery  = 100 * time.Millisecond
)

type flowKey struct{ src, dst netip.Addr }

func watch(ctx context.Context, s *State, d time.Duration) (*Watch, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, fmt.Errorf("opening a packet socket: %w", err)
	}
	defer unix.Close(fd)
	filter := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: snapLen}}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: 1, Filter: &filter[0]}); err != nil {
		return nil, fmt.Errorf("attaching the packet filter: %w", err)
	}
	tv := unix.NsecToTimeval(pollEvery.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("setting the receive timeout: %w", err)
	}
	c := newCollector(s)
	start := time.Now()
	deadline := start.Add(d)
	buf := make([]byte, snapLen)
	for n := 0; n < maxPackets && time.Now().Before(deadline) && ctx.Err() == nil; {
		size, from, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the packet socket: %w", err)
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok {
			continue
		}
		n++
		if src, dst, proto, ok := parseIP(buf[:size]); ok {
			c.packet(ll.Ifindex, ll.Pkttype == unix.PACKET_OUTGOING, src, dst, proto)
		}
	}
	w := c.result()
	w.Seconds = time.Since(start).Round(100 * time.Millisecond).Seconds()
	if w.Seconds > d.Seconds() {
		w.Seconds = d.Seconds()
	}
	return w, nil
}

// htons puts v in network byte order, as the socket's protocol wants.
func htons(v uint16) uint16 { return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v)) }

// parseIP reads the addresses and protocol of an IPv4 or IPv6 packet.
func parseIP(b []byte) (src, dst netip.Addr, proto uint8, ok bool) {
	if len(b) < 1 {
		return
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return
		}
		src = netip.AddrFrom4([4]byte(b[12:16]))
		dst = netip.AddrFrom4([4]byte(b[16:20]))
		return src, dst, b[9], true
	case 6:
		if len(b) < 40 {
			return
		}
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
		return src, dst, b[6], true
	}
	return
}

// collector sorts what the socket reads.
type collector struct {
	s     *State
	wg    int
	names map[int]string
	flows map[flowKey]*Flow
	order []flowKey
	byDst map[netip.Addr][]flowKey
	local map[netip.Addr]bool // this host's addresses
	w     *Watch
}

func newCollector(s *State) *collector {
	c := &collector{s: s, wg: s.Link.Index, names: map[int]string{}, flows: map[flowKey]*Flow{}, byDst: map[netip.Addr][]flowKey{},
		w: &Watch{Sent: map[netip.Addr]int{}, Received: map[netip.Addr]int{}}}
	for _, l := range s.Links {
		c.names[l.Index] = l.Name
	}
	c.local = map[netip.Addr]bool{}
	for _, a := range s.Local {
		c.local[a] = true
	}
	return c
}

// other reports whether a is a unicast address of another host.
func (c *collector) other(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !c.local[a] && !c.broadcast(a)
}

// broadcast reports whether a is the broadcast address of one of this
// host's IPv4 subnets.
func (c *collector) broadcast(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	for _, p := range c.s.Addrs {
		if p.Addr().Is4() && p.Bits() < 31 && p.Contains(a) {
			b := p.Masked().Addr().As4()
			m := uint32(1)<<(32-p.Bits()) - 1
			v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | m
			if netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) == a {
				return true
			}
		}
	}
	return false
}

func (c *collector) packet(ifindex int, out bool, src, dst netip.Addr, proto uint8) {
	if ifindex == c.wg {
		switch {
		case out:
			if f := c.flows[flowKey{dst, src}]; f != nil {
				f.Back++ // a reply to a flow this host forwarded
			} else if len(c.w.Sent) < maxFlows || c.w.Sent[dst] > 0 {
				c.w.Sent[dst]++
			}
		case c.other(dst):
			k := flowKey{src, dst}
			f := c.flows[k]
			if f == nil {
				if len(c.flows) >= maxFlows {
					return
				}
				f = &Flow{Src: src, Dst: dst, Proto: proto}
				c.flows[k] = f
				c.order = append(c.order, k)
				c.byDst[dst] = append(c.byDst[dst], k)
			}
			f.In++
		default:
			if len(c.w.Received) < maxFlows || c.w.Received[src] > 0 {
				c.w.Received[src]++
			}
		}
		return
	}
	if out {
		// Forwarded: the flow's destination, with its source as it was or
		// rewritten to one of ours.
		for _, k := range c.byDst[dst] {
			if k.src == src || c.local[src] {
				f := c.flows[k]
				f.Out++
				if src != k.src {
					f.Rewritten++
				}
				f.OutDev = c.names[ifindex]
				return
			}
		}
		return
	}
	for _, k := range c.byDst[src] {
		if k.src == dst || c.local[dst] {
			c.flows[k].Replies++
			return
		}
	}
}

func (c *collector) result() *Watch {
	for _, k := range c.order {
		c.w.Flows = append(c.w.Flows, *c.flows[k])
	}
	return c.w
}
