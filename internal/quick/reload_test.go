package quick

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/difftest"
)

// reloadConf is a configuration of the reload tests: {EXTRA} goes into
// [Interface], {ALLOWED} is B's allowed IPs, {PEERS} more peers.
func reloadConf(extra, allowed, peers string) string {
	return "[Interface]\nAddress = 10.0.0.1/24\nPrivateKey = " + keyAPriv + "\nListenPort = 51820\n" + extra +
		"\n[Peer]\nPublicKey = " + keyBPub + "\nAllowedIPs = " + allowed + "\nEndpoint = 192.0.2.2:51820\n" + peers
}

// deviceState is the fake's devices as wg showconf shows them.
func (f *fakeHost) deviceState() string {
	var b strings.Builder
	for _, l := range f.links {
		if d := f.devices[l.Name]; d != nil {
			fmt.Fprintf(&b, "### %s\n%s", l.Name, conf.ConfigOf(d).Format())
		}
	}
	return b.String()
}

// TestReloadFake (issue 14): from each file's up, reload to each other
// file: the dry run's plan is the reload's trace; the reload leaves the
// machine as a fresh up of the new file does; a second reload prints
// nothing and succeeds. On a host with resolvconf, one with
// systemd-resolved (DNS as the link's settings, read back from it), and
// one with IPv6 off (the IPv6 parts skipped).
func TestReloadFake(t *testing.T) {
	hosts := []struct {
		name  string
		setup func(f *fakeHost)
	}{{"resolvconf", nil}, {"resolved", resolvedShim}, {"ipv6-off", ipv6Off}}
	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) { reloadMatrix(t, h.setup) })
	}
}

func reloadMatrix(t *testing.T, setup func(f *fakeHost)) {
	newHost := func() *fakeHost {
		f := newFakeHost()
		if setup != nil {
			setup(f)
		}
		return f
	}
	third := "\n[Peer]\nPublicKey = " + keyCPub + "\nAllowedIPs = 10.0.0.3/32, 10.9.0.0/16\n"
	files := map[string]string{
		"base":        reloadConf("DNS = 10.0.0.53\n", "10.0.0.2/32, 192.168.1.0/24", ""),
		"peer-added":  reloadConf("DNS = 10.0.0.53\n", "10.0.0.2/32, 192.168.1.0/24", third),
		"address":     reloadConf("Address = 10.1.0.1/24, fd00::1/64\nDNS = 10.0.0.53\n", "10.0.0.2/32, 192.168.1.0/24", ""),
		"route":       reloadConf("DNS = 10.0.0.53\n", "10.0.0.2/32, 192.168.2.0/24, 172.16.0.0/12", ""),
		"dns":         reloadConf("DNS = 10.0.0.54, 10.0.0.55, example.test\n", "10.0.0.2/32, 192.168.1.0/24", ""),
		"full-dns":    reloadConf("DNS = 10.0.0.54, example.test\n", "0.0.0.0/0, ::/0", ""),
		"no-dns":      reloadConf("", "10.0.0.2/32, 192.168.1.0/24", ""),
		"full":        reloadConf("DNS = 10.0.0.53\n", "0.0.0.0/0, ::/0", ""),
		"full4":       reloadConf("DNS = 10.0.0.53\n", "0.0.0.0/0", ""),
		"table":       reloadConf("Table = 1234\n", "10.0.0.2/32, 192.168.1.0/24", ""),
		"table-off":   reloadConf("Table = off\n", "10.0.0.2/32, 192.168.1.0/24", ""),
		"mtu-port":    strings.Replace(reloadConf("MTU = 1380\n", "10.0.0.2/32, 192.168.1.0/24", ""), "51820", "51821", 1),
		"fwmark":      reloadConf("FwMark = 0x99\n", "10.0.0.2/32, 192.168.1.0/24", ""),
		"full-fwmark": reloadConf("FwMark = 0x99\n", "0.0.0.0/0", ""),
	}
	names := []string{"base", "peer-added", "address", "route", "dns", "full-dns", "no-dns", "full", "full4", "table", "table-off", "mtu-port", "fwmark", "full-fwmark"}
	for _, from := range names {
		for _, to := range names {
			if from == to && from != "base" {
				continue
			}
			t.Run(from+"-to-"+to, func(t *testing.T) {
				// What a fresh up of the new file leaves.
				fresh := newHost()
				if code := Up(context.Background(), fresh.sys(), loadText(t, files[to])); code != 0 {
					t.Fatalf("fresh up: %d\n%s", code, fresh.stderr.String())
				}
				f := newHost()
				if code := Up(context.Background(), f.sys(), loadText(t, files[from])); code != 0 {
					t.Fatalf("up: %d\n%s", code, f.stderr.String())
				}
				l := loadText(t, files[to])
				before := f.state() + f.deviceState()
				f.stdout.Reset()
				if code := DryRun(context.Background(), f.sys(), l, "reload", DryRunOptions{}); code != 0 {
					t.Fatalf("reload --dry-run: %d\n%s", code, f.stderr.String())
				}
				plan := traceLines(f.stdout.String())
				if after := f.state() + f.deviceState(); after != before {
					t.Fatalf("the dry run changed the machine:\n%s", difftest.Lines(before, after))
				}
				f.stderr.Reset()
				if code := Reload(context.Background(), f.sys(), l, false); code != 0 {
					t.Fatalf("reload: %d\n%s", code, f.stderr.String())
				}
				trace := traceLines(f.stderr.String())
				if strings.Join(plan, "\n") != strings.Join(trace, "\n") {
					t.Errorf("plan and trace differ:\n%s\nplan:\n%s\ntrace:\n%s", difftest.Lines(strings.Join(plan, "\n"), strings.Join(trace, "\n")), strings.Join(plan, "\n"), strings.Join(trace, "\n"))
				}
				if got, want := f.state()+f.deviceState(), fresh.state()+fresh.deviceState(); got != want {
					t.Errorf("after the reload (- fresh up, + reload):\n%s\ntrace:\n%s", difftest.Lines(want, got), strings.Join(trace, "\n"))
				}
				f.stderr.Reset()
				if code := Reload(context.Background(), f.sys(), l, false); code != 0 || f.stderr.Len() != 0 {
					t.Errorf("second reload: exit %d\n%s", code, f.stderr.String())
				}
			})
		}
	}
}

