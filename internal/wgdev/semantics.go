package wgdev

import (
	"bytes"
	"iter"
	"slices"

	"github.com/gowg/wgtools/internal/conf"
)

// SetconfSemantics turns a parsed file into what `wg setconf` sends:
// everything the file does not set is reset (no private key, a random
// port, no fwmark), and peers not in the file are removed.
func SetconfSemantics(cfg *conf.Config) {
	i := &cfg.Interface
	if i.PrivateKey == nil {
		i.PrivateKey = new(conf.Key)
	}
	if i.ListenPort == nil {
		i.ListenPort = new(uint16)
	}
	if i.FwMark == nil {
		i.FwMark = new(uint32)
	}
	cfg.ReplacePeers = true
}

// SyncconfSemantics turns a parsed file into what `wg syncconf` sends to a
// device whose current state is runtime, as upstream's sync_conf does. The
// interface is reset like setconf's (no private key, random port, no
// fwmark where the file has none). When both the file and the device have
// peers, peers are not replaced wholesale: each device peer missing from
// the file is removed (those removals come first, in descending order of
// their keys), the file's peers are updated in place (their sessions kept),
// and a preshared key or keepalive the file leaves out is cleared. Callers
// need runtime only when cfg has peers; it may be nil otherwise.
func SyncconfSemantics(cfg *conf.Config, runtime *conf.Device) {
	file := cfg.Peers
	each := func(yield func(*conf.Peer) bool) {
		for i := range file {
			if !yield(&file[i]) {
				return
			}
		}
	}
	s := NewSync(each, len(file))
	if runtime != nil {
		for i := range runtime.Peers {
			s.DevicePeer(runtime.Peers[i].PublicKey)
		}
	}
	cfg.Peers = nil
	for p := range s.Apply(cfg, each) {
		cfg.Peers = append(cfg.Peers, *p)
	}
}

// Sync is SyncconfSemantics for a file whose peers are read as a stream
// (wg syncconf of thousands of peers keeps them in a conf.PeerList) and a
// device read as one: NewSync takes the keys of the file's peers,
// DevicePeer each of the device's, and Apply makes the request.
type Sync struct {
	file   []conf.Key // sorted
	gone   []conf.Key // the device's peers the file does not have
	device int        // how many peers the device has
}

// NewSync starts the plan for a file with these peers (n of them, a
// capacity hint).
func NewSync(peers iter.Seq[*conf.Peer], n int) *Sync {
	s := &Sync{file: make([]conf.Key, 0, n)}
	for p := range peers {
		s.file = append(s.file, p.PublicKey)
	}
	slices.SortFunc(s.file, compareKeys)
	return s
}

func compareKeys(a, b conf.Key) int { return bytes.Compare(a[:], b[:]) }

// DevicePeer adds one of the device's peers.
func (s *Sync) DevicePeer(k conf.Key) {
	s.device++
	if _, found := slices.BinarySearchFunc(s.file, k, compareKeys); !found {
		s.gone = append(s.gone, k)
	}
}

// Apply turns cfg, the file's interface without its peers, into the
// request's head: the interface reset like setconf's and, when both the
// file and the device have peers, cfg.Peers set to the removals. The
// peers to send after them are returned: the file's (peers, as NewSync
// was given them), with an omitted preshared key or keepalive cleared
// when syncing; as they are when the request replaces every peer.
func (s *Sync) Apply(cfg *conf.Config, peers iter.Seq[*conf.Peer]) iter.Seq[*conf.Peer] {
	SetconfSemantics(cfg)
	if len(s.file) == 0 || s.device == 0 {
		return peers
	}
	cfg.ReplacePeers = false
	slices.SortFunc(s.gone, func(a, b conf.Key) int { return compareKeys(b, a) })
	s.gone = slices.Compact(s.gone)
	cfg.Peers = slices.Grow(cfg.Peers[:0], len(s.gone))
	for _, k := range s.gone {
		cfg.Peers = append(cfg.Peers, conf.Peer{PublicKey: k, Remove: true})
	}
	return func(yield func(*conf.Peer) bool) {
		var noKey conf.Key
		var noKeepalive uint16
		for p := range peers {
			if p.PresharedKey == nil {
				p.PresharedKey = &noKey
			}
			if p.PersistentKeepalive == nil {
				p.PersistentKeepalive = &noKeepalive
			}
			if !yield(p) {
				return
			}
		}
	}
}
