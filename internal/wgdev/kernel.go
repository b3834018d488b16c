package wgdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
)

// kernel talks to the kernel's "wireguard" generic netlink family.
type kernel struct {
	conn   *genetlink.Conn
	family uint16
	// budget bounds the attributes of one set message: messageBudget, or
	// less where the socket's send buffer cannot take that much.
	budget int
}

func openKernel() (*kernel, error) {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return nil, errnoOf(err)
	}
	budget, err := setupSocket(c)
	if err != nil {
		c.Close()
		return nil, errnoOf(err)
	}
	f, err := c.GetFamily(unix.WG_GENL_NAME)
	if err != nil {
		c.Close()
		if errors.Is(err, os.ErrNotExist) {
			// No module: what the reference reports for every request.
			return nil, syscall.EPROTONOSUPPORT
		}
		return nil, errnoOf(err)
	}
	return &kernel{conn: c, family: f.ID, budget: budget}, nil
}

// setupSocket asks for refusals without the echoed request (a set message
// is up to 48 KiB; kernels before 4.3 echo it, which costs room only) and
// for a send buffer that takes a whole set message, and returns the
// attribute budget of a set message on this socket: the kernel refuses a
// message longer than the send buffer less 32 bytes (EMSGSIZE), and
// net.core.wmem_default may be small. Extended acknowledgements are not
// asked for: the reference prints no kernel message, and
// mdlayher/netlink reads a capped refusal with messages wrongly.
func setupSocket(c *genetlink.Conn) (int, error) {
	if err := c.SetOption(netlink.CapAcknowledge, true); err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
		return 0, err
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var snd int
	var serr error
	err = rc.Control(func(fd uintptr) {
		want := 2 * (messageBudget + setOverhead)
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, want) != nil {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, want)
		}
		snd, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return 0, err
	}
	return setBudget(snd), nil
}

// setOverhead is what a set message has besides its attributes: the
// netlink and generic netlink headers, and the 32 bytes netlink_sendmsg
// keeps off the send buffer.
const setOverhead = unix.NLMSG_HDRLEN + unix.GENL_HDRLEN + 32

// minBudget is the least attribute budget planSet works with: the device's
// attributes and a peer's with an allowed IP, several times over. The
// kernel's smallest send buffer (SOCK_MIN_SNDBUF, about 4.5 KiB) allows it.
const minBudget = 2048

// setBudget is the attribute budget of a set message for a socket whose
// send buffer (as SO_SNDBUF reads it) is sndbuf.
func setBudget(sndbuf int) int {
	return min(messageBudget, max(sndbuf-setOverhead, minBudget))
}

func (k *kernel) close() error { return k.conn.Close() }

func (k *kernel) execute(cmd uint8, flags netlink.HeaderFlags, attrs []byte) ([]genetlink.Message, error) {
	msgs, err := k.conn.Execute(genetlink.Message{
		Header: genetlink.Header{Command: cmd, Version: unix.WG_GENL_VERSION},
		Data:   attrs,
	}, k.family, flags)
	if err != nil {
		return nil, netlinkErrno(err)
	}
	return msgs, nil
}

// netlinkErrno is the errno inside a netlink error.
func netlinkErrno(err error) error {
	var oerr *netlink.OpError
	if errors.As(err, &oerr) {
		var errno syscall.Errno
		if errors.As(oerr.Err, &errno) {
			return errno
		}
	}
	return errnoOf(err)
}

// maxDumpRetries bounds how often a dump that the kernel marks as
// interrupted (the device changed while it was read) is started again.
const maxDumpRetries = 100

// dump runs a dump request and returns its messages, every part of it
// (a device with thousands of peers comes in hundreds of messages, which
// Receive reads until the kernel's end-of-dump). A dump the kernel flags
// as interrupted (NLM_F_DUMP_INTR: the device changed while it was read)
// is run again, as wg does; one that keeps changing is an error (EINTR),
// never a partial answer.
func (k *kernel) dump(cmd uint8, attrs []byte) ([]genetlink.Message, error) {
	req := genetlink.Message{Header: genetlink.Header{Command: cmd, Version: unix.WG_GENL_VERSION}, Data: attrs}
	for range maxDumpRetries {
		if _, err := k.conn.Send(req, k.family, netlink.Request|netlink.Dump); err != nil {
			return nil, netlinkErrno(err)
		}
		msgs, raw, err := k.conn.Receive()
		if err != nil {
			return nil, netlinkErrno(err)
		}
		interrupted := false
		for _, m := range raw {
			interrupted = interrupted || m.Header.Flags&netlink.DumpInterrupted != 0
		}
		if !interrupted {
			return msgs, nil
		}
	}
	return nil, syscall.EINTR
}

