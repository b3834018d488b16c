package jsontest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WGShow is the document of `wg show ... json` (dist/schema/wg-show.schema.json).
type WGShow struct {
	SchemaVersion int         `json:"schema_version"`
	Time          string      `json:"time"`
	Interfaces    []Interface `json:"interfaces"`
}

// Interface is one element of WGShow.Interfaces.
type Interface struct {
	Name       string  `json:"name"`
	PublicKey  *string `json:"public_key"`
	PrivateKey *string `json:"private_key"`
	ListenPort int     `json:"listen_port"`
	FwMark     *uint32 `json:"fwmark"`
	Peers      []Peer  `json:"peers"`
}

// Peer is one element of Interface.Peers.
type Peer struct {
	PublicKey           string   `json:"public_key"`
	PresharedKey        *string  `json:"preshared_key"`
	Endpoint            *string  `json:"endpoint"`
	AllowedIPs          []string `json:"allowed_ips"`
	LatestHandshake     *string  `json:"latest_handshake"`
	LatestHandshakeAge  *int64   `json:"latest_handshake_age_seconds"`
	TransferRx          uint64   `json:"transfer_rx_bytes"`
	TransferTx          uint64   `json:"transfer_tx_bytes"`
	PersistentKeepalive *uint16  `json:"persistent_keepalive_seconds"`
}

// DecodeWGShow reads a `wg show ... json` document strictly: one object,
// no key this package does not know, nothing after it.
func DecodeWGShow(doc []byte) (*WGShow, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	var d WGShow
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	if !bytes.HasSuffix(doc, []byte("}\n")) {
		return nil, fmt.Errorf("the document does not end with a newline after its object")
	}
	return &d, nil
}

// AgreesWithDump checks doc (`wg show IFACE json` or `wg show all json`)
// against dump (`wg show IFACE dump` or `wg show all dump` of the same
// state), field by field: keys as dump prints them, or "(hidden)" where
// dump has a secret key and showKeys is false; (none), off and 0 as null;
// handshake times and ages; counters. Interfaces and peers are matched by
// name and public key (a userspace device may list its peers in another
// order each time).
func AgreesWithDump(doc []byte, dump string, all, showKeys bool) error {
	d, err := DecodeWGShow(doc)
	if err != nil {
		return err
	}
	if d.SchemaVersion != 1 {
		return fmt.Errorf("schema_version %d", d.SchemaVersion)
	}
	now, err := time.Parse(time.RFC3339, d.Time)
	if err != nil {
		return fmt.Errorf("time: %v", err)
	}
	want, err := parseDump(dump, all)
	if err != nil {
		return err
	}
	if len(d.Interfaces) != len(want) {
		return fmt.Errorf("%d interfaces, dump has %d", len(d.Interfaces), len(want))
	}
	for i := range d.Interfaces {
		got := &d.Interfaces[i]
		w := want[i]
		if all && got.Name != w.name {
			return fmt.Errorf("interface %d is %q, dump's is %q", i, got.Name, w.name)
		}
		w.name = got.Name // for the messages below
		if err := agreeInterface(got, w.fields, showKeys); err != nil {
			return fmt.Errorf("interface %s: %v", w.name, err)
		}
		if len(got.Peers) != len(w.peers) {
			return fmt.Errorf("interface %s: %d peers, dump has %d", w.name, len(got.Peers), len(w.peers))
		}
		byKey := map[string][][]string{} // in dump's order, for repeated keys
		for _, p := range w.peers {
			byKey[p[0]] = append(byKey[p[0]], p)
		}
		for j := range got.Peers {
			p := &got.Peers[j]
			fs := byKey[p.PublicKey]
			if len(fs) == 0 {
				return fmt.Errorf("interface %s: peer %s is not in the dump", w.name, p.PublicKey)
			}
			f := fs[0]
			byKey[p.PublicKey] = fs[1:]
			if err := agreePeer(p, f, now.Unix(), showKeys); err != nil {
				return fmt.Errorf("interface %s, peer %s: %v", w.name, p.PublicKey, err)
			}
		}
	}
	return nil
}

type dumpInterface struct {
	name   string
	fields []string   // private key, public key, port, fwmark
	peers  [][]string // public key ... keepalive
}

func parseDump(dump string, all bool) ([]dumpInterface, error) {
	var out []dumpInterface
	lines := strings.Split(strings.TrimSuffix(dump, "\n"), "\n")
	if dump == "" {
		lines = nil
	}
	for n, l := range lines {
		f := strings.Split(l, "\t")
		name := ""
		if all {
			if len(f) < 2 {
				return nil, fmt.Errorf("dump line %d: %q", n+1, l)
			}
			name, f = f[0], f[1:]
		}
		switch len(f) {
		case 4:
			if !all && len(out) > 0 {
				return nil, fmt.Errorf("dump line %d: a second interface line", n+1)
			}
			out = append(out, dumpInterface{name: name, fields: f})
		case 8:
			if len(out) == 0 || out[len(out)-1].name != name {
				return nil, fmt.Errorf("dump line %d: a peer before its interface", n+1)
			}
			out[len(out)-1].peers = append(out[len(out)-1].peers, f)
		default:
			return nil, fmt.Errorf("dump line %d has %d fields: %q", n+1, len(f), l)
		}
	}
	return out, nil
}

