package main

import (
	"fmt"
	"strings"
	"time"
)

// quickSection: wg-quick up and down of an interface with N peers, each
// with its own /32 and every other one a /128 too (N + N/2 routes), on
// userspace devices: the reference (bash wg-quick) with Debian's
// wireguard-go and with the newest standalone one, and ours with its
// embedded device. After down, the next run waits for the device's daemon
// to be gone (untimed: the reference's down returns before its daemon
// exits, ours waits for it). Issue 8's goals (up 40x faster, down in half
// the time) are for 1000 peers and more; below, the kernel's deletion of
// the TUN interface (about 15 ms here) is most of either down. A full run
// goes to 20,000 peers (issue 17), once each.
func quickSection(s *Section) {
	sizes := []int{10, 100, 1000, 5000, 20000}
	if s.o.Quick {
		sizes = []int{10, 100, 1000}
	}
	h := s.Host(hostPrefix)
	bs := s.backends()
	ups := map[string]map[int]time.Duration{}
	for _, n := range sizes {
		runs := s.o.Runs
		switch {
		case n >= 20000:
			runs = 1 // the reference's up alone takes minutes here
		case n >= 5000:
			runs = min(runs, 3)
		case n >= 1000:
			runs = min(runs, 5)
		}
		if s.o.Quick && n >= 1000 {
			runs = 1
		}
		cfg := config(iface{Private: newPrivate(), Port: 51820, Address: []string{"10.64.0.1/16", "fd64::1/64"}}, genPeers(n, false))
		h.WriteFile("/etc/wireguard/"+ifName+".conf", []byte(cfg), 0o600)
		up := make([][]time.Duration, len(bs))
		down := make([][]time.Duration, len(bs))
		states := make([]string, len(bs))
		logf("   %d peers, %d runs", n, runs)
		interleave(runs, len(bs), func(run, i int) {
			b := bs[i]
			u := s.Time(h, b.quick("up", ifName))
			pid := daemonPID(h, ifName)
			if run == 0 {
				states[i] = routeState(h)
			}
			d := s.Time(h, b.quick("down", ifName))
			s.waitExit(pid)
			up[i] = append(up[i], u.Wall)
			down[i] = append(down[i], d.Wall)
		})
		ours := len(bs) - 1
		for i, b := range bs[:ours] {
			if states[i] != states[ours] {
				s.Note("%d peers: the routes and addresses after up differ between %s and ours:\n%s", n, b.Name, diffLines(states[i], states[ours]))
			}
		}
		for i, b := range bs[:ours] {
			r := Row{Op: "wg-quick up", N: n, Ref: b.Label, RefV: median(up[i]).Seconds(), Ours: median(up[ours]).Seconds(), Unit: Seconds, Runs: runs}
			if n >= 1000 {
				r = r.ratioGoal(1.0/40, true)
			}
			s.Add(r)
			if ups[b.Name] == nil {
				ups[b.Name] = map[int]time.Duration{}
			}
			ups[b.Name][n] = median(up[i])
		}
		if ups["ours"] == nil {
			ups["ours"] = map[int]time.Duration{}
		}
		ups["ours"][n] = median(up[ours])
		for i, b := range bs[:ours] {
			r := Row{Op: "wg-quick down", N: n, Ref: b.Label, RefV: median(down[i]).Seconds(), Ours: median(down[ours]).Seconds(), Unit: Seconds, Runs: runs}
			if n >= 1000 {
				r = r.ratioGoal(0.5, true)
			}
			s.Add(r)
		}
	}
	// How up grows: the cost per peer at each size.
	for _, b := range bs {
		var parts []string
		for _, n := range sizes {
			parts = append(parts, fmt.Sprintf("%d: %s", n, formatValue(ups[b.Name][n].Seconds()/float64(n), Seconds)))
		}
		label := b.Label
		if !b.Ref {
			label = "ours (embedded device)"
		}
		s.Note("wg-quick up per peer (median / N), %s: %s", label, strings.Join(parts, ", "))
	}
}

// routeState is what up leaves that depends on the peers: the
// interface's routes and addresses (for the check that ours and the
// reference did the same).
func routeState(h interface {
	MustRun(string, ...string) string
}) string {
	all := h.MustRun("ip", "-4", "route", "show", "dev", ifName) +
		h.MustRun("ip", "-6", "route", "show", "dev", ifName) +
		h.MustRun("ip", "address", "show", "dev", ifName)
	// Only routes and addresses: the link's own line differs by nature,
	// and the reference's TUN has an IPv6 link-local address (ours has
	// none, as a kernel interface).
	var keep []string
	for l := range strings.SplitSeq(all, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.Contains(t, "fe80:") || strings.Contains(t, "valid_lft") ||
			strings.Contains(t, "link/none") || strings.Contains(t, ifName+":") || strings.HasPrefix(t, "multicast") {
			continue
		}
		keep = append(keep, t)
	}
	return strings.Join(keep, "\n")
}

// diffLines lists (at most 10) lines in one text and not the other.
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for l := range strings.SplitSeq(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] && len(out) < 10 {
			out = append(out, "  - "+l)
		}
	}
	for l := range mb {
		if !ma[l] && len(out) < 20 {
			out = append(out, "  + "+l)
		}
	}
	return strings.Join(out, "\n")
}
