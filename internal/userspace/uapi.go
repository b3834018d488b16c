package userspace

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"

	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
)

// maxRequest bounds one UAPI set request (about 200,000 peers' worth).
const maxRequest = 64 << 20

// configurator is the part of a wireguard-go device the server drives.
type configurator interface {
	IpcSetOperation(r io.Reader) error
	IpcGetOperation(w io.Writer) error
}

// server answers the UAPI protocol (https://www.wireguard.com/xplatform/)
// for one device, keeping the order in which peers were added so that `get`
// lists them in that order.
type server struct {
	dev configurator
	mu  sync.Mutex
	// lastGet is the size of the last get reply.
	lastGet int
	// mem, when set, is told of configuration requests.
	mem *governor
	// order holds the peers' public keys (lower-case hex, as in UAPI) in
	// the order they were added.
	order *peerOrder
}

func newServer(dev configurator) *server { return &server{dev: dev, order: &peerOrder{}} }

// serve handles the requests of one connection.
func (s *server) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	for {
		op, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch op {
		case "set=1\n":
			var req []byte
			req, err = readRequest(r)
			if err == nil {
				err = s.set(req)
				clear(req)
			}
		case "get=1\n":
			var b byte
			if b, err = r.ReadByte(); err != nil {
				return
			}
			if b != '\n' {
				err = ipcErr(ipc.IpcErrorInvalid, "trailing character in UAPI get: %q", b)
				break
			}
			var out []byte
			out, err = s.get()
			if err == nil {
				w.Write(out)
				clear(out)
			}
		default:
			return
		}
		code := int64(0)
		if err != nil {
			code = ipc.IpcErrorUnknown
			var ie *device.IPCError
			var own *ipcError
			switch {
			case errors.As(err, &ie):
				code = ie.ErrorCode()
			case errors.As(err, &own):
				code = own.code
			}
		}
		fmt.Fprintf(w, "errno=%d\n\n", code)
		if w.Flush() != nil {
			return
		}
	}
}

type ipcError struct {
	code int64
	msg  string
}

func (e *ipcError) Error() string { return e.msg }

func ipcErr(code int64, format string, a ...any) error {
	return &ipcError{code: code, msg: fmt.Sprintf(format, a...)}
}

// readRequest reads a set request's lines up to and including the empty
// line that ends it.
func readRequest(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		line, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			clear(buf)
			return nil, ipcErr(ipc.IpcErrorIO, "reading the request: %v", err)
		}
		buf = append(buf, line...)
		if len(buf) > maxRequest {
			clear(buf)
			return nil, ipcErr(ipc.IpcErrorInvalid, "request larger than %d bytes", maxRequest)
		}
		if err == nil && len(line) == 1 && (len(buf) == 1 || buf[len(buf)-2] == '\n') {
			return buf, nil
		}
	}
}

// set applies a request and records the peers it adds or removes.
func (s *server) set(req []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The collector is off while the request is applied (see governor).
	if s.mem != nil {
		defer s.mem.configuring()()
	}
	err := s.dev.IpcSetOperation(bytes.NewReader(req))
	s.order.apply(req)
	if err != nil {
		// Part of the request may not have been applied: take the
		// device's word for which peers exist.
		if keys, gerr := s.currentKeys(); gerr == nil {
			s.order.keep(keys)
		}
	}
	return err
}