// kernelInterfaces lists links of kind "wireguard" in ifindex order. A
// list the kernel flags as interrupted (links came or went while it was
// read) is read again.
func kernelInterfaces() ([]string, error) {
	var links []vnl.Link
	var err error
	for range maxDumpRetries {
		links, err = vnl.LinkList()
		if !errors.Is(err, vnl.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, errnoOf(err)
	}
	var names []string
	for _, l := range links {
		if l.Type() == "wireguard" {
			names = append(names, l.Attrs().Name)
		}
	}
	return names, nil
}

func (k *kernel) get(name string) (*conf.Device, error) {
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.WGDEVICE_A_IFNAME, name)
	attrs, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	msgs, err := k.dump(unix.WG_CMD_GET_DEVICE, attrs)
	if err != nil {
		return nil, err
	}
	dev := &conf.Device{Name: name}
	for _, m := range msgs {
		if err := parseDeviceMessage(m.Data, dev); err != nil {
			return nil, syscall.EPROTO
		}
	}
	return dev, nil
}

func parseDeviceMessage(data []byte, dev *conf.Device) error {
	ad := newAttrReader(data)
	for ad.next() {
		switch ad.typ {
		case unix.WGDEVICE_A_IFNAME:
			dev.Name = ad.str()
		case unix.WGDEVICE_A_PRIVATE_KEY:
			copy(dev.PrivateKey[:], ad.val)
		case unix.WGDEVICE_A_PUBLIC_KEY:
			copy(dev.PublicKey[:], ad.val)
		case unix.WGDEVICE_A_LISTEN_PORT:
			dev.ListenPort = ad.u16()
		case unix.WGDEVICE_A_FWMARK:
			dev.FwMark = ad.u32()
		case unix.WGDEVICE_A_PEERS:
			peers := ad.nested()
			for peers.next() {
				if err := parsePeer(peers.nested(), dev); err != nil {
					return err
				}
			}
			if peers.err != nil {
				return peers.err
			}
		}
	}
	return ad.err
}

// parsePeer reads one peer; a peer whose key repeats the previous one is
// the continuation of a peer split across messages.
func parsePeer(pd *attrReader, dev *conf.Device) error {
	var p conf.DevicePeer
	var hasKey bool
	for pd.next() {
		switch pd.typ {
		case unix.WGPEER_A_PUBLIC_KEY:
			copy(p.PublicKey[:], pd.val)
			hasKey = true
		case unix.WGPEER_A_PRESHARED_KEY:
			copy(p.PresharedKey[:], pd.val)
		case unix.WGPEER_A_ENDPOINT:
			p.Endpoint = decodeSockaddr(pd.val)
		case unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			p.PersistentKeepalive = pd.u16()
		case unix.WGPEER_A_LAST_HANDSHAKE_TIME:
			b := pd.val
			if len(b) == 16 {
				sec := int64(binary.NativeEndian.Uint64(b[:8]))
				nsec := int64(binary.NativeEndian.Uint64(b[8:]))
				if sec != 0 || nsec != 0 {
					p.LastHandshake = time.Unix(sec, nsec)
				}
			}
		case unix.WGPEER_A_RX_BYTES:
			p.RxBytes = pd.u64()
		case unix.WGPEER_A_TX_BYTES:
			p.TxBytes = pd.u64()
		case unix.WGPEER_A_PROTOCOL_VERSION:
			p.ProtocolVersion = int(pd.u32())
		case unix.WGPEER_A_ALLOWEDIPS:
			list := pd.nested()
			for list.next() {
				ad := list.nested()
				var ip []byte
				var bits int
				for ad.next() {
					switch ad.typ {
					case unix.WGALLOWEDIP_A_IPADDR:
						ip = ad.val
					case unix.WGALLOWEDIP_A_CIDR_MASK:
						bits = int(ad.u8())
					}
				}
				if ad.err != nil {
					return ad.err
				}
				if a, ok := netip.AddrFromSlice(ip); ok {
					p.AllowedIPs = append(p.AllowedIPs, netip.PrefixFrom(a, bits))
				}
			}
			if list.err != nil {
				return list.err
			}
		}
	}
	if pd.err != nil {
		return pd.err
	}
	if !hasKey {
		return nil
	}
	if n := len(dev.Peers); n > 0 && dev.Peers[n-1].PublicKey == p.PublicKey {
		last := &dev.Peers[n-1]
		last.AllowedIPs = append(last.AllowedIPs, p.AllowedIPs...)
		return nil
	}
	dev.Peers = append(dev.Peers, p)
	return nil
}

