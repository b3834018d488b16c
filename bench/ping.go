package main

import (
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

// Tunnel addresses of the two-host sections.
const (
	tunA = "10.200.0.1"
	tunB = "10.200.0.2"
)

// tunnelConfigs are the one-peer configs of hosts a (10.200.0.1, with
// b's endpoint) and b (10.200.0.2, listening on 51820).
func tunnelConfigs(extra ...string) (a, b string) {
	ka, kb := newPrivate(), newPrivate()
	a = config(iface{Private: ka, Address: []string{tunA + "/24"}, Extra: extra},
		[]peer{{Pub: kb.PublicKey(), IPs: prefixes(tunB + "/32"), Endpoint: "192.168.241.2:51820"}})
	b = config(iface{Private: kb, Port: 51820, Address: []string{tunB + "/24"}, Extra: extra},
		[]peer{{Pub: ka.PublicKey(), IPs: prefixes(tunA + "/32")}})
	return a, b
}

// pingSection: `wg-quick up` of a one-peer interface, and the time from
// its start to the first ping answered through the tunnel (the handshake
// included), each backend in turn on host a; host b's end of the tunnel
// stays up all along (our embedded device), so every backend talks to the
// same responder.
func pingSection(s *Section) {
	a, b := s.pair()
	confA, confB := tunnelConfigs()
	a.WriteFile("/etc/wireguard/"+ifName+".conf", []byte(confA), 0o600)
	b.WriteFile("/etc/wireguard/"+ifName+".conf", []byte(confB), 0o600)
	ours := s.ours()
	s.Time(b, ours.quick("up", ifName))
	bs := s.backends()
	runs := s.o.Runs * 2
	up := make([][]time.Duration, len(bs))
	ping := make([][]time.Duration, len(bs))
	interleave(runs, len(bs), func(_, i int) {
		smp := s.Time(a, Cmd{Args: []string{bs[i].WGQuick, "up", ifName}, Env: bs[i].Env, Ping: tunB})
		up[i] = append(up[i], smp.Wall)
		ping[i] = append(ping[i], smp.Ping)
		s.down(a, bs[i])
	})
	last := len(bs) - 1
	for i, bk := range bs[:last] {
		s.Add(Row{Op: "wg-quick up, 1 peer", N: 1, Ref: bk.Label, RefV: median(up[i]).Seconds(), Ours: median(up[last]).Seconds(), Unit: Seconds, Runs: runs})
	}
	for i, bk := range bs[:last] {
		s.Add(Row{Op: "wg-quick up → first ping answered", N: 1, Ref: bk.Label, RefV: median(ping[i]).Seconds(), Ours: median(ping[last]).Seconds(), Unit: Seconds, Runs: runs}.ratioGoal(0.2, true))
	}
}

// down takes ifName in h down with b (untimed) and waits for its daemon
// to be gone.
func (s *Section) down(h *testnet.Host, b backend) {
	pid := daemonPID(h, ifName)
	s.Time(h, b.quick("down", ifName))
	s.waitExit(pid)
}
