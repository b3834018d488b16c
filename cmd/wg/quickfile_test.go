package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// TestQuickFileMessage: setconf, addconf and syncconf given a wg-quick
// file print the reference's message (run here side by side, in a test
// host), with our FILE:LINE prefix, and one more line naming the first
// wg-quick key and `wg-quick strip'. A wg-quick key where wg-quick does
// not read it (in [Peer]) gets no such line.
func TestQuickFileMessage(t *testing.T) {
	testnet.Require(t)
	refBin := referenceBinDir(t)
	h := testnet.NewHost(t, "wgqf")
	for _, c := range []struct {
		name, sub, file string
		line            int    // the line wg refuses
		hint            string // the wg-quick key named
	}{
		{"whole-file", "syncconf", "[Interface]\nPrivateKey = " + aPriv + "\nListenPort = 51820\nAddress = 10.0.0.1/24, fd00::1/64\nDNS = 10.0.0.53\n\n[Peer]\nPublicKey = " + p1 + "\nAllowedIPs = 10.0.0.2/32\n", 4, "Address"},
		{"dns-first", "setconf", "[Interface]\nDNS = 10.0.0.53\nAddress = 10.0.0.1/24\n", 2, "DNS"},
		{"lower-case", "addconf", "[Interface]\nListenPort = 51820\n  saveconfig = true # a comment\n", 3, "SaveConfig"},
		{"hook", "setconf", "[Interface]\nPostUp = iptables -A FORWARD -i %i -j ACCEPT\n", 2, "PostUp"},
		{"in-peer", "setconf", "[Peer]\nPublicKey = " + p1 + "\nAddress = 10.0.0.1/24\n", 3, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.WriteFile("/run/spw/wg0.conf", []byte(c.file), 0o600)
			cmd := "wg " + c.sub + " wg0 wg0.conf"
			ref := wgShell(h, refBin, "", cmd)
			ours := wgShell(h, filepath.Dir(wgBin), "", cmd)
			if ref.Code != 1 || ours.Code != 1 || ours.Stdout != "" || ref.Stdout != "" {
				t.Fatalf("%s: exit %d (reference %d), stdout %q (reference %q)", cmd, ours.Code, ref.Code, ours.Stdout, ref.Stdout)
			}
			want := fmt.Sprintf("wg0.conf:%d: %s", c.line, ref.Stderr)
			if c.hint != "" {
				want += "`" + c.hint + "' is a wg-quick key: use `wg-quick strip' to remove wg-quick's keys\n"
			}
			if ours.Stderr != want {
				t.Errorf("%s:\n--- ours\n%s--- want (the reference's %q, with FILE:LINE and the hint)\n%s", cmd, ours.Stderr, ref.Stderr, want)
			}
		})
	}
}