// TestReloadNotUp: reload of an interface that is not up says so and
// changes nothing.
func TestReloadNotUp(t *testing.T) {
	f := newFakeHost()
	before := f.state()
	code := Reload(context.Background(), f.sys(), loadText(t, reloadConf("", "10.0.0.2/32", "")), false)
	if code != 1 || f.stderr.String() != "wg-quick: `wg0' is not up: bring it up with `wg-quick up wg0'\n" {
		t.Errorf("exit %d\n%s", code, f.stderr.String())
	}
	if f.state() != before {
		t.Error("the machine changed")
	}
}

// TestReloadRollback: a reload that fails half-way sets back what it had
// changed: the machine is as before it.
func TestReloadRollback(t *testing.T) {
	f := newFakeHost()
	if code := Up(context.Background(), f.sys(), loadText(t, reloadConf("DNS = 10.0.0.53\n", "10.0.0.2/32, 192.168.1.0/24", ""))); code != 0 {
		t.Fatal(code)
	}
	before := f.state() + f.deviceState()
	f.failOps["ip -4 route add 0.0.0.0/0 dev wg0 table 51820"] = fmt.Errorf("injected")
	f.stderr.Reset()
	code := Reload(context.Background(), f.sys(), loadText(t, reloadConf("Address = fd00::1/64\nDNS = 10.0.0.54\n", "0.0.0.0/0, ::/0", "")), false)
	if code == 0 {
		t.Fatalf("reload succeeded:\n%s", f.stderr.String())
	}
	if after := f.state() + f.deviceState(); after != before {
		t.Errorf("after the failed reload (- before):\n%s\n%s", difftest.Lines(before, after), f.stderr.String())
	}
}
