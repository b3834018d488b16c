package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// trappedTools are the programs the reference's wg-quick runs for its
// steps and ours must not: every change goes through netlink (issue 4).
// Programs a user names (bash for hooks, resolvconf for DNS,
// WG_QUICK_USERSPACE_IMPLEMENTATION) and iptables where the kernel has no
// nf_tables are the only ones wg-quick may start; none of those is here.
var trappedTools = []string{
	"ip", "wg", "nft", "wireguard-go", "sysctl", "modprobe",
	"iptables", "ip6tables", "iptables-restore", "ip6tables-restore",
	"iptables-save", "ip6tables-save", "iptables-nft", "iptables-legacy",
}

// TestNoToolProcesses runs up, save, strip and down of a v4, a v6 and a
// full-tunnel configuration (DNS, hooks, routes, fwmark rules, guard
// rules, src_valid_mark, the embedded device) with a directory first in
// PATH holding a trap for each of trappedTools: a trap records that it
// ran and fails. Every command must succeed and no trap may have run.
func TestNoToolProcesses(t *testing.T) {
	for _, c := range killConfigs {
		t.Run(c.name, func(t *testing.T) {
			a := killHost(t, c.conf, c.v6)
			const dir, log = "/run/trap", "/run/trap.log"
			for _, tool := range trappedTools {
				a.WriteFile(filepath.Join(dir, tool), []byte("#!/bin/sh\necho \"$0 $*\" >> "+log+"\nexit 97\n"), 0o755)
			}
			// The trap must work, or the test proves nothing.
			if r := a.RunEnv(trapEnv(t, dir), "ip", "link"); r.Code != 97 || !strings.Contains(a.ReadFile(log), dir+"/ip link") {
				t.Fatalf("the trap for ip did not run (exit %d, log %q)", r.Code, a.ReadFile(log))
			}
			a.WriteFile(log, nil, 0o644)
			before := fullState(t, a, "wg0")
			for _, verb := range []string{"up", "save", "strip", "down"} {
				r := a.RunEnv(trapEnv(t, dir), filepath.Join(binaries(t), "wg-quick"), verb, "wg0")
				if r.Code != 0 {
					t.Errorf("wg-quick %s: exit %d\n%s", verb, r.Code, r.Stderr)
				}
			}
			if ran := a.ReadFile(log); ran != "" {
				t.Errorf("wg-quick started programs it should not have:\n%s", ran)
			}
			diffState(t, "after up and down", before, waitState(t, a, before))
		})
	}
}

// trapEnv is quickEnv with dir first in PATH.
func trapEnv(t *testing.T, dir string) []string {
	env := quickEnv(t)
	for i, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			env[i] = "PATH=" + dir + ":" + p
		}
	}
	return env
}
