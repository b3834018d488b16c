package wgdev

import "github.com/gowg/wgtools/internal/conf"

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