func decodeSockaddr(b []byte) netip.AddrPort {
	switch len(b) {
	case unix.SizeofSockaddrInet4:
		if binary.NativeEndian.Uint16(b) != unix.AF_INET {
			return netip.AddrPort{}
		}
		a := netip.AddrFrom4([4]byte(b[4:8]))
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[2:4]))
	case unix.SizeofSockaddrInet6:
		if binary.NativeEndian.Uint16(b) != unix.AF_INET6 {
			return netip.AddrPort{}
		}
		a := netip.AddrFrom16([16]byte(b[8:24]))
		if scope := binary.NativeEndian.Uint32(b[24:28]); scope != 0 {
			a = zoneName(a.WithZone(strconv.FormatUint(uint64(scope), 10)))
		}
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[2:4]))
	}
	return netip.AddrPort{}
}

func encodeSockaddr(ep netip.AddrPort) []byte { return appendSockaddr(nil, ep) }

// appendSockaddr appends the sockaddr_in or sockaddr_in6 of ep to dst.
func appendSockaddr(dst []byte, ep netip.AddrPort) []byte {
	a := ep.Addr()
	if a.Is4() {
		var b [unix.SizeofSockaddrInet4]byte
		binary.NativeEndian.PutUint16(b[:], unix.AF_INET)
		binary.BigEndian.PutUint16(b[2:], ep.Port())
		a4 := a.As4()
		copy(b[4:], a4[:])
		return append(dst, b[:]...)
	}
	var b [unix.SizeofSockaddrInet6]byte
	binary.NativeEndian.PutUint16(b[:], unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], ep.Port())
	a16 := a.As16()
	copy(b[8:], a16[:])
	if z := a.Zone(); z != "" {
		var scope uint64
		if n, err := strconv.ParseUint(z, 10, 32); err == nil {
			scope = n
		} else if ifi, err := net.InterfaceByName(z); err == nil {
			scope = uint64(ifi.Index)
		}
		binary.NativeEndian.PutUint32(b[24:], uint32(scope))
	}
	return append(dst, b[:]...)
}

// messageBudget bounds the attributes of one set request. A nested
// attribute's length is 16 bits, so the peers nest must stay below 64 KiB.
// (wg's messages are at most a page: it spends more system calls.)
const messageBudget = 48 << 10

func attrLen(payload int) int { return 4 + (payload+3)&^3 }

// peerChunk is the part of one peer that goes into one message.
type peerChunk struct {
	peer   *conf.Peer
	first  bool // the peer's own attributes (flags, keys, endpoint) go with its first chunk
	allow  []conf.AllowedIP
	remove bool
}

// planSet splits cfg into messages of at most budget bytes of attributes
// as the reference's kernel_set_device does: when a message is full, the
// next one repeats the interface name and the current peer's public key,
// and carries on with its allowed IPs, without any replace flags. The
// sizes counted are upper bounds of what encodeSet writes.
func planSet(cfg *conf.Config, budget int) [][]peerChunk {
	var msgs [][]peerChunk
	var cur []peerChunk
	size := 256 // device attributes
	flush := func() {
		msgs = append(msgs, cur)
		cur, size = nil, 64
	}
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		head := 4 + attrLen(32) + attrLen(4) + attrLen(32) + attrLen(unix.SizeofSockaddrInet6) + attrLen(2) + 4
		if size+head > budget && len(cur) > 0 {
			flush()
		}
		chunk := peerChunk{peer: p, first: true, remove: p.Remove}
		size += head
		if !p.Remove {
			start := 0
			for j := range p.AllowedIPs {
				n := 4 + attrLen(2) + attrLen(16) + attrLen(1)
				if size+n > budget {
					chunk.allow = p.AllowedIPs[start:j]
					cur = append(cur, chunk)
					flush()
					chunk, start = peerChunk{peer: p}, j
					size += head
				}
				size += n
			}
			chunk.allow = p.AllowedIPs[start:]
		}
		cur = append(cur, chunk)
	}
	if len(cur) > 0 || len(msgs) == 0 {
		msgs = append(msgs, cur)
	}
	return msgs
}

