package conf

import (
	"net/netip"
	"time"
)

// Config is what a configuration file or a `wg set` command line asks of a
// device. Pointer fields are nil when the source did not set them; a set
// field is applied, an unset one is left as the device has it (unless the
// caller asks for setconf's "replace everything" semantics).
type Config struct {
	Interface Interface
	Peers     []Peer
	// ReplacePeers removes every peer the device has before Peers are
	// applied (setconf). It is not a file key: the command sets it.
	ReplacePeers bool
}

// Interface holds the [Interface] section.
type Interface struct {
	// PrivateKey is the device's private key, if not nil. A non-nil zero key
	// removes the private key (wg reads /dev/null as "no key").
	PrivateKey *Key
	// ListenPort is the UDP port, if not nil; 0 asks for a random port.
	ListenPort *uint16
	// FwMark is the firewall mark of outgoing packets, if not nil; 0 is off.
	FwMark *uint32

	// The keys below are wg-quick's additions; only ParseQuick fills them.

	// Addresses are the Address entries, in file order.
	Addresses []Address
	// DNS are the DNS entries that are nameservers, in file order.
	DNS []netip.Addr
	// DNSSearch are the DNS entries that are search domains, in file order.
	DNSSearch []string
	// MTU is the link MTU, if not nil; nil means computed automatically.
	MTU *int
	// Table is the Table value as written ("" when unset): auto, off, a
	// number, or a name from rt_tables.
	Table string
	// TableID is the numeric table for a Table given as a number or a name;
	// zero for "", auto and off.
	TableID uint32
	// Hooks, verbatim (a '#' inside a hook is kept, as upstream wg-quick does).
	PreUp, PostUp, PreDown, PostDown []string
	// SaveConfig is true when the file says SaveConfig = true.
	SaveConfig bool
	// HasSaveConfig is true when the file has a SaveConfig line.
	HasSaveConfig bool
}

// Address is one wg-quick Address entry.
type Address struct {
	// Raw is the entry as written, which is what `ip address add` is given.
	Raw string
	// Prefix is the address with its prefix length (/32 or /128 when the
	// entry has none). Host bits are kept: 10.0.0.1/24 is address 10.0.0.1
	// on a /24.
	Prefix netip.Prefix
}

// Is6 reports whether the address is IPv6.
func (a Address) Is6() bool { return a.Prefix.Addr().Is6() }

// Peer holds one [Peer] section or one `peer` clause of `wg set`.
type Peer struct {
	PublicKey Key
	// Remove asks for the peer to be removed; everything else is ignored.
	Remove bool
	// UpdateOnly asks for the peer to be changed only if it exists (used by
	// syncconf-style callers; wg's own tools never set it).
	UpdateOnly bool
	// PresharedKey is the preshared key, if not nil; a zero key removes it.
	PresharedKey *Key
	// Endpoint is the peer's resolved address, if not nil.
	Endpoint *netip.AddrPort
	// PersistentKeepalive is the keepalive interval in seconds, if not nil;
	// 0 is off.
	PersistentKeepalive *uint16
	// ReplaceAllowedIPs replaces the peer's allowed IPs with AllowedIPs
	// instead of adding to them.
	ReplaceAllowedIPs bool
	// AllowedIPs in the order given; duplicates are kept (the device merges
	// them).
	AllowedIPs []AllowedIP

	// line is where the peer's section starts (0 for command lines).
	line int
	// hasPublicKey records whether PublicKey was given.
	hasPublicKey bool
}

// AllowedIP is one allowed-IP entry.
type AllowedIP struct {
	// Prefix as written: host bits are kept (the device masks them).
	Prefix netip.Prefix
	// Remove is set for an entry written with a leading '-' (upstream's
	// incremental form): the prefix is removed from the peer.
	Remove bool
}

// Device is what a device reports about itself: the live state that
// `wg show` prints.
type Device struct {
	Name       string
	PrivateKey Key // zero when the device has none
	PublicKey  Key // zero when the device has no private key
	ListenPort uint16
	FwMark     uint32
	Peers      []DevicePeer
}

// DevicePeer is one peer of a Device.
type DevicePeer struct {
	PublicKey           Key
	PresharedKey        Key            // zero when none
	Endpoint            netip.AddrPort // invalid (zero) when none
	PersistentKeepalive uint16         // seconds, 0 when off
	LastHandshake       time.Time      // zero when never
	RxBytes, TxBytes    uint64
	AllowedIPs          []netip.Prefix
	ProtocolVersion     int
}

// ConfigOf turns live device state into the Config that `wg showconf`
// prints: private key, port and fwmark only where set, and for each peer the
// keys, endpoint, keepalive and allowed IPs.
func ConfigOf(d *Device) *Config {
	c := &Config{}
	if d.ListenPort != 0 {
		p := d.ListenPort
		c.Interface.ListenPort = &p
	}
	if d.FwMark != 0 {
		m := d.FwMark
		c.Interface.FwMark = &m
	}
	if !d.PrivateKey.IsZero() {
		k := d.PrivateKey
		c.Interface.PrivateKey = &k
	}
	c.Peers = make([]Peer, 0, len(d.Peers))
	for i := range d.Peers {
		dp := &d.Peers[i]
		p := Peer{PublicKey: dp.PublicKey, hasPublicKey: true, ReplaceAllowedIPs: true}
		if !dp.PresharedKey.IsZero() {
			k := dp.PresharedKey
			p.PresharedKey = &k
		}
		if dp.Endpoint.IsValid() {
			e := dp.Endpoint
			p.Endpoint = &e
		}
		if dp.PersistentKeepalive != 0 {
			ka := dp.PersistentKeepalive
			p.PersistentKeepalive = &ka
		}
		p.AllowedIPs = make([]AllowedIP, len(dp.AllowedIPs))
		for j, a := range dp.AllowedIPs {
			p.AllowedIPs[j] = AllowedIP{Prefix: a}
		}
		c.Peers = append(c.Peers, p)
	}
	return c
}

// Wipe overwrites the secrets the configuration holds (the private key and
// the peers' preshared keys) with zeros, once they have been used.
func (c *Config) Wipe() {
	if c == nil {
		return
	}
	if c.Interface.PrivateKey != nil {
		c.Interface.PrivateKey.Wipe()
	}
	for i := range c.Peers {
		if c.Peers[i].PresharedKey != nil {
			c.Peers[i].PresharedKey.Wipe()
		}
	}
}

// Wipe overwrites the device's private key and the peers' preshared keys
// with zeros, once they have been shown.
func (d *Device) Wipe() {
	if d == nil {
		return
	}
	d.PrivateKey.Wipe()
	for i := range d.Peers {
		d.Peers[i].PresharedKey.Wipe()
	}
}
