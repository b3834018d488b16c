package main

import (
	"strings"
	"time"
)

// memorySection: the resident memory of a device with one peer (idle,
// interface up) and with 5000 peers, for each backend; memory per peer is
// the difference over 4999. Both are read two seconds after wg-quick up
// returns, the same for every backend (Go returns freed memory to the
// system lazily; our daemon does it half a second after configuration
// settles).
func memorySection(s *Section) {
	h := s.Host(hostPrefix)
	pk := newPrivate()
	in := iface{Private: pk, Port: 51820, Extra: []string{"Table = off", "MTU = 1420"}}
	confs := map[int]string{1: config(in, genPeers(1, false)), 5000: config(in, genPeers(5000, false))}
	bs := s.backends()
	runs := 3
	if s.o.Quick {
		runs = 1
	}
	rss := make([]map[int][]float64, len(bs))
	for i := range rss {
		rss[i] = map[int][]float64{}
	}
	interleave(runs, len(bs), func(_, i int) {
		for _, n := range []int{1, 5000} {
			h.WriteFile("/etc/wireguard/"+ifName+".conf", []byte(confs[n]), 0o600)
			s.Time(h, bs[i].quick("up", ifName))
			time.Sleep(2 * time.Second)
			pid := daemonPID(h, ifName)
			if pid == 0 {
				s.Fatalf("%s: no daemon serves %s", bs[i].Name, ifName)
			}
			rss[i][n] = append(rss[i][n], float64(procKiB(pid, "VmRSS")))
			s.down(h, bs[i])
		}
	})
	last := len(bs) - 1
	perPeer := func(i int) float64 { return (medianF(rss[i][5000]) - medianF(rss[i][1])) / 4999 }
	for i, bk := range bs[:last] {
		r := Row{Op: "device RSS, idle, 1 peer", N: 1, Ref: strings.TrimPrefix(bk.Label, "bash wg-quick + "), RefV: medianF(rss[i][1]), Ours: medianF(rss[last][1]), Unit: KiB, Runs: runs}
		if bk.Name == "newest" {
			r = r.ratioGoal(1, true)
		}
		s.Add(r)
	}
	for i, bk := range bs[:last] {
		r := Row{Op: "device memory per peer", N: 5000, Ref: strings.TrimPrefix(bk.Label, "bash wg-quick + "), RefV: perPeer(i), Ours: perPeer(last), Unit: KiB, Runs: runs}
		if bk.Name == "newest" {
			r = r.ratioGoal(1, true)
		}
		s.Add(r)
	}
}