func (k *kernel) set(name string, cfg *conf.Config) error {
	msgs, err := encodeSet(name, cfg, k.budget)
	if err != nil {
		return err
	}
	defer func() { // they hold the keys
		for _, m := range msgs {
			clear(m)
		}
	}()
	for _, attrs := range msgs {
		if _, err := k.execute(unix.WG_CMD_SET_DEVICE, netlink.Request|netlink.Acknowledge, attrs); err != nil {
			return err
		}
	}
	return nil
}

// encodeSet builds the attributes of each WG_CMD_SET_DEVICE message for
// cfg, as planSet splits it for budget: the device's own attributes (and
// the replace-peers flag) only in the first.
func encodeSet(name string, cfg *conf.Config, budget int) ([][]byte, error) {
	plan := planSet(cfg, budget)
	out := make([][]byte, 0, len(plan))
	for n, chunks := range plan {
		e := attrBuilder{b: make([]byte, 0, budget+1024)}
		e.str(unix.WGDEVICE_A_IFNAME, name)
		if n == 0 {
			i := &cfg.Interface
			if i.PrivateKey != nil {
				e.bytes(unix.WGDEVICE_A_PRIVATE_KEY, i.PrivateKey[:])
			}
			if i.ListenPort != nil {
				e.u16(unix.WGDEVICE_A_LISTEN_PORT, *i.ListenPort)
			}
			if i.FwMark != nil {
				e.u32(unix.WGDEVICE_A_FWMARK, *i.FwMark)
			}
			if cfg.ReplacePeers {
				e.u32(unix.WGDEVICE_A_FLAGS, unix.WGDEVICE_F_REPLACE_PEERS)
			}
		}
		if len(chunks) > 0 {
			peers := e.start(unix.WGDEVICE_A_PEERS)
			for idx, c := range chunks {
				pe := e.start(uint16(idx))
				encodePeerChunk(&e, c)
				e.end(pe)
			}
			e.end(peers)
			if len(e.b)-peers >= 1<<16 {
				return nil, errors.New("wgdev: a set message outgrew a netlink attribute")
			}
		}
		if len(e.b) > budget {
			return nil, fmt.Errorf("wgdev: a set message of %d bytes outgrew its budget of %d", len(e.b), budget)
		}
		out = append(out, e.b)
	}
	return out, nil
}

func encodePeerChunk(e *attrBuilder, c peerChunk) {
	p := c.peer
	e.bytes(unix.WGPEER_A_PUBLIC_KEY, p.PublicKey[:])
	if c.first {
		var flags uint32
		if p.Remove {
			flags |= unix.WGPEER_F_REMOVE_ME
		}
		if p.UpdateOnly {
			flags |= unix.WGPEER_F_UPDATE_ONLY
		}
		if p.ReplaceAllowedIPs && !p.Remove {
			flags |= unix.WGPEER_F_REPLACE_ALLOWEDIPS
		}
		if flags != 0 {
			e.u32(unix.WGPEER_A_FLAGS, flags)
		}
		if p.Remove {
			return
		}
		if p.PresharedKey != nil {
			e.bytes(unix.WGPEER_A_PRESHARED_KEY, p.PresharedKey[:])
		}
		if p.Endpoint != nil {
			var sa [unix.SizeofSockaddrInet6]byte
			e.bytes(unix.WGPEER_A_ENDPOINT, appendSockaddr(sa[:0], *p.Endpoint))
		}
		if p.PersistentKeepalive != nil {
			e.u16(unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, *p.PersistentKeepalive)
		}
	}
	if len(c.allow) == 0 {
		return
	}
	list := e.start(unix.WGPEER_A_ALLOWEDIPS)
	for i, a := range c.allow {
		one := e.start(uint16(i))
		addr := a.Prefix.Addr()
		if addr.Is4() {
			e.u16(unix.WGALLOWEDIP_A_FAMILY, unix.AF_INET)
			a4 := addr.As4()
			e.bytes(unix.WGALLOWEDIP_A_IPADDR, a4[:])
		} else {
			e.u16(unix.WGALLOWEDIP_A_FAMILY, unix.AF_INET6)
			a16 := addr.As16()
			e.bytes(unix.WGALLOWEDIP_A_IPADDR, a16[:])
		}
		e.u8(unix.WGALLOWEDIP_A_CIDR_MASK, uint8(a.Prefix.Bits()))
		e.end(one)
	}
	e.end(list)
}
