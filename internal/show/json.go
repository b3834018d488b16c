package show

import (
	"bufio"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gowg/wgtools/internal/conf"
)

// JSONSchemaVersion is the "schema_version" of the documents JSON writes
// (dist/schema/wg-show.schema.json; docs/json.md says when it changes).
const JSONSchemaVersion = 1

// JSON writes the document of `wg show IFACE json` and `wg show all json`
// (docs/json.md): Begin, then Device for each interface as it is read,
// then End. Each device is written as it comes, peer by peer, through the
// bufio.Writer, so the document is never held whole in memory.
type JSON struct {
	w  *bufio.Writer
	st Style
	n  int // devices written
}

// BeginJSON writes the document's head.
func BeginJSON(w *bufio.Writer, st Style) *JSON {
	b := line(w)
	b = append(b, "{\n  \"schema_version\": "...)
	b = strconv.AppendInt(b, JSONSchemaVersion, 10)
	b = append(b, ",\n  \"time\": "...)
	b = appendJSONTime(b, st.Now.Unix())
	b = append(b, ",\n  \"interfaces\": ["...)
	w.Write(b)
	return &JSON{w: w, st: st}
}

// End closes the document.
func (j *JSON) End() {
	b := line(j.w)
	if j.n > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "]\n}\n"...)
	j.w.Write(b)
}

// Device writes one interface, its peers in the device's order (as dump).
func (j *JSON) Device(d *conf.Device) {
	j.deviceHead(d)
	for i := range d.Peers {
		j.devicePeer(&d.Peers[i], i == 0)
	}
	j.deviceEnd(len(d.Peers))
}

func (j *JSON) deviceHead(d *conf.Device) {
	b := line(j.w)
	if j.n > 0 {
		b = append(b, ',')
	}
	j.n++
	b = append(b, "\n    {\n      \"name\": "...)
	b = appendJSONString(b, d.Name)
	b = append(b, ",\n      \"public_key\": "...)
	b = appendJSONKey(b, &d.PublicKey, true)
	b = append(b, ",\n      \"private_key\": "...)
	b = appendJSONKey(b, &d.PrivateKey, j.st.ShowKeys)
	b = append(b, ",\n      \"listen_port\": "...)
	b = strconv.AppendUint(b, uint64(d.ListenPort), 10)
	b = append(b, ",\n      \"fwmark\": "...)
	b = appendJSONUintOrNull(b, uint64(d.FwMark))
	b = append(b, ",\n      \"peers\": ["...)
	j.w.Write(b)
}

func (j *JSON) devicePeer(p *conf.DevicePeer, first bool) {
	w := j.w
	b := line(w)
	if !first {
		b = append(b, ',')
	}
	b = append(b, "\n        {\n          \"public_key\": "...)
	b = appendJSONKey(b, &p.PublicKey, true)
	b = append(b, ",\n          \"preshared_key\": "...)
	b = appendJSONKey(b, &p.PresharedKey, j.st.ShowKeys)
	b = append(b, ",\n          \"endpoint\": "...)
	if p.Endpoint.IsValid() {
		b = append(b, '"')
		b = conf.AppendEndpoint(b, p.Endpoint)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, ",\n          \"allowed_ips\": ["...)
	for k, a := range p.AllowedIPs {
		if len(b) > 32<<10 {
			w.Write(b)
			b = line(w)
		}
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n            \""...)
		b = conf.AppendPrefix(b, a)
		b = append(b, '"')
	}
	if len(p.AllowedIPs) > 0 {
		b = append(b, "\n          "...)
	}
	b = append(b, "],\n          \"latest_handshake\": "...)
	if sec := handshakeSec(p.LastHandshake); sec != 0 {
		b = appendJSONTime(b, sec)
		b = append(b, ",\n          \"latest_handshake_age_seconds\": "...)
		b = strconv.AppendInt(b, j.st.Now.Unix()-sec, 10)
	} else {
		b = append(b, "null,\n          \"latest_handshake_age_seconds\": null"...)
	}
	b = append(b, ",\n          \"transfer_rx_bytes\": "...)
	b = strconv.AppendUint(b, p.RxBytes, 10)
	b = append(b, ",\n          \"transfer_tx_bytes\": "...)
	b = strconv.AppendUint(b, p.TxBytes, 10)
	b = append(b, ",\n          \"persistent_keepalive_seconds\": "...)
	b = appendJSONUintOrNull(b, uint64(p.PersistentKeepalive))
	b = append(b, "\n        }"...)
	w.Write(b)
}

func (j *JSON) deviceEnd(peers int) {
	b := line(j.w)
	if peers > 0 {
		b = append(b, "\n      "...)
	}
	b = append(b, "]\n    }"...)
	j.w.Write(b)
}

// appendJSONKey appends k as a JSON string, null when it is zero, and
// "(hidden)" when it is set but not to be shown.
func appendJSONKey(b []byte, k *conf.Key, show bool) []byte {
	switch {
	case k.IsZero():
		return append(b, "null"...)
	case !show:
		return append(b, `"(hidden)"`...)
	}
	b = append(b, '"')
	b = appendKey(b, k)
	return append(b, '"')
}

// appendJSONUintOrNull appends n, or null for 0 (wg's "off").
func appendJSONUintOrNull(b []byte, n uint64) []byte {
	if n == 0 {
		return append(b, "null"...)
	}
	return strconv.AppendUint(b, n, 10)
}

// appendJSONTime appends the Unix time sec as an RFC 3339 string in UTC,
// whole seconds.
func appendJSONTime(b []byte, sec int64) []byte {
	b = append(b, '"')
	b = time.Unix(sec, 0).UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, bytes that are not UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
