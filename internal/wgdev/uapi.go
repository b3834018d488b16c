package wgdev

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gowg/wgtools/internal/conf"
)

// FormatUAPISet writes the UAPI "set" request for cfg, byte for byte as
// wireguard-tools' userspace_set_device does (keys in hex, the blank line
// that ends the request included). Allowed IPs marked Remove are sent as
// "allowed_ip=-PREFIX", the upstream incremental form.
func FormatUAPISet(cfg *conf.Config) string {
	b := appendUAPIHeader(nil, cfg)
	for i := range cfg.Peers {
		b = appendUAPIPeer(b, &cfg.Peers[i])
	}
	return string(append(b, '\n'))
}

// appendUAPIHeader appends the request's first lines: the interface's
// fields, and replace_peers.
func appendUAPIHeader(b []byte, cfg *conf.Config) []byte {
	b = append(b, "set=1\n"...)
	i := &cfg.Interface
	if i.PrivateKey != nil {
		b = append(b, "private_key="...)
		b = hex.AppendEncode(b, i.PrivateKey[:])
		b = append(b, '\n')
	}
	if i.ListenPort != nil {
		b = append(b, "listen_port="...)
		b = strconv.AppendUint(b, uint64(*i.ListenPort), 10)
		b = append(b, '\n')
	}
	if i.FwMark != nil {
		b = append(b, "fwmark="...)
		b = strconv.AppendUint(b, uint64(*i.FwMark), 10)
		b = append(b, '\n')
	}
	if cfg.ReplacePeers {
		b = append(b, "replace_peers=true\n"...)
	}
	return b
}

// appendUAPIPeer appends one peer's lines.
func appendUAPIPeer(b []byte, p *conf.Peer) []byte {
	b = append(b, "public_key="...)
	b = hex.AppendEncode(b, p.PublicKey[:])
	b = append(b, '\n')
	if p.Remove {
		return append(b, "remove=true\n"...)
	}
	if p.UpdateOnly {
		b = append(b, "update_only=true\n"...)
	}
	if p.PresharedKey != nil {
		b = append(b, "preshared_key="...)
		b = hex.AppendEncode(b, p.PresharedKey[:])
		b = append(b, '\n')
	}
	if p.Endpoint != nil {
		b = append(b, "endpoint="...)
		b = conf.AppendEndpoint(b, *p.Endpoint)
		b = append(b, '\n')
	}
	if p.PersistentKeepalive != nil {
		b = append(b, "persistent_keepalive_interval="...)
		b = strconv.AppendUint(b, uint64(*p.PersistentKeepalive), 10)
		b = append(b, '\n')
	}
	if p.ReplaceAllowedIPs {
		b = append(b, "replace_allowed_ips=true\n"...)
	}
	for _, a := range p.AllowedIPs {
		b = append(b, "allowed_ip="...)
		if a.Remove {
			b = append(b, '-')
		}
		b = conf.AppendPrefix(b, a.Prefix)
		b = append(b, '\n')
	}
	return b
}

// uapiConn is a connected UAPI socket: a blocking AF_UNIX stream socket
// without timeouts, as the reference's (a daemon applying 20,000 peers on
// a loaded machine answers after more than a minute; the 30 s limit each
// read once had made such a setconf fail with "Protocol error" where the
// reference waits). Plain system calls rather than package
// net: wg links this package, and net's start-up work (and its poller's
// goroutines and threads) would be paid by every wg process.
type uapiConn struct{ fd int }

// dialUAPI connects to the socket at path; failures are the errno, as
// connect(2) gives it.
func dialUAPI(path string) (*uapiConn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &uapiConn{fd: fd}, nil
}

func (c *uapiConn) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(c.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (c *uapiConn) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(c.fd, p[done:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

func (c *uapiConn) Close() error { return unix.Close(c.fd) }

// uapiSendBuffer is how much of a set request is written at a time.
const uapiSendBuffer = 16 << 10

// uapiSet sends cfg, then the peers of more (nil for none), as they come,
// and returns the daemon's errno, if any.
func uapiSet(path string, cfg *conf.Config, more iter.Seq[*conf.Peer]) error {
	conn, err := dialUAPI(path)
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 0, uapiSendBuffer+1024)
	defer func() { clear(buf[:cap(buf)]) }() // it held keys in hex
	var werr error
	send := func(flush bool) {
		if werr == nil && (flush || len(buf) >= uapiSendBuffer) {
			_, werr = conn.Write(buf)
			clear(buf)
			buf = buf[:0]
		}
	}
	buf = appendUAPIHeader(buf, cfg)
	for i := range cfg.Peers {
		buf = appendUAPIPeer(buf, &cfg.Peers[i])
		send(false)
	}
	if more != nil {
		for p := range more {
			buf = appendUAPIPeer(buf, p)
			if send(false); werr != nil {
				break
			}
		}
	}
	buf = append(buf, '\n')
	send(true)
	// A daemon that fails part way answers with its errno and hangs up,
	// which can cut our write short: its answer is the better report.
	r := bufio.NewReaderSize(conn, 64)
	line, err := r.ReadString('\n')
	if err != nil {
		if werr != nil {
			return errnoOf(werr)
		}
		return syscall.EPROTO
	}
	v, ok := strings.CutPrefix(line, "errno=")
	if !ok {
		return syscall.EPROTO
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, "\n"))
	if err != nil {
		return syscall.EPROTO
	}
	if n < 0 {
		n = -n
	}
	if n != 0 {
		return syscall.Errno(n)
	}
	return nil
}

func errnoOf(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}

// uapiGet asks a daemon for its state.
func uapiGet(path, name string) (*conf.Device, error) {
	var dev *conf.Device
	err := uapiGetStream(path, name, func(d *conf.Device) { dev = d }, nil)
	return dev, err
}

// uapiGetStream asks a daemon for its state and reads it as
// ParseUAPIGetStream does.
func uapiGetStream(path, name string, header func(*conf.Device), peer func(*conf.DevicePeer)) error {
	conn, err := dialUAPI(path)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("get=1\n\n")); err != nil {
		return errnoOf(err)
	}
	return ParseUAPIGetStream(bufio.NewReaderSize(conn, 64<<10), name, header, peer)
}

