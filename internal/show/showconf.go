package show

import (
	"bufio"
	"strconv"

	"github.com/gowg/wgtools/internal/conf"
)

// Showconf writes d as `wg showconf` prints it: the configuration file
// that gives d back through setconf. The text is conf.ConfigOf(d).Format()'s,
// written without building the Config.
func Showconf(w *bufio.Writer, d *conf.Device) {
	b := line(w)
	b = append(b, "[Interface]\n"...)
	if d.ListenPort != 0 {
		b = append(b, "ListenPort = "...)
		b = strconv.AppendUint(b, uint64(d.ListenPort), 10)
		b = append(b, '\n')
	}
	if d.FwMark != 0 {
		b = append(b, "FwMark = 0x"...)
		b = strconv.AppendUint(b, uint64(d.FwMark), 16)
		b = append(b, '\n')
	}
	if !d.PrivateKey.IsZero() {
		b = append(b, "PrivateKey = "...)
		b = appendKey(b, &d.PrivateKey)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	w.Write(b)
	for i := range d.Peers {
		p := &d.Peers[i]
		b := line(w)
		b = append(b, "[Peer]\nPublicKey = "...)
		b = appendKey(b, &p.PublicKey)
		b = append(b, '\n')
		if !p.PresharedKey.IsZero() {
			b = append(b, "PresharedKey = "...)
			b = appendKey(b, &p.PresharedKey)
			b = append(b, '\n')
		}
		if len(p.AllowedIPs) > 0 {
			b = append(b, "AllowedIPs = "...)
			for j, a := range p.AllowedIPs {
				if j > 0 {
					b = append(b, ", "...)
				}
				if len(b) > 32<<10 {
					w.Write(b)
					b = line(w)
				}
				b = conf.AppendPrefix(b, a)
			}
			b = append(b, '\n')
		}
		if p.Endpoint.IsValid() {
			b = append(b, "Endpoint = "...)
			b = conf.AppendEndpoint(b, p.Endpoint)
			b = append(b, '\n')
		}
		if p.PersistentKeepalive != 0 {
			b = append(b, "PersistentKeepalive = "...)
			b = strconv.AppendUint(b, uint64(p.PersistentKeepalive), 10)
			b = append(b, '\n')
		}
		if i+1 < len(d.Peers) {
			b = append(b, '\n')
		}
		w.Write(b)
	}
}
