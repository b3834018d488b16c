package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// Issue 13 §1: down and save read from the file only what they need, so a
// file that changed after up (an endpoint name that no longer resolves, a
// typo, a Table name without an rt_tables entry) does not block them.
// Each case runs with our wg-quick and with the reference's, each in a
// fresh host, and both must end the same way.

// refQuickBin is the reference's wg-quick (Debian's wireguard-tools).
const refQuickBin = "/usr/bin/wg-quick"

// impl is one wg-quick to run: ours or the reference's, with its
// environment (the stub resolvconf first in PATH for both; for the
// reference, its own wg and wireguard-go from the system's PATH).
type impl struct {
	name string
	bin  string
	env  func(t testing.TB, extra ...string) []string
}

func impls(t *testing.T) []impl {
	ours := impl{name: "ours", bin: "wg-quick", env: quickEnv}
	if _, err := os.Stat(refQuickBin); err != nil {
		t.Skipf("the reference wg-quick (%s) is not installed: %v", refQuickBin, err)
	}
	ref := impl{name: "reference", bin: refQuickBin, env: func(t testing.TB, extra ...string) []string {
		return append([]string{
			"PATH=" + filepath.Join(binaries(t), "stubbin") + ":" + basePath,
			"HOME=/root",
			"SPQ_RESOLVCONF_LOG=/run/resolvconf.log",
			"SPQ_RESOLVCONF_STATE=/run/resolvconf-state",
		}, extra...)
	}}
	return []impl{ours, ref}
}

