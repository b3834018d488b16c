package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

// BenchmarkCommands times whole wg processes, ours and Debian's, against a
// wireguard-go device with 5000 peers: `show IF dump`, pretty `show IF`,
// `showconf`, `setconf` and `syncconf` of the same 5000-peer file. The
// device's own work (its UAPI get and set) is part of the wall time, as it
// is for a user; cpu-ms/op is the wg process's own CPU time (user and
// system), which other load on the machine disturbs less. Run as root:
//
//	go test ./cmd/wg -run '^$' -bench Commands -benchtime 20x
func BenchmarkCommands(b *testing.B) {
	if why := testnet.Skip(); why != "" {
		b.Skip("system benchmark: " + why)
	}
	h := testnet.NewHost(b, "wgbench")
	h.StartUserspaceDevice(wireguardGo, "wg0")
	peers := manyPeers(5000)
	h.WriteFile("/run/spw/big.conf", []byte(bigConfig(peers)), 0o600)
	bins := map[string]string{"ours": wgBin}
	if ref := referenceWG(); ref != "" {
		bins["debian"] = ref
	}
	// run runs one command and returns the CPU time the wg process used
	// (less disturbed than wall time when other work shares the machine).
	run := func(b *testing.B, bin string, args ...string) time.Duration {
		cmd := h.Command(context.Background(), bin, args...)
		cmd.Dir = "/"
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		cmd.Env = []string{"PATH=" + basePath}
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s %v: %v", bin, args, err)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	run(b, wgBin, "setconf", "wg0", "/run/spw/big.conf")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"dump", []string{"show", "wg0", "dump"}},
		{"pretty", []string{"show", "wg0"}},
		{"showconf", []string{"showconf", "wg0"}},
		{"setconf", []string{"setconf", "wg0", "/run/spw/big.conf"}},
		{"syncconf", []string{"syncconf", "wg0", "/run/spw/big.conf"}},
	} {
		for _, impl := range []string{"debian", "ours"} {
			bin, ok := bins[impl]
			if !ok {
				continue
			}
			b.Run(c.name+"/"+impl, func(b *testing.B) {
				var cpu time.Duration
				for b.Loop() {
					cpu += run(b, bin, c.args...)
				}
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
