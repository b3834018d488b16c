package doctor

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gowg/wgtools/internal/conf"
)

// rejectAfter is how long a WireGuard session lives (REJECT_AFTER_TIME):
// a peer with traffic shakes hands again every two minutes, so a last
// handshake older than this with packets still being sent means the new
// handshakes fail.
const rejectAfter = 180 * time.Second

// clockSlack is how far in the future a handshake may be before doctor
// calls it a clock problem (the two reads are not at the same instant).
const clockSlack = 5 * time.Second

func checkPeers(s *State) []Finding {
	if !s.ready() {
		return nil
	}
	var out []Finding
	for _, pp := range s.peers() {
		if pp.dev == nil {
			continue // interface-differs names it
		}
		out = append(out, handshake(s, pp)...)
		out = append(out, endpointRoute(s, pp)...)
	}
	return out
}

// sending reports whether this host sent the peer packets during the
// watch, with the evidence.
func sending(s *State, pp peerPair) (bool, string) {
	if pp.after == nil || s.Watch == nil {
		return false, ""
	}
	tx, rx := pp.after.TxBytes-min(pp.after.TxBytes, pp.dev.TxBytes), pp.after.RxBytes-min(pp.after.RxBytes, pp.dev.RxBytes)
	return tx > 0, fmt.Sprintf("during the %s watch: %d bytes sent to the peer, %d received", secs(s.Watch.Seconds), tx, rx)
}

func secs(f float64) string { return fmt.Sprintf("%g s", f) }

func handshake(s *State, pp peerPair) []Finding {
	key := pp.file.PublicKey
	subject := peerSubject(key)
	ep := pp.endpoint()
	hs := pp.dev.LastHandshake
	sent, watchLine := sending(s, pp)
	keepalive := pp.dev.PersistentKeepalive
	myKey := "this host's public key"
	if s.Dev != nil && !s.Dev.PublicKey.IsZero() {
		myKey = s.Dev.PublicKey.String()
	}
	keyOrClock := []Fix{
		{Text: fmt.Sprintf("keys: on the peer, `wg show` must list peer %s (this host), and its own public key must be %s", myKey, key)},
		{Text: "clocks: compare `date -u` on both hosts; a peer refuses a handshake whose timestamp is not newer than the last one it accepted from this host (a clock set back, e.g. after a reboot without a real-time clock)"},
	}
	if hs.IsZero() {
		if !ep.IsValid() {
			if s.File.Interface.ListenPort == nil || *s.File.Interface.ListenPort == 0 {
				return []Finding{{
					Check: "peer-nobody-starts", Severity: Problem, Subject: subject,
					Summary: "no endpoint on either side: this side does not know where the peer is, and listens on a random port the peer cannot know",
					Evidence: []string{"the peer has no Endpoint, and the file has no ListenPort",
						fmt.Sprintf("the interface listens on port %d, chosen at random by `up`", s.Dev.ListenPort)},
					Fix: []Fix{
						{File: s.Path, Section: "Peer " + key.String(), Line: "Endpoint = HOST:PORT", Text: "where HOST:PORT is where the peer listens"},
						{Text: "or give this side a fixed port and the peer an Endpoint for it:"},
						{File: s.Path, Section: "Interface", Line: "ListenPort = 51820"},
					},
				}}
			}
			return []Finding{{
				Check: "peer-no-handshake", Severity: Note, Subject: subject,
				Summary:  fmt.Sprintf("no handshake yet: this side has no endpoint for the peer and waits for it to connect to port %d", s.Dev.ListenPort),
				Evidence: []string{"the peer has no Endpoint here, and has not connected"},
				Fix:      []Fix{{Text: fmt.Sprintf("the peer needs `Endpoint = ADDRESS:%d` with an address of this host it can reach", s.Dev.ListenPort)}},
			}}
		}
		if pp.dev.TxBytes > 0 || sent || keepalive > 0 {
			ev := []string{fmt.Sprintf("no handshake yet with %s; %d bytes sent (handshake initiations), %d received",
				conf.FormatEndpoint(ep), pp.dev.TxBytes, pp.dev.RxBytes)}
			if watchLine != "" {
				ev = append(ev, watchLine)
			}
			fixes := []Fix{{Text: fmt.Sprintf("the peer must listen on %s: on the peer, `wg show` must show that port, and its firewall let UDP to it in", conf.FormatEndpoint(ep))}}
			return []Finding{{
				Check: "peer-no-handshake", Severity: Problem, Subject: subject,
				Summary:  "handshakes are sent to the peer but never answered: it does not listen there, or the keys do not match, or a clock is wrong",
				Evidence: ev,
				Fix:      append(fixes, keyOrClock...),
			}}
		}
		return []Finding{{
			Check: "peer-no-handshake", Severity: Note, Subject: subject,
			Summary:  "no handshake yet: nothing has been sent to the peer (WireGuard shakes hands on the first packet)",
			Evidence: []string{"0 bytes sent, 0 received"},
		}}
	}
	age := s.Now.Sub(hs)
	if age < -clockSlack {
		return []Finding{{
			Check: "handshake-time", Severity: Problem, Subject: subject,
			Summary:  "the latest handshake is in the future: this host's clock was set back",
			Evidence: []string{fmt.Sprintf("latest handshake at %s, %s after now (%s)", hs.UTC().Format(time.RFC3339), ago(-age), s.Now.UTC().Format(time.RFC3339))},
			Fix:      keyOrClock[1:],
		}}
	}
	if age <= rejectAfter {
		return nil
	}
	ev := []string{fmt.Sprintf("latest handshake %s ago (%s); a session lives 180 s", ago(age), hs.UTC().Format(time.RFC3339))}
	switch {
	case sent:
		ev = append(ev, watchLine)
	case keepalive > 0 && s.Watch == nil:
		ev = append(ev, fmt.Sprintf("persistent keepalive every %d s sends packets", keepalive))
	default:
		if watchLine != "" {
			ev = append(ev, watchLine)
		}
		f := Finding{
			Check: "peer-handshake-stale", Severity: Note, Subject: subject,
			Summary:  "no handshake for more than 180 s: the peer is idle",
			Evidence: ev,
		}
		if s.Watch == nil {
			f.Fix = []Fix{{Text: "run doctor with --watch to see whether packets are being sent"}}
		}
		return []Finding{f}
	}
	return []Finding{{
		Check: "handshake-time", Severity: Problem, Subject: subject,
		Summary:  "packets are sent to the peer but the handshake is older than 180 s: new handshakes fail (a clock or a key problem)",
		Evidence: ev,
		Fix:      keyOrClock,
	}}
}