// ParseUAPIGet reads a UAPI "get" reply as wireguard-tools'
// userspace_get_device does: key=value lines up to a blank line; unknown
// keys are skipped; a malformed line or value is EPROTO; errno=N ends it
// with that error. The public key is derived from the private key.
func ParseUAPIGet(r *bufio.Reader, name string) (*conf.Device, error) {
	var dev *conf.Device
	err := ParseUAPIGetStream(r, name, func(d *conf.Device) { dev = d }, nil)
	if err != nil {
		return nil, err
	}
	return dev, nil
}

// ParseUAPIGetStream is ParseUAPIGet for a reader that wants the peers as
// they come. With peer nil, header gets the whole device once the reply is
// complete and valid. Otherwise header gets the interface (without peers)
// before the first peer, and peer each peer in turn: the same variable,
// reused (its AllowedIPs' array too), so a device of any size is read in
// the memory of one peer. The reply's errno comes last: an error returned
// then follows what was handed out already, and the caller decides what
// becomes of it.
func ParseUAPIGetStream(r *bufio.Reader, name string, header func(*conf.Device), peer func(*conf.DevicePeer)) error {
	dev := &conf.Device{Name: name}
	streaming := peer != nil
	var one conf.DevicePeer // the streamed peer, reused
	if streaming {
		// The peers handed out are not kept: wipe the last one's key
		// when done (the interface's is the caller's to wipe).
		defer one.PresharedKey.Wipe()
	}
	var cur *conf.DevicePeer
	var ips []netip.Prefix // not streaming: every peer's allowed IPs, carved out of one array
	headerDone := false
	ret := error(syscall.EPROTO)
	var handshakeSec, handshakeNsec int64
	// flush completes the peer at hand.
	flush := func() {
		if cur == nil {
			return
		}
		if handshakeSec != 0 || handshakeNsec != 0 {
			cur.LastHandshake = time.Unix(handshakeSec, handshakeNsec)
		}
		handshakeSec, handshakeNsec = 0, 0
		if streaming {
			peer(cur)
		} else {
			cur.AllowedIPs = cur.AllowedIPs[:len(cur.AllowedIPs):len(cur.AllowedIPs)]
		}
	}
	newPeer := func() *conf.DevicePeer {
		if streaming {
			if !headerDone {
				header(dev)
				headerDone = true
			}
			keep := one.AllowedIPs[:0]
			one = conf.DevicePeer{AllowedIPs: keep}
			return &one
		}
		dev.Peers = append(dev.Peers, conf.DevicePeer{AllowedIPs: ips[len(ips):len(ips)]})
		return &dev.Peers[len(dev.Peers)-1]
	}
	var long []byte // a line longer than r's buffer
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil || len(line) == 0 {
			break
		}
		if len(line) == 1 {
			flush()
			if ret != nil {
				return ret
			}
			if !headerDone {
				header(dev)
			}
			return nil
		}
		key, value, ok := bytes.Cut(line[:len(line)-1], []byte{'='})
		if !ok {
			break
		}
		bad := false
		switch string(key) {
		case "private_key":
			if cur != nil {
				break
			}
			bad = !decodeHexKey(&dev.PrivateKey, value)
			if !bad && !dev.PrivateKey.IsZero() {
				dev.PublicKey = dev.PrivateKey.PublicKey()
			}
		case "listen_port":
			if cur == nil {
				n, ok := uapiNum(value, 0xffff)
				dev.ListenPort, bad = uint16(n), !ok
			}
		case "fwmark":
			if cur == nil {
				n, ok := uapiNum(value, 0xffffffff)
				dev.FwMark, bad = uint32(n), !ok
			}
		case "public_key":
			flush()
			cur = newPeer()
			bad = !decodeHexKey(&cur.PublicKey, value)
		case "preshared_key":
			if cur != nil {
				bad = !decodeHexKey(&cur.PresharedKey, value)
			}
		case "endpoint":
			if cur != nil {
				ep, ok := parseUAPIEndpoint(value)
				if !ok {
					return syscall.ENETUNREACH
				}
				cur.Endpoint = ep
			}
		case "persistent_keepalive_interval":
			if cur != nil {
				n, ok := uapiNum(value, 0xffff)
				cur.PersistentKeepalive, bad = uint16(n), !ok
			}
		case "allowed_ip":
			if cur != nil {
				p, ok := parseUAPIPrefix(value)
				if !ok {
					bad = true
					break
				}
				if streaming {
					cur.AllowedIPs = append(cur.AllowedIPs, p)
				} else {
					// The peer's list is the end of ips; when ips
					// moves, the list moves with it.
					n := len(cur.AllowedIPs)
					ips = append(ips, p)
					cur.AllowedIPs = ips[len(ips)-n-1 : len(ips) : len(ips)]
				}
			}
		case "last_handshake_time_sec":
			if cur != nil {
				n, ok := uapiNum(value, 1<<63-1)
				handshakeSec, bad = int64(n), !ok
			}
		case "last_handshake_time_nsec":
			if cur != nil {
				n, ok := uapiNum(value, 1<<63-1)
				handshakeNsec, bad = int64(n), !ok
			}
		case "rx_bytes":
			if cur != nil {
				n, ok := uapiNum(value, 1<<64-1)
				cur.RxBytes, bad = n, !ok
			}
		case "tx_bytes":
			if cur != nil {
				n, ok := uapiNum(value, 1<<64-1)
				cur.TxBytes, bad = n, !ok
			}
		case "protocol_version":
			// The reference ignores it; so do we, whatever it says.
			if cur != nil {
				if n, ok := uapiNum(value, 1<<31-1); ok {
					cur.ProtocolVersion = int(n)
				}
			}
		case "errno":
			n, ok := uapiNum(value, 0x7fffffff)
			if !ok {
				bad = true
				break
			}
			if n == 0 {
				ret = nil
			} else {
				ret = syscall.Errno(n)
			}
		}
		if bad {
			break
		}
	}
	return syscall.EPROTO
}

