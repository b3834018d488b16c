package conf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ParseSetArgs reads the arguments of `wg set IFACE ...` (those after the
// interface name) as wireguard-tools' config_read_cmd does. Device options
// come before the first `peer`; `remove`, `endpoint`, `allowed-ips`,
// `persistent-keepalive` and `preshared-key` apply to the peer before them.
// Key options name files; an empty file (such as /dev/null) means "no key".
func ParseSetArgs(args []string, opts *Options) (*Config, error) {
	cfg := &Config{}
	var peer *Peer
	fail := func(err error) error {
		if _, ok := err.(*FatalError); ok {
			return err
		}
		return &Error{Msg: err.Error()}
	}
	for i := 0; i < len(args); {
		arg := args[i]
		has := i+1 < len(args)
		var val string
		if has {
			val = args[i+1]
		}
		switch {
		case arg == "listen-port" && has && peer == nil:
			p, err := ParsePort(val, opts.service)
			if err != nil {
				return nil, fail(err)
			}
			cfg.Interface.ListenPort = &p
		case arg == "fwmark" && has && peer == nil:
			m, err := ParseFwMark(val)
			if err != nil {
				return nil, fail(err)
			}
			cfg.Interface.FwMark = &m
		case arg == "private-key" && has && peer == nil:
			k, err := ReadKeyFile(val, opts)
			if err != nil {
				return nil, fail(err)
			}
			cfg.Interface.PrivateKey = &k
		case arg == "peer" && has:
			k, err := ParseKey(val)
			if err != nil {
				return nil, fail(fmt.Errorf("%s (argument %d)", err, i+2))
			}
			cfg.Peers = append(cfg.Peers, Peer{PublicKey: k, hasPublicKey: true})
			peer = &cfg.Peers[len(cfg.Peers)-1]
		case arg == "remove" && peer != nil:
			peer.Remove = true
			i++
			continue
		case arg == "endpoint" && has && peer != nil:
			ep, err := ParseEndpoint(val, opts)
			if err != nil {
				return nil, fail(err)
			}
			peer.Endpoint = &ep
		case arg == "allowed-ips" && has && peer != nil:
			ips, replace, err := ParseAllowedIPs(removeSpace(val), opts.warn)
			if err != nil {
				return nil, fail(err)
			}
			peer.ReplaceAllowedIPs = replace
			peer.AllowedIPs = append(peer.AllowedIPs, ips...)
		case arg == "persistent-keepalive" && has && peer != nil:
			ka, err := ParsePersistentKeepalive(val)
			if err != nil {
				return nil, fail(err)
			}
			peer.PersistentKeepalive = &ka
		case arg == "preshared-key" && has && peer != nil:
			k, err := ReadKeyFile(val, opts)
			if err != nil {
				return nil, fail(err)
			}
			peer.PresharedKey = &k
		default:
			return nil, fail(fmt.Errorf("Invalid argument: %s", hideKey(arg)))
		}
		i += 2
	}
	return cfg, nil
}

// ReadKeyFile reads a key file as wg's parse_keyfile does: 44 base64
// characters, then nothing but whitespace; an empty file is the zero key.
// A key file that others may read draws a warning.
func ReadKeyFile(path string, opts *Options) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return Key{}, fmt.Errorf("fopen: %s", Strerror(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o007 != 0 {
		opts.warn(fmt.Sprintf("Warning: `%s' is world accessible", path))
	}
	var buf [44]byte
	defer func() {
		for i := range buf {
			buf[i] = 0
		}
	}()
	n, err := io.ReadFull(f, buf[:])
	if err != nil {
		if n == 0 && err == io.EOF {
			return Key{}, nil
		}
		return Key{}, errors.New("Invalid length key in key file")
	}
	var rest [512]byte
	for {
		m, err := f.Read(rest[:])
		for _, c := range rest[:m] {
			if !isSpace(c) {
				return Key{}, fmt.Errorf("Found trailing character in key file: `%c'", c)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Key{}, fmt.Errorf("getc: %s", Strerror(err))
		}
	}
	k, err := parseKey(buf[:])
	if err != nil {
		return Key{}, fmt.Errorf("%s (key file `%s')", err, path)
	}
	return k, nil
}

// Strerror renders an error the way C's strerror does for its errno (with
// glibc's capitalisation), or the error's own text when it has no errno.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return ErrnoString(errno)
	}
	return err.Error()
}

// ErrnoString is glibc's strerror text for errno.
func ErrnoString(errno syscall.Errno) string {
	s := errno.Error()
	if s == "" {
		return fmt.Sprintf("Unknown error %d", int(errno))
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