// agreeKey checks a key against dump's text for it.
func agreeKey(what string, got *string, dump string, secret, showKeys bool) error {
	switch {
	case dump == "(none)":
		if got != nil {
			return fmt.Errorf("%s is %q, dump has (none)", what, *got)
		}
	case got == nil:
		return fmt.Errorf("%s is null, dump has a key", what)
	case secret && !showKeys:
		if *got != "(hidden)" {
			return fmt.Errorf("%s is %q, want (hidden)", what, *got)
		}
	case *got != dump:
		return fmt.Errorf("%s is %q, dump has %q", what, *got, dump)
	}
	return nil
}

// agreeOff checks a number that dump prints as "off" when zero, in base.
func agreeOff(what string, got *uint64, dump string, base int) error {
	if dump == "off" {
		if got != nil {
			return fmt.Errorf("%s is %d, dump has off", what, *got)
		}
		return nil
	}
	text := strings.TrimPrefix(dump, "0x")
	n, err := strconv.ParseUint(text, base, 64)
	if err != nil || got == nil || *got != n {
		return fmt.Errorf("%s is %v, dump has %q", what, deref(got), dump)
	}
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func widen[T uint16 | uint32](p *T) *uint64 {
	if p == nil {
		return nil
	}
	v := uint64(*p)
	return &v
}

func agreeInterface(got *Interface, f []string, showKeys bool) error {
	if err := agreeKey("private_key", got.PrivateKey, f[0], true, showKeys); err != nil {
		return err
	}
	if err := agreeKey("public_key", got.PublicKey, f[1], false, showKeys); err != nil {
		return err
	}
	if strconv.Itoa(got.ListenPort) != f[2] {
		return fmt.Errorf("listen_port is %d, dump has %s", got.ListenPort, f[2])
	}
	return agreeOff("fwmark", widen(got.FwMark), f[3], 16)
}

func agreePeer(p *Peer, f []string, now int64, showKeys bool) error {
	if err := agreeKey("preshared_key", p.PresharedKey, f[1], true, showKeys); err != nil {
		return err
	}
	switch {
	case f[2] == "(none)" && p.Endpoint != nil:
		return fmt.Errorf("endpoint is %q, dump has (none)", *p.Endpoint)
	case f[2] != "(none)" && (p.Endpoint == nil || *p.Endpoint != f[2]):
		return fmt.Errorf("endpoint is %v, dump has %q", deref(p.Endpoint), f[2])
	}
	var ips []string
	if f[3] != "(none)" {
		ips = strings.Split(f[3], ",")
	}
	if p.AllowedIPs == nil {
		return fmt.Errorf("allowed_ips is null, want a list")
	}
	if !slices.Equal(p.AllowedIPs, ips) {
		return fmt.Errorf("allowed_ips are %q, dump has %q", p.AllowedIPs, f[3])
	}
	if f[4] == "0" {
		if p.LatestHandshake != nil || p.LatestHandshakeAge != nil {
			return fmt.Errorf("latest_handshake is %v (age %v), dump has 0", deref(p.LatestHandshake), deref(p.LatestHandshakeAge))
		}
	} else {
		sec, _ := strconv.ParseInt(f[4], 10, 64)
		if p.LatestHandshake == nil || p.LatestHandshakeAge == nil {
			return fmt.Errorf("latest_handshake is null, dump has %s", f[4])
		}
		t, err := time.Parse(time.RFC3339, *p.LatestHandshake)
		if err != nil || t.Unix() != sec || !strings.HasSuffix(*p.LatestHandshake, "Z") {
			return fmt.Errorf("latest_handshake is %q, dump has %s", *p.LatestHandshake, f[4])
		}
		if *p.LatestHandshakeAge != now-sec {
			return fmt.Errorf("latest_handshake_age_seconds is %d, want %d", *p.LatestHandshakeAge, now-sec)
		}
	}
	if strconv.FormatUint(p.TransferRx, 10) != f[5] || strconv.FormatUint(p.TransferTx, 10) != f[6] {
		return fmt.Errorf("transfer is %d/%d, dump has %s/%s", p.TransferRx, p.TransferTx, f[5], f[6])
	}
	return agreeOff("persistent_keepalive_seconds", widen(p.PersistentKeepalive), f[7], 10)
}
