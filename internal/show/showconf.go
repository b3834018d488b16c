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
	showconfHeader(w, d)
	for i := range d.Peers {
		showconfPeer(w, &d.Peers[i])
	}
	showconfEnd(w, len(d.Peers))
}

// showconfEnd ends the text: the interface section of a device without
// peers is followed by a blank line.
func showconfEnd(w *bufio.Writer, peers int) {
	if peers == 0 {
		w.WriteByte('\n')
	}
}

func showconfHeader(w *bufio.Writer, d *conf.Device) {
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
	w.Write(b)
}

// showconfPeer writes one [Peer] section; every one is preceded by a blank
// line (after the interface's, or between two peers).
func showconfPeer(w *bufio.Writer, p *conf.DevicePeer) {
	b := line(w)
	b = append(b, "\n[Peer]\nPublicKey = "...)
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
	w.Write(b)
}
