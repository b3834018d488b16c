package quick

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/difftest"
)

// loadAs parses text as the verb's reading does (cmd/wg-quick): down
// leniently and save with wg-quick's keys only; a resolver that fails the
// test if a name is looked up.
func loadAs(t *testing.T, verb, text string) (*Loaded, []string) {
	t.Helper()
	var warnings []string
	opts := &conf.Options{
		StripOnly: verb != "up", Lenient: verb == "down",
		Warn: func(s string) { warnings = append(warnings, s) },
		Resolver: conf.ResolverFunc(func(h string) (netip.Addr, error) {
			t.Errorf("%s resolved %s", verb, h)
			return netip.Addr{}, &conf.ResolveError{Msg: "Name or service not known", Permanent: true}
		}),
		Tables: func(n string) (uint32, bool) { return 0, false },
	}
	path := "/etc/wireguard/wg0.conf"
	f, err := conf.ParseQuick(path, []byte(text), opts)
	if err != nil {
		t.Fatalf("%s: parsing: %v", verb, err)
	}
	l := &Loaded{Interface: "wg0", Path: path, File: f}
	if opts.StripOnly {
		loose := f.Loose()
		l.Loose = &loose
	}
	return l, warnings
}

// TestDownSaveReadOnlyTheirKeys (issue 13 §1): after up, the file gains a
// typo, an unresolvable endpoint name, an unknown Table name or a bad
// SaveConfig; save still writes what the device holds, and down still
// takes everything away (hooks run, keys hidden in their trace), with a
// warning naming the line it could not use.
func TestDownSaveReadOnlyTheirKeys(t *testing.T) {
	full := fullTunnelConf("DNS = 10.0.0.53\nPostDown = echo "+keyAPriv+"\n", "0.0.0.0/0, ::/0")
	// A Table edited from auto to a name after a full-tunnel up would
	// leave its rules, as the reference's down does (a Table that is not
	// auto has no rules to delete): that case is a split tunnel.
	split := fullTunnelConf("DNS = 10.0.0.53\nPostDown = echo "+keyAPriv+"\n", "10.0.0.0/24")
	for _, c := range []struct {
		name, edit string
		warn       string
	}{
		{name: "typo", edit: "PrivteKey = x\n"},
		{name: "endpoint-name", edit: "[Peer]\nPublicKey = " + keyCPub + "\nEndpoint = vpn.example.test:51820\n"},
		{name: "table-name", edit: "Table = nosuchtable\n"},
		{name: "saveconfig", edit: "SaveConfig = maybe\n", warn: "/etc/wireguard/wg0.conf:4: `maybe' is neither true nor false; read as false"},
		{name: "table-number", edit: "Table = 0x\n", warn: "/etc/wireguard/wg0.conf:4: Table is not a number from 0 to 4294967295: `0x'; read as auto"},
	} {
		t.Run(c.name, func(t *testing.T) {
			good := full
			if c.name == "table-name" {
				good = split
			}
			f := newFakeHost()
			before := f.state()
			if _, code := runVerb(t, f, loadText(t, good), "up"); code != 0 {
				t.Fatalf("up: exit %d\n%s", code, f.stderr.String())
			}
			// The edit goes after [Interface]'s third line, or at the end
			// for a [Peer].
			lines := strings.SplitAfter(good, "\n")
			edited := strings.Join(lines[:3], "") + c.edit + strings.Join(lines[3:], "")
			if strings.HasPrefix(c.edit, "[Peer]") {
				edited = good + "\n" + c.edit
			}

			if c.name != "saveconfig" && c.name != "table-number" {
				ls, _ := loadAs(t, "save", edited)
				f.files["/etc/wireguard/wg0.conf"] = "# comment kept\n" + edited
				out, code := runVerb(t, f, ls, "save")
				if code != 0 {
					t.Errorf("save: exit %d\n%s", code, out)
				}
				saved := f.files["/etc/wireguard/wg0.conf"]
				if !strings.Contains(saved, "PublicKey = "+keyBPub) || strings.Contains(saved, keyCPub) || strings.Contains(saved, "PrivteKey") {
					t.Errorf("save did not write the device's state:\n%s", saved)
				}
				// A file wg cannot read is written over (the reference's
				// save), and said so; another is merged, its comments kept.
				warned := strings.Contains(out, "[!] /etc/wireguard/wg0.conf:5: ") && strings.Contains(out, ": writing the interface's state over the file\n")
				if warned != (c.name == "typo") {
					t.Errorf("save's output:\n%s", out)
				}
				if c.name != "typo" && !strings.Contains(saved, "# comment kept\n") {
					t.Errorf("save did not keep the file:\n%s", saved)
				}
			}
			l, warnings := loadAs(t, "down", edited)
			out, code := runVerb(t, f, l, "down")
			if code != 0 {
				t.Errorf("down: exit %d\n%s", code, out)
			}
			if strings.Join(warnings, "\n") != c.warn {
				t.Errorf("warnings %q, want %q", warnings, c.warn)
			}
			if trace := f.stderr.String(); !strings.Contains(trace, "[#] echo (hidden)\n") || strings.Contains(trace, keyAPriv) {
				t.Errorf("down's hook trace:\n%s", out)
			}
			if after := f.state(); after != before {
				t.Errorf("down left:\n%s", difftest.Lines(before, after))
			}
		})
	}
}

