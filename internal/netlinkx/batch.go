package netlinkx

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ApplyBatch makes the changes ops name, in order, as Apply would make
// each, and returns one error per op (nil where it was made), worded as
// Apply's. Unlike a loop over Apply, the ops after a failing one are still
// tried; a caller that stops at the first error and undoes what it made
// (wg-quick's rollback deletes the interface) ends in the same state.
//
// Route additions go to the kernel in batches on one socket: a few system
// calls for thousands of routes, where Apply costs a socket and two round
// trips (the link lookup, the change) for each. Other ops are applied one
// by one, between the batches, in their place.
//
// The kernel's answer to a route addition can be lost when its answers
// overrun the socket's receive buffer; the routes whose answers were lost
// are then looked for in the kernel's tables: one that is there, through
// its device in its table, was added; one that is not is sent again,
// with fewer requests a send, which either adds it or draws the refusal
// the kernel gave. (The one case this cannot tell from an addition is a
// route that was there, the same, before the batch: the refusal "File
// exists" is lost and the route counts as added. wg-quick never asks for
// one: it adds routes through the interface it has just made, and skips
// those already covered. The socket is sized so that, with the privilege
// adding routes needs, its answers cannot overrun it.)
func (h *Handle) ApplyBatch(ops []Op) []error {
	errs := make([]error, len(ops))
	var run []RouteAdd
	var at []int
	asked := map[routeKey]bool{}
	flush := func() {
		for k, err := range h.applyRoutes(run, asked) {
			errs[at[k]] = err
		}
		run, at = run[:0], at[:0]
	}
	for i, op := range ops {
		if r, ok := op.(RouteAdd); ok {
			run, at = append(run, r), append(at, i)
			continue
		}
		flush()
		errs[i] = h.Apply(op)
	}
	flush()
	return errs
}

// ApplyRoutes is ApplyBatch for route additions only.
func (h *Handle) ApplyRoutes(ops []RouteAdd) []error {
	return h.applyRoutes(ops, map[routeKey]bool{})
}

// maxRecoveryRounds bounds how often routes whose answers were lost are
// looked for and sent again. The window halves at each overrun and a
// window of one cannot overrun, so a handful of rounds is the most a real
// exchange needs.
const maxRecoveryRounds = 16

// applyRoutes adds routes in batches. asked holds the keys of the routes
// asked for earlier in the same ApplyBatch, and gets these ones's.
func (h *Handle) applyRoutes(ops []RouteAdd, asked map[routeKey]bool) []error {
	errs := make([]error, len(ops))
	if len(ops) == 0 {
		return errs
	}
	fail := func(i int, err error) { errs[i] = opError(ops[i].String(), err) }
	index := map[string]int{}
	msgs := make([][]byte, len(ops))
	keys := make([]linkedKey, len(ops))
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
		keys[i] = linkedKey{keyOf(op), idx}
	}
	// A lost route is looked for only if no route asked before it has
	// its key: otherwise the route there may be the other one's.
	lookable := make([]bool, len(ops))
	for i := range ops {
		if msgs[i] != nil {
			lookable[i] = !asked[keys[i].routeKey]
			asked[keys[i].routeKey] = true
		}
	}
	s, err := openRoute(h.batch)
	if err != nil {
		for i := range ops {
			if errs[i] == nil {
				fail(i, err)
			}
		}
		return errs
	}
	defer s.close()
	settled := make([]bool, len(ops))
	answer := func(i int, m syscall.NetlinkMessage) {
		if m.Header.Type != unix.NLMSG_ERROR {
			return
		}
		settled[i] = true
		if err := ackError(m.Header.Flags, m.Data); err != nil {
			fail(i, err)
		}
	}
	lost, err := s.exchange(msgs, answer)
	for round := 0; err == nil && len(lost) > 0; round++ {
		if round == maxRecoveryRounds {
			err = fmt.Errorf("the kernel's answers kept overrunning the receive buffer (%d rounds)", round)
			break
		}
		var there []bool
		if there, err = h.routesThere(keys, lookable, lost); err != nil {
			break
		}
		again := make([][]byte, len(msgs))
		for k, i := range lost {
			if there[k] {
				settled[i] = true
			} else {
				again[i] = msgs[i]
			}
		}
		lost, err = s.exchange(again, answer)
	}
	if err != nil {
		// The exchange itself failed: what is not settled is unknown.
		for i := range ops {
			if msgs[i] != nil && !settled[i] {
				fail(i, err)
			}
		}
	}
	return errs
}

// routeKey identifies a route as the kernel's exclusive addition does:
// one destination in one table of one family.
type routeKey struct {
	dst   netip.Prefix
	table uint32
}

// linkedKey is a route's key and its device.
type linkedKey struct {
	routeKey
	link int
}

func keyOf(op RouteAdd) routeKey {
	t := op.TableID
	if t == 0 {
		t = unix.RT_TABLE_MAIN
	}
	return routeKey{dst: op.Prefix.Masked(), table: t}
}

// routesThere reports, for each of the routes lost names, whether the
// kernel's tables hold it as routeMessage asks for it: through its device,
// a unicast route of protocol boot. Routes not lookable are reported
// missing, so that they are sent again and draw the kernel's answer.
func (h *Handle) routesThere(keys []linkedKey, lookable []bool, lost []int) ([]bool, error) {
	want := map[routeKey]int{} // -> link index
	fams := map[int]bool{}
	for _, i := range lost {
		if lookable[i] {
			want[keys[i].routeKey] = keys[i].link
			fams[family(keys[i].dst.Addr())] = true
		}
	}
	found := map[routeKey]bool{}
	for fam := range fams {
		// Read again when interrupted: a dump that the kernel says
		// changed under it may have missed routes.
		of, err := retryDump("listing routes", func() (map[routeKey]bool, error) {
			of := map[routeKey]bool{}
			return of, h.h.RouteListFilteredIter(fam, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE, func(r netlink.Route) bool {
				dst, ok := netPrefix(r.Dst)
				if !ok {
					return true
				}
				k := routeKey{dst: dst, table: uint32(r.Table)}
				if link, ok := want[k]; ok && link == r.LinkIndex && r.Protocol == unix.RTPROT_BOOT && r.Type == unix.RTN_UNICAST {
					of[k] = true
				}
				return true
			})
		})
		if err != nil {
			return nil, err
		}
		maps.Copy(found, of)
	}
	there := make([]bool, len(lost))
	for k, i := range lost {
		there[k] = lookable[i] && found[keys[i].routeKey]
	}
	return there, nil
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