func (s *server) currentKeys() ([]string, error) {
	var b bytes.Buffer
	if err := s.dev.IpcGetOperation(&b); err != nil {
		return nil, err
	}
	defer clear(b.Bytes())
	var keys []string
	for line := range strings.SplitSeq(b.String(), "\n") {
		if k, ok := strings.CutPrefix(line, "public_key="); ok {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// get returns the device's state with its peers in insertion order.
func (s *server) get() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	b.Grow(s.lastGet) // the device's state is the size it was, most likely
	if err := s.dev.IpcGetOperation(&b); err != nil {
		clear(b.Bytes())
		return nil, err
	}
	s.lastGet = b.Len()
	out := s.order.sort(b.Bytes())
	clear(b.Bytes())
	return out, nil
}

// peerOrder is the insertion order of peers.
type peerOrder struct {
	keys []string
	pos  map[string]int // index into keys
}

func (o *peerOrder) reindex() {
	o.pos = make(map[string]int, len(o.keys))
	for i, k := range o.keys {
		o.pos[k] = i
	}
}

func (o *peerOrder) has(k string) bool { _, ok := o.pos[k]; return ok }

// apply follows a set request: replace_peers forgets every peer, a peer
// with remove=true is forgotten, any other peer not known yet is appended
// unless it is update_only.
func (o *peerOrder) apply(req []byte) {
	if o.pos == nil {
		o.reindex()
	}
	var key string
	var remove, updateOnly, inPeer, removed bool
	flush := func() {
		if !inPeer {
			return
		}
		switch {
		case remove:
			// Marked here and dropped once at the end: a syncconf
			// removes hundreds of peers in one request.
			if i, ok := o.pos[key]; ok {
				o.keys[i] = ""
				delete(o.pos, key)
				removed = true
			}
		case !o.has(key) && !updateOnly:
			o.pos[key] = len(o.keys)
			o.keys = append(o.keys, key)
		}
	}
	for line := range strings.SplitSeq(string(req), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch {
		case k == "public_key":
			flush()
			key, remove, updateOnly, inPeer = strings.ToLower(v), false, false, true
		case k == "replace_peers" && v == "true" && !inPeer:
			o.keys = o.keys[:0]
			o.reindex()
		case k == "remove" && v == "true" && inPeer:
			remove = true
		case k == "update_only" && v == "true" && inPeer:
			updateOnly = true
		}
	}
	flush()
	if removed {
		o.keys = slices.DeleteFunc(o.keys, func(k string) bool { return k == "" })
		o.reindex()
	}
}

// keep drops every recorded peer not in present and appends the present
// ones not recorded, in present's order.
func (o *peerOrder) keep(present []string) {
	set := make(map[string]bool, len(present))
	for _, k := range present {
		set[k] = true
	}
	o.keys = slices.DeleteFunc(o.keys, func(k string) bool { return !set[k] })
	o.reindex()
	for _, k := range present {
		if !o.has(k) {
			o.pos[k] = len(o.keys)
			o.keys = append(o.keys, k)
		}
	}
}

// sort reorders the peer blocks of a get reply: recorded peers in their
// order, then any others in the order the device gave them. The reply is
// not changed; the result is a new slice (it holds the private key: the
// caller clears both). Blocks are found and moved as whole ranges of the
// reply, without copying lines one by one.
func (o *peerOrder) sort(reply []byte) []byte {
	if o.pos == nil {
		o.reindex()
	}
	type block struct{ rank, start, end int }
	var blocks []block
	head := len(reply)
	prefix := []byte("public_key=")
	for i := 0; i < len(reply); {
		end := len(reply)
		if j := bytes.IndexByte(reply[i:], '\n'); j >= 0 {
			end = i + j + 1
		}
		if line := reply[i:end]; bytes.HasPrefix(line, prefix) {
			if len(blocks) == 0 {
				head = i
			} else {
				blocks[len(blocks)-1].end = i
			}
			rank := len(o.keys) + len(blocks)
			key := line[len(prefix):]
			if len(key) > 0 && key[len(key)-1] == '\n' {
				key = key[:len(key)-1]
			}
			if p, known := o.pos[string(key)]; known {
				rank = p
			}
			blocks = append(blocks, block{rank: rank, start: i})
		}
		i = end
	}
	if len(blocks) > 0 {
		blocks[len(blocks)-1].end = len(reply)
	}
	// Ranks are distinct: no stability needed.
	slices.SortFunc(blocks, func(a, b block) int { return a.rank - b.rank })
	out := make([]byte, 0, len(reply))
	out = append(out, reply[:head]...)
	for _, b := range blocks {
		out = append(out, reply[b.start:b.end]...)
	}
	return out
}