// TestUpTableName (issue 13 §1): a Table name rt_tables does not know
// fails up before any change when the file's allowed IPs need routes in
// it; without allowed IPs the file comes up, as the reference's does, and
// a PreUp that adds allowed IPs meets the failure of the first route.
func TestUpTableName(t *testing.T) {
	withPeer := withIface("Table = nosuchtable\n")
	noPeer := "[Interface]\nAddress = 10.0.0.1/24\nPrivateKey = " + keyAPriv + "\nTable = nosuchtable\n"
	hookPeer := noPeer + "PreUp = wg set %i peer " + keyBPub + " allowed-ips 10.0.0.2/32\n"
	for _, c := range []struct {
		name, conf, want string
		code             int
	}{
		{"allowed-ips", withPeer, "wg-quick: /etc/wireguard/wg0.conf:4: Table is neither auto, off, a number nor a name from rt_tables: `nosuchtable'\n", 1},
		{"allowed-ips-from-preup", hookPeer, "[#] ip link add dev wg0 type wireguard\n[#] wg set wg0 peer " + keyBPub + " allowed-ips 10.0.0.2/32\n[#] wg addconf wg0 /dev/fd/63\n[#] ip -4 address add 10.0.0.1/24 dev wg0\n[#] ip link set mtu 1420 up dev wg0\n" +
			"[#] ip -4 route add 10.0.0.2/32 dev wg0 table nosuchtable\nError: argument \"nosuchtable\" is wrong: \"table\" value is invalid\n[#] ip link delete dev wg0\n", 255},
		{"no-peers", noPeer, "[#] ip link add dev wg0 type wireguard\n[#] wg addconf wg0 /dev/fd/63\n[#] ip -4 address add 10.0.0.1/24 dev wg0\n[#] ip link set mtu 1420 up dev wg0\n", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeHost()
			f.kmod = true
			before := f.state()
			l, err := conf.ParseQuick("/etc/wireguard/wg0.conf", []byte(c.conf), &conf.Options{Tables: func(string) (uint32, bool) { return 0, false }})
			if err != nil {
				t.Fatal(err)
			}
			_, code := runVerb(t, f, &Loaded{Interface: "wg0", Path: "/etc/wireguard/wg0.conf", File: l}, "up")
			if got := f.stderr.String(); got != c.want {
				t.Errorf("up:\n%s\nwant:\n%s", got, c.want)
			}
			if code != c.code {
				t.Errorf("up: exit %d, want %d", code, c.code)
			}
			if c.code != 0 {
				if after := f.state(); after != before {
					t.Errorf("up changed the host:\n%s", difftest.Lines(before, after))
				}
			}
		})
	}
}
