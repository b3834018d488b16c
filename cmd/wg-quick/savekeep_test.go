package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// saveCases are conf's golden cases of the save that keeps the file.
const saveCases = "../../internal/conf/testdata/save"

// TestSaveKeepsTheFile (issue 16): for each case of
// internal/conf/testdata/save, a device is brought up from file.conf by our
// wg-quick and changed as the case's `change` says (wg set); then the
// reference's save (of a copy) and ours run on the same device. Ours must
// write want.conf, the reference must have written saved.conf (the input
// of conf's golden test), and the two files must configure the same: the
// reference's `wg-quick strip` of each, loaded by the reference's `wg
// setconf` into a device of its own, shows the same `wg showconf`, and
// wg-quick's own keys agree (but the DNS search domains, which the
// reference loses). -update rewrites saved.conf and want.conf once all of
// that holds.
func TestSaveKeepsTheFile(t *testing.T) {
	testnet.Require(t)
	for _, p := range []string{"/usr/bin/wg-quick", "/usr/bin/wg", "/usr/bin/wireguard-go"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("needs the reference (%s: Debian packages wireguard-tools, wireguard-go)", p)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(saveCases, "*"))
	if len(dirs) == 0 {
		t.Fatal("no cases in " + saveCases)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			read := func(name string) string {
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return string(data)
			}
			file, change := read("file.conf"), read("change")
			h := testnet.NewHost(t, "wgsave")
			h.BindFile("/etc/hosts", []byte("127.0.0.1 localhost\n192.0.2.10 gateway.example\n"))
			h.WriteFile("/etc/wireguard/wg0.conf", []byte(file), 0o600)
			mustQuick(t, h, "up", "wg0")
			t.Cleanup(func() { h.RunEnv(quickEnv(t), filepath.Join(binaries(t), "wg-quick"), "down", "wg0") })
			if strings.TrimSpace(change) != "" {
				h.MustRun("sh", "-c", "PATH="+binaries(t)+":$PATH; "+change)
			}
			h.WriteFile("/run/ref/wg0.conf", []byte(file), 0o600)
			if r := h.RunEnv(quickEnv(t), "/usr/bin/wg-quick", "save", "/run/ref/wg0.conf"); r.Code != 0 {
				t.Fatalf("the reference's save: exit %d\n%s", r.Code, r.Stderr)
			}
			mustQuick(t, h, "save", "wg0")
			ref, ours := h.ReadFile("/run/ref/wg0.conf"), h.ReadFile("/etc/wireguard/wg0.conf")

			// The same configuration, as the reference reads it: each file
			// loaded into a device of a host of its own (the port is taken
			// here).
			showconf := func(text string) string {
				s := testnet.NewHost(t, "wgsave-s")
				s.BindFile("/etc/hosts", []byte("127.0.0.1 localhost\n192.0.2.10 gateway.example\n"))
				s.WriteFile("/run/x/wg0.conf", []byte(text), 0o600)
				s.StartUserspaceDevice("/usr/bin/wireguard-go", "wg0")
				r := s.Run("bash", "-c", "wg setconf wg0 <(wg-quick strip /run/x/wg0.conf) && wg showconf wg0")
				if r.Code != 0 {
					t.Fatalf("the reference cannot load:\n%s\n%s", text, r.Stderr)
				}
				// wireguard-go lists peers in no fixed order.
				head, rest, _ := strings.Cut(r.Stdout, "\n[Peer]\n")
				peers := strings.Split(strings.TrimSpace(rest), "\n\n[Peer]\n")
				slices.Sort(peers)
				return head + "\n[Peer]\n" + strings.Join(peers, "\n\n[Peer]\n")
			}
			refShow, ourShow := showconf(ref), showconf(ours)
			if refShow != ourShow {
				t.Errorf("the reference reads our file (+) otherwise than its own (-):\n%s", difftest.Lines(refShow, ourShow))
			}
			quickKeys := func(text string) string {
				f, err := conf.ParseQuick("wg0.conf", []byte(text), &conf.Options{Resolver: conf.ResolverFunc(func(string) (netip.Addr, error) {
					return netip.MustParseAddr("192.0.2.10"), nil
				})})
				if err != nil {
					t.Fatalf("%v\n%s", err, text)
				}
				i := &f.Config.Interface
				i.DNSSearch = nil
				// Debian's wg-quick cuts hooks at '#' (upstream keeps it
				// since 90deacd, and so do we).
				for _, hooks := range []*[]string{&i.PreUp, &i.PostUp, &i.PreDown, &i.PostDown} {
					for n, hk := range *hooks {
						hk, _, _ = strings.Cut(hk, "#")
						(*hooks)[n] = strings.TrimSpace(hk)
					}
				}
				f.Config.Peers = nil
				return conf.Canonical(&f.Config)
			}
			if a, b := quickKeys(ref), quickKeys(ours); a != b {
				t.Errorf("wg-quick's keys differ (- reference, + ours):\n%s", difftest.Lines(a, b))
			}
			if *update {
				os.WriteFile(filepath.Join(dir, "saved.conf"), []byte(ref), 0o644)
				os.WriteFile(filepath.Join(dir, "want.conf"), []byte(ours), 0o644)
				return
			}
			if want := read("saved.conf"); ref != want {
				t.Errorf("the reference's save differs from saved.conf (-want +got):\n%s", difftest.Lines(want, ref))
			}
			if want := read("want.conf"); ours != want {
				t.Errorf("our save differs from want.conf (-want +got):\n%s", difftest.Lines(want, ours))
			}
		})
	}
}