// decodeHexKey reads a 64-digit hex key into k.
func decodeHexKey(k *conf.Key, v []byte) bool {
	if len(v) != 2*conf.KeyLen {
		return false
	}
	_, err := hex.Decode(k[:], v)
	return err == nil
}

// uapiNum is the reference's NUM(max): decimal digits only, at most max.
func uapiNum(v []byte, max uint64) (uint64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, n <= max
}

// parseUAPIEndpoint reads "a.b.c.d:port" or "[v6%zone]:port". An address
// without a zone is read from the bytes as they are; one with a zone is
// copied to a string for netip.
func parseUAPIEndpoint(v []byte) (netip.AddrPort, bool) {
	var host, port []byte
	if len(v) > 0 && v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 0 || len(v) < end+3 || v[end+1] != ':' {
			return netip.AddrPort{}, false
		}
		host, port = v[1:end], v[end+2:]
	} else {
		i := bytes.LastIndexByte(v, ':')
		if i < 0 || i == len(v)-1 {
			return netip.AddrPort{}, false
		}
		host, port = v[:i], v[i+1:]
	}
	n, ok := uapiNum(port, 0xffff)
	if !ok {
		return netip.AddrPort{}, false
	}
	a, ok := conf.ParseAddr(host)
	if !ok {
		var err error
		if a, err = netip.ParseAddr(string(host)); err != nil {
			return netip.AddrPort{}, false
		}
	}
	return netip.AddrPortFrom(zoneName(a), uint16(n)), true
}

// zoneName replaces a numeric IPv6 zone by the interface name with that
// index, when there is one, for link-local unicast and multicast addresses,
// as glibc's getnameinfo does; other addresses keep the number.
func zoneName(a netip.Addr) netip.Addr {
	z := a.Zone()
	if z == "" || !(a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) {
		return a
	}
	if idx, err := strconv.ParseUint(z, 10, 31); err == nil {
		if name, ok := interfaceName(uint32(idx)); ok {
			return a.WithZone(name)
		}
	}
	return a
}

// interfaceName is if_indextoname(3): SIOCGIFNAME on a datagram socket.
func interfaceName(index uint32) (string, bool) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return "", false
		}
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return "", false
	}
	ifr.SetUint32(index)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFNAME, ifr); err != nil {
		return "", false
	}
	return ifr.Name(), true
}

// parseUAPIPrefix reads "IP/CIDR" as the reference does: the address by
// its form (a colon means IPv6), no zone, CIDR digits within the family's
// length.
func parseUAPIPrefix(v []byte) (netip.Prefix, bool) {
	slash := bytes.IndexByte(v, '/')
	if slash < 0 {
		return netip.Prefix{}, false
	}
	ipText, mask := v[:slash], v[slash+1:]
	bits, ok := uapiNum(mask, 128)
	if !ok {
		return netip.Prefix{}, false
	}
	a, ok := conf.ParseAddr(ipText)
	if !ok || a.Is6() != (bytes.IndexByte(ipText, ':') >= 0) || int(bits) > a.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, int(bits)), true
}
