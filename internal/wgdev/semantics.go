package wgdev

import (
	"bytes"
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
	SetconfSemantics(cfg)
	if len(cfg.Peers) == 0 || runtime == nil || len(runtime.Peers) == 0 {
		return
	}
	cfg.ReplacePeers = false
	inFile := make(map[conf.Key]bool, len(cfg.Peers))
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		if p.PresharedKey == nil {
			p.PresharedKey = new(conf.Key)
		}
		if p.PersistentKeepalive == nil {
			p.PersistentKeepalive = new(uint16)
		}
		inFile[p.PublicKey] = true
	}
	var gone []conf.Key
	for i := range runtime.Peers {
		if k := runtime.Peers[i].PublicKey; !inFile[k] {
			gone = append(gone, k)
		}
	}
	slices.SortFunc(gone, func(a, b conf.Key) int { return bytes.Compare(b[:], a[:]) })
	gone = slices.Compact(gone)
	peers := make([]conf.Peer, 0, len(gone)+len(cfg.Peers))
	for _, k := range gone {
		peers = append(peers, conf.Peer{PublicKey: k, Remove: true})
	}
	cfg.Peers = append(peers, cfg.Peers...)
}
