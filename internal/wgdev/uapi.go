package wgdev

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// FormatUAPISet writes the UAPI "set" request for cfg, byte for byte as
// wireguard-tools' userspace_set_device does (keys in hex, the blank line
// that ends the request included). Allowed IPs marked Remove are sent as
// "allowed_ip=-PREFIX", the upstream incremental form.
func FormatUAPISet(cfg *conf.Config) string {
	var b strings.Builder
	b.WriteString("set=1\n")
	i := &cfg.Interface
	if i.PrivateKey != nil {
		fmt.Fprintf(&b, "private_key=%s\n", i.PrivateKey.Hex())
	}
	if i.ListenPort != nil {
		fmt.Fprintf(&b, "listen_port=%d\n", *i.ListenPort)
	}
	if i.FwMark != nil {
		fmt.Fprintf(&b, "fwmark=%d\n", *i.FwMark)
	}
	if cfg.ReplacePeers {
		b.WriteString("replace_peers=true\n")
	}
	for n := range cfg.Peers {
		p := &cfg.Peers[n]
		fmt.Fprintf(&b, "public_key=%s\n", p.PublicKey.Hex())
		if p.Remove {
			b.WriteString("remove=true\n")
			continue
		}
		if p.UpdateOnly {
			b.WriteString("update_only=true\n")
		}
		if p.PresharedKey != nil {
			fmt.Fprintf(&b, "preshared_key=%s\n", p.PresharedKey.Hex())
		}
		if p.Endpoint != nil {
			fmt.Fprintf(&b, "endpoint=%s\n", conf.FormatEndpoint(*p.Endpoint))
		}
		if p.PersistentKeepalive != nil {
			fmt.Fprintf(&b, "persistent_keepalive_interval=%d\n", *p.PersistentKeepalive)
		}
		if p.ReplaceAllowedIPs {
			b.WriteString("replace_allowed_ips=true\n")
		}
		for _, a := range p.AllowedIPs {
			if a.Remove {
				fmt.Fprintf(&b, "allowed_ip=-%s\n", conf.FormatPrefix(a.Prefix))
			} else {
				fmt.Fprintf(&b, "allowed_ip=%s\n", conf.FormatPrefix(a.Prefix))
			}
		}
	}
	b.WriteString("\n")
	return b.String()
}

// uapiTimeout bounds one exchange with a userspace daemon.
const uapiTimeout = 30 * time.Second

func dialUAPI(path string) (net.Conn, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, errno
		}
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(uapiTimeout))
	return conn, nil
}

// uapiSet sends cfg and returns the daemon's errno, if any.
func uapiSet(path string, cfg *conf.Config) error {
	conn, err := dialUAPI(path)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, werr := conn.Write([]byte(FormatUAPISet(cfg)))
	// A daemon that fails part way answers with its errno and hangs up,
	// which can cut our write short: its answer is the better report.
	r := bufio.NewReader(conn)
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
	conn, err := dialUAPI(path)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("get=1\n\n")); err != nil {
		return nil, errnoOf(err)
	}
	return ParseUAPIGet(bufio.NewReader(conn), name)
}

