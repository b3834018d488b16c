package main

import (
	"encoding/base64"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// bigPeer is one peer of a large test configuration.
type bigPeer struct {
	key, psk, endpoint, keepalive string
	allowed                       []string
}

// bigKeys makes n distinct deterministic keys.
func bigKeys(seed int64, n int) []string {
	r := rand.New(rand.NewSource(seed))
	keys := make([]string, n)
	seen := map[string]bool{}
	for i := range keys {
		for {
			var k [32]byte
			r.Read(k[:])
			s := base64.StdEncoding.EncodeToString(k[:])
			if !seen[s] {
				seen[s], keys[i] = true, s
				break
			}
		}
	}
	return keys
}

// manyPeers is n peers with a mix of everything a peer can have.
func manyPeers(n int) []bigPeer {
	keys := bigKeys(1, n)
	psks := bigKeys(2, n)
	peers := make([]bigPeer, n)
	for i := range peers {
		p := bigPeer{key: keys[i], allowed: []string{fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), fmt.Sprintf("fd00::%x/128", i+1)}}
		if i%3 == 0 {
			p.psk = psks[i]
		}
		if i%5 == 0 {
			p.endpoint = fmt.Sprintf("192.0.2.%d:%d", i%250+1, 1024+i)
		} else if i%5 == 1 {
			p.endpoint = fmt.Sprintf("[2001:db8::%x]:%d", i, 1024+i)
		}
		if i%7 == 0 {
			p.keepalive = fmt.Sprint(1 + i%65535)
		}
		peers[i] = p
	}
	return peers
}

// bigConfig is the configuration file for the peers, in showconf's own
// format, so that showconf must give it back byte for byte.
func bigConfig(peers []bigPeer) string {
	var b strings.Builder
	b.WriteString("[Interface]\nListenPort = 51820\nFwMark = 0x1234\nPrivateKey = " + aPriv + "\n\n")
	for i, p := range peers {
		b.WriteString("[Peer]\nPublicKey = " + p.key + "\n")
		if p.psk != "" {
			b.WriteString("PresharedKey = " + p.psk + "\n")
		}
		if len(p.allowed) > 0 {
			b.WriteString("AllowedIPs = " + strings.Join(p.allowed, ", ") + "\n")
		}
		if p.endpoint != "" {
			b.WriteString("Endpoint = " + p.endpoint + "\n")
		}
		if p.keepalive != "" {
			b.WriteString("PersistentKeepalive = " + p.keepalive + "\n")
		}
		if i+1 < len(peers) {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// bigDump is what `wg show IFACE dump` prints for the peers on a device
// that is down (no handshakes, no traffic).
func bigDump(peers []bigPeer) string {
	var b strings.Builder
	b.WriteString(aPriv + "\t" + aPub + "\t51820\t0x1234\n")
	for _, p := range peers {
		or := func(s, none string) string {
			if s == "" {
				return none
			}
			return s
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t0\t0\t0\t%s\n", p.key, or(p.psk, "(none)"), or(p.endpoint, "(none)"), or(strings.Join(p.allowed, ","), "(none)"), or(p.keepalive, "off"))
	}
	return b.String()
}

// TestLargeConfig sets thousands of peers, and tens of thousands of allowed
// IPs on one peer, on a userspace device and reads them back exactly
// (peer order aside: wireguard-go keeps peers in a Go map).
func TestLargeConfig(t *testing.T) {
	requireLab(t)
	h := testnet.NewHost(t, "wgbig")
	stageFiles(t, h)
	h.StartUserspaceDevice(wireguardGo, "wg0")
	check := func(what, want string) {
		t.Helper()
		got := mustWG(t, h, what)
		if sortPeers(got) != sortPeers(want) {
			gl, wl := strings.Split(sortPeers(got), "\n"), strings.Split(sortPeers(want), "\n")
			i := 0
			for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
				i++
			}
			t.Fatalf("wg %s: %d lines, want %d; first difference at line %d:\n got %.200q\nwant %.200q", what, len(gl), len(wl), i+1, at(gl, i), at(wl, i))
		}
	}

	peers := manyPeers(3000)
	h.WriteFile("/run/spw/many.conf", []byte(bigConfig(peers)), 0o600)
	mustWG(t, h, "setconf wg0 many.conf")
	check("showconf wg0", bigConfig(peers))
	check("show wg0 dump", bigDump(peers))

	// syncconf: every other peer goes, the rest change endpoint and lose
	// their preshared key; one new peer comes.
	var kept []bigPeer
	for i, p := range peers {
		if i%2 == 0 {
			p.psk, p.endpoint = "", fmt.Sprintf("198.51.100.%d:%d", i%250+1, 2000+i)
			kept = append(kept, p)
		}
	}
	kept = append(kept, bigPeer{key: bigKeys(3, 1)[0], allowed: []string{"192.168.0.0/16"}})
	h.WriteFile("/run/spw/kept.conf", []byte(bigConfig(kept)), 0o600)
	mustWG(t, h, "syncconf wg0 kept.conf")
	check("showconf wg0", bigConfig(kept))

	// One peer with 20000 allowed IPs, in a set order (the device keeps
	// insertion order), v4 and v6 mixed.
	one := bigPeer{key: p1, psk: psk, endpoint: "10.99.0.2:51821", keepalive: "25"}
	for i := 0; i < 20000; i++ {
		if i%4 == 3 {
			one.allowed = append(one.allowed, fmt.Sprintf("fd%02x:%x::/64", i%256, i))
		} else {
			one.allowed = append(one.allowed, fmt.Sprintf("10.%d.%d.%d/32", i/65536, (i/256)%256, i%256))
		}
	}
	slices.Reverse(one.allowed[:5000]) // not sorted
	h.WriteFile("/run/spw/one.conf", []byte(bigConfig([]bigPeer{one})), 0o600)
	mustWG(t, h, "setconf wg0 one.conf")
	check("showconf wg0", bigConfig([]bigPeer{one}))
	check("show wg0 dump", bigDump([]bigPeer{one}))
	check("show wg0 allowed-ips", p1+"\t"+strings.Join(one.allowed, " ")+"\n")

	// The reference reads the same state the same way (skipped, and so
	// seen, where it is not installed).
	t.Run("reference", func(t *testing.T) {
		ref := wgShell(h, referenceBinDir(t), "", "wg showconf wg0")
		if ref.Code != 0 || ref.Stdout != mustWG(t, h, "showconf wg0") {
			t.Errorf("Debian's wg showconf differs from ours (rc %d)", ref.Code)
		}
	})
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}