func endpointRoute(s *State, pp peerPair) []Finding {
	ep := pp.endpoint()
	if !ep.IsValid() {
		return nil
	}
	key := pp.file.PublicKey
	q := Query{Dst: ep.Addr().Unmap(), Mark: s.Dev.FwMark}
	l, ok := s.lookup(q)
	if !ok {
		return nil
	}
	ev := []string{fmt.Sprintf("`%s`: %s", q, l.answer())}
	if !l.OK || l.Route.Type == rtnUnreachable || l.Route.Type == rtnBlackhole || l.Route.Type == rtnProhibit {
		return []Finding{{
			Check: "peer-endpoint-no-route", Severity: Problem, Subject: peerSubject(key),
			Summary:  fmt.Sprintf("there is no route to the peer's endpoint %s", conf.FormatAddr(q.Dst)),
			Evidence: ev,
			Fix: []Fix{{Command: fmt.Sprintf("ip %s route add %s via GATEWAY dev DEVICE", famFlag(q.Dst), conf.FormatAddr(q.Dst)),
				Text: "with GATEWAY and DEVICE the next hop towards the peer"}},
		}}
	}
	if l.Route.Dev != s.Iface {
		return nil
	}
	// The tunnel's own packets would go into the tunnel.
	var in netip.Prefix
	for _, p := range allowed(pp.file) {
		if p.Contains(q.Dst) {
			in = p
			break
		}
	}
	f := Finding{
		Check: "peer-endpoint-via-tunnel", Severity: Problem, Subject: peerSubject(key),
		Summary:  fmt.Sprintf("the route to the peer's endpoint %s goes through %s itself: the tunnel's packets loop", conf.FormatAddr(q.Dst), s.Iface),
		Evidence: ev,
	}
	if in.IsValid() {
		f.Check = "allowedips-contain-endpoint"
		f.Summary = fmt.Sprintf("AllowedIPs %s contain the peer's own endpoint %s without a full-tunnel set-up, so the route to the endpoint goes into the tunnel", conf.FormatPrefix(in), conf.FormatAddr(q.Dst))
	}
	if gw, dev, ok := s.defaultVia(q.Dst); ok {
		add := fmt.Sprintf("ip %s route add %s via %s dev %s", famFlag(q.Dst), conf.FormatAddr(q.Dst), conf.FormatAddr(gw), dev)
		del := fmt.Sprintf("ip %s route del %s via %s dev %s", famFlag(q.Dst), conf.FormatAddr(q.Dst), conf.FormatAddr(gw), dev)
		f.Fix = append(f.Fix, Fix{Command: add},
			Fix{File: s.Path, Section: "Interface", Line: "PreUp = " + add},
			Fix{File: s.Path, Section: "Interface", Line: "PostDown = " + del})
	}
	if in.IsValid() && in.Bits() > 0 {
		f.Fix = append(f.Fix, Fix{Text: fmt.Sprintf("or take %s out of the peer's AllowedIPs", conf.FormatAddr(q.Dst))})
	}
	return []Finding{f}
}

// defaultVia is the gateway and device of the main table's default route
// for a's family that does not go through the interface.
func (s *State) defaultVia(a netip.Addr) (netip.Addr, string, bool) {
	for _, r := range s.Routes {
		if r.Table == rtTableMain && r.Dst.Bits() == 0 && r.Dst.Addr().Is4() == a.Is4() && r.Dev != s.Iface && r.Gateway.IsValid() {
			return r.Gateway, r.Dev, true
		}
	}
	return netip.Addr{}, "", false
}