// ParseUAPIGet reads a UAPI "get" reply as wireguard-tools'
// userspace_get_device does: key=value lines up to a blank line; unknown
// keys are skipped; a malformed line or value is EPROTO; errno=N ends it
// with that error. The public key is derived from the private key.
func ParseUAPIGet(r *bufio.Reader, name string) (*conf.Device, error) {
	dev := &conf.Device{Name: name}
	var peer *conf.DevicePeer
	ret := error(syscall.EPROTO)
	var handshakeSec, handshakeNsec int64
	flush := func() {
		if peer != nil && (handshakeSec != 0 || handshakeNsec != 0) {
			peer.LastHandshake = time.Unix(handshakeSec, handshakeNsec)
		}
		handshakeSec, handshakeNsec = 0, 0
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "" {
			break
		}
		if line == "\n" {
			flush()
			if ret != nil {
				return nil, ret
			}
			return dev, nil
		}
		key, value, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		if !ok || !strings.HasSuffix(line, "\n") {
			break
		}
		bad := false
		switch {
		case peer == nil && key == "private_key":
			k, err := conf.ParseHexKey(value)
			if err != nil {
				bad = true
				break
			}
			dev.PrivateKey = k
			if !k.IsZero() {
				dev.PublicKey = k.PublicKey()
			}
		case peer == nil && key == "listen_port":
			n, ok := uapiNum(value, 0xffff)
			dev.ListenPort, bad = uint16(n), !ok
		case peer == nil && key == "fwmark":
			n, ok := uapiNum(value, 0xffffffff)
			dev.FwMark, bad = uint32(n), !ok
		case key == "public_key":
			flush()
			k, err := conf.ParseHexKey(value)
			if err != nil {
				bad = true
				break
			}
			dev.Peers = append(dev.Peers, conf.DevicePeer{PublicKey: k})
			peer = &dev.Peers[len(dev.Peers)-1]
		case peer != nil && key == "preshared_key":
			k, err := conf.ParseHexKey(value)
			peer.PresharedKey, bad = k, err != nil
		case peer != nil && key == "endpoint":
			ep, ok := parseUAPIEndpoint(value)
			if !ok {
				return nil, syscall.ENETUNREACH
			}
			peer.Endpoint = ep
		case peer != nil && key == "persistent_keepalive_interval":
			n, ok := uapiNum(value, 0xffff)
			peer.PersistentKeepalive, bad = uint16(n), !ok
		case peer != nil && key == "allowed_ip":
			p, ok := parseUAPIPrefix(value)
			if !ok {
				bad = true
				break
			}
			peer.AllowedIPs = append(peer.AllowedIPs, p)
		case peer != nil && key == "last_handshake_time_sec":
			n, ok := uapiNum(value, 1<<63-1)
			handshakeSec, bad = int64(n), !ok
		case peer != nil && key == "last_handshake_time_nsec":
			n, ok := uapiNum(value, 1<<63-1)
			handshakeNsec, bad = int64(n), !ok
		case peer != nil && key == "rx_bytes":
			n, ok := uapiNum(value, 1<<64-1)
			peer.RxBytes, bad = n, !ok
		case peer != nil && key == "tx_bytes":
			n, ok := uapiNum(value, 1<<64-1)
			peer.TxBytes, bad = n, !ok
		case peer != nil && key == "protocol_version":
			n, ok := uapiNum(value, 1<<32-1)
			peer.ProtocolVersion, bad = int(n), !ok
		case key == "errno":
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
	return nil, syscall.EPROTO
}

// uapiNum is the reference's NUM(max): decimal digits only, at most max.
func uapiNum(v string, max uint64) (uint64, bool) {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}

// parseUAPIEndpoint reads "a.b.c.d:port" or "[v6%zone]:port". A numeric
// zone is turned into the interface's name where one has that index, as
// getnameinfo does when wg prints it.
func parseUAPIEndpoint(v string) (netip.AddrPort, bool) {
	var host, port string
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 || len(v) < end+3 || v[end+1] != ':' {
			return netip.AddrPort{}, false
		}
		host, port = v[1:end], v[end+2:]
	} else {
		i := strings.LastIndexByte(v, ':')
		if i < 0 || i == len(v)-1 {
			return netip.AddrPort{}, false
		}
		host, port = v[:i], v[i+1:]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, false
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
	if idx, err := strconv.Atoi(z); err == nil {
		if ifi, err := net.InterfaceByIndex(idx); err == nil {
			return a.WithZone(ifi.Name)
		}
	}
	return a
}

func parseUAPIPrefix(v string) (netip.Prefix, bool) {
	ipText, mask, ok := strings.Cut(v, "/")
	if !ok || mask == "" || mask[0] < '0' || mask[0] > '9' {
		return netip.Prefix{}, false
	}
	a, err := netip.ParseAddr(ipText)
	if err != nil || a.Zone() != "" || strings.ContainsRune(ipText, ':') != a.Is6() {
		return netip.Prefix{}, false
	}
	bits, err := strconv.Atoi(mask)
	if err != nil || bits > a.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, bits), true
}