// run runs the implementation in h, failing the test if it takes longer
// than limit (what a retry loop or a hang would need: the time is a guard
// against hanging, not the measure of the test) and returns its result
// and how long it took.
func (i impl) run(t *testing.T, h *testnet.Host, limit time.Duration, extraEnv []string, args ...string) (testnet.Result, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := h.Command(ctx, i.bin, args...)
	cmd.Env = i.env(t, extraEnv...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	r := testnet.Result{Stdout: o.String(), Stderr: e.String()}
	if ctx.Err() != nil {
		t.Fatalf("%s wg-quick %s did not finish within %v:\n%s", i.name, strings.Join(args, " "), limit, r.Stderr)
	}
	if cmd.ProcessState != nil {
		r.Code = cmd.ProcessState.ExitCode()
	} else if err != nil {
		t.Fatalf("%s wg-quick %s: %v", i.name, strings.Join(args, " "), err)
	}
	return r, took
}

const downKeysConf = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53\n\n" +
	"[Peer]\nPublicKey = {PEERPUB}\nPresharedKey = {PSK}\nAllowedIPs = 10.0.0.2/32, 192.168.1.0/24\nEndpoint = vpn.example.test:51820\n"

// TestDownSaveNeedLittle: up with an endpoint name that resolves, then the
// file or the resolver changes, then save and down.
func TestDownSaveNeedLittle(t *testing.T) {
	testnet.Require(t)
	hosts := "127.0.0.1 localhost\n192.0.2.2 vpn.example.test\n"
	for _, c := range []struct {
		name string
		// edit changes the host after up (the file, /etc/hosts).
		edit func(t *testing.T, h *testnet.Host)
		env  []string
		save bool
	}{
		{name: "endpoint-unresolvable", save: true, edit: func(t *testing.T, h *testnet.Host) {
			h.WriteFile("/run/testnet-files/etc_hosts", []byte("127.0.0.1 localhost\n"), 0o644)
		}},
		{name: "endpoint-unresolvable-retries-infinity", env: []string{"WG_ENDPOINT_RESOLUTION_RETRIES=infinity"}, save: true,
			edit: func(t *testing.T, h *testnet.Host) {
				h.WriteFile("/run/testnet-files/etc_hosts", []byte("127.0.0.1 localhost\n"), 0o644)
			}},
		{name: "typo", save: true, edit: func(t *testing.T, h *testnet.Host) {
			text := strings.Replace(fillKeys(downKeysConf), "ListenPort", "PrivteKey = "+relOtherPriv+"\nListenPort", 1)
			h.WriteFile(confPath, []byte(text), 0o600)
		}},
		{name: "table-name-added", edit: func(t *testing.T, h *testnet.Host) {
			text := strings.Replace(fillKeys(downKeysConf), "ListenPort", "Table = nosuchtable\nListenPort", 1)
			h.WriteFile(confPath, []byte(text), 0o600)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, im := range impls(t) {
				t.Run(im.name, func(t *testing.T) {
					h := testnet.NewHost(t, "wgdk")
					h.BindFile("/etc/nsswitch.conf", []byte("hosts: files\n"))
					h.BindFile("/etc/hosts", []byte(hosts))
					h.WriteFile(confPath, []byte(fillKeys(downKeysConf)), 0o600)
					before := fullState(t, h, "wg0")
					if r, _ := im.run(t, h, time.Minute, c.env, "up", "wg0"); r.Code != 0 {
						t.Fatalf("up: exit %d\n%s", r.Code, r.Stderr)
					}
					c.edit(t, h)
					if c.save {
						r, took := im.run(t, h, 20*time.Second, c.env, "save", "wg0")
						t.Logf("save: exit %d in %v", r.Code, took.Round(time.Millisecond))
						if r.Code != 0 {
							t.Errorf("save: exit %d\n%s", r.Code, r.Stderr)
						}
						// The device's endpoint: the address the name
						// resolved to at up, which the reference writes;
						// ours keeps a file wg can read, and with it the
						// name (conf.MergeSaved), and writes over one
						// with a typo, as the reference.
						want := "Endpoint = 192.0.2.2:51820"
						if im.name == "ours" && c.name != "typo" {
							want = "Endpoint = vpn.example.test:51820"
						}
						saved := h.ReadFile(confPath)
						if !strings.Contains(saved, want) || strings.Contains(saved, "PrivteKey") || !strings.Contains(saved, "AllowedIPs = 10.0.0.2/32, 192.168.1.0/24") {
							t.Errorf("save did not write the device's state (%s):\n%s", want, strings.ReplaceAll(saved, relPriv, "(priv)"))
						}
						if im.name == "ours" && strings.Contains(r.Stderr, "writing the interface's state over the file") != (c.name == "typo") {
							t.Errorf("save's output:\n%s", r.Stderr)
						}
					}
					r, took := im.run(t, h, 20*time.Second, c.env, "down", "wg0")
					t.Logf("down: exit %d in %v (shared machine)", r.Code, took.Round(time.Millisecond))
					if r.Code != 0 || strings.Contains(r.Stderr, "Trying again") {
						t.Errorf("down: exit %d\n%s", r.Code, r.Stderr)
					}
					if k := leaked(r.Stdout+r.Stderr, secretForms(relPriv, relPSK, relOtherPriv)); k != "" {
						t.Errorf("down printed a key")
					}
					if got := waitState(t, h, before); got != before {
						t.Errorf("down left the host changed:\n%s", difftest.Lines(before, got))
					}
				})
			}
		})
	}
}

// TestTableNameUnknown: a Table name without an rt_tables entry brings up
// a file that needs no route in it (and down takes it away), and fails a
// file that does, leaving the host as it was: as the reference.
func TestTableNameUnknown(t *testing.T) {
	testnet.Require(t)
	noRoutes := "[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.1/24\nTable = nosuchtable\n"
	withRoutes := noRoutes + "\n[Peer]\nPublicKey = {PEERPUB}\nAllowedIPs = 10.0.0.2/32\n"
	for _, c := range []struct {
		name, conf string
		up         bool
	}{{"no-route", noRoutes, true}, {"route", withRoutes, false}} {
		t.Run(c.name, func(t *testing.T) {
			for _, im := range impls(t) {
				t.Run(im.name, func(t *testing.T) {
					h := testnet.NewHost(t, "wgtn")
					h.WriteFile(confPath, []byte(fillKeys(c.conf)), 0o600)
					before := fullState(t, h, "wg0")
					r, _ := im.run(t, h, time.Minute, nil, "up", "wg0")
					if (r.Code == 0) != c.up {
						t.Fatalf("up: exit %d\n%s", r.Code, r.Stderr)
					}
					t.Logf("up: exit %d\n%s", r.Code, r.Stderr)
					if c.up {
						if out := h.MustRun("ip", "-br", "address", "show", "wg0"); !strings.Contains(out, "10.0.0.1/24") {
							t.Errorf("wg0 is not up: %s", out)
						}
						if r, _ := im.run(t, h, time.Minute, nil, "down", "wg0"); r.Code != 0 {
							t.Errorf("down: exit %d\n%s", r.Code, r.Stderr)
						}
					}
					if got := waitState(t, h, before); got != before {
						t.Errorf("the host changed:\n%s", difftest.Lines(before, got))
					}
				})
			}
		})
	}
}
