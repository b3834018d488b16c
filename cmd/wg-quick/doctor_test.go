package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/jsontest"
	"github.com/gowg/wgtools/internal/testnet"
)

// doctorRun runs our `wg-quick doctor ARGS...` in h.
func doctorRun(t *testing.T, h *testnet.Host, args ...string) testnet.Result {
	t.Helper()
	return wgQuick(t, h, append([]string{"doctor"}, args...)...)
}

// startPings sends an echo request a second from h to dst, in the
// background, for 20 seconds at most (stopped at the end of the test).
func startPings(t *testing.T, h *testnet.Host, dst string) {
	t.Helper()
	self, _ := os.Executable()
	h.StartEnv([]string{"WGTEST_HELLO=pings", "PATH=" + basePath}, self, dst)
}

// fixCommands are the commands of doctor's text output (its "run:" lines).
func fixCommands(out string) []string {
	var cmds []string
	for _, line := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(line, "  run:  "); ok {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// mustHold checks that text holds each of wants.
func mustHold(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		mustContain(t, what, text, w)
	}
}

// TestDoctorSeed2 is the seed's second scenario: peer1 reaches a LAN host
// behind peer2. peer2 is a host whose FORWARD policy drops (as Docker
// leaves it, the seed's second post), with IP forwarding off and no
// masquerade. While peer1 pings the LAN host, doctor on peer2 names IP
// forwarding, the forward rules and the masquerade with the commands; on
// peer1 it finds nothing wrong with peer1's side. After the commands
// doctor printed are run as printed, ping and HTTP reach the LAN host and
// doctor finds nothing on either side.
func TestDoctorSeed2(t *testing.T) {
	testnet.Require(t)
	a, b, lan := seed2Lab(t)
	b.MustRun("iptables", "-P", "FORWARD", "DROP")
	pubB := seed2Tunnel(t, a, b)

	r := doctorRun(t, b, "wg0")
	t.Logf("doctor on peer2 before the fix (exit %d):\n%s", r.Code, r.Stdout)
	if r.Code != 1 {
		t.Fatalf("doctor on peer2: exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	mustHold(t, "doctor on peer2", r.Stdout,
		"[forwarding-off]", "net.ipv4.ip_forward = 0", "to 192.168.1.123 came out of wg0",
		"  run:  sysctl -w net.ipv4.ip_forward=1\n",
		"[forward-chain-drops]", "iptables chain FORWARD: policy drop",
		"  run:  iptables -I FORWARD -i wg0 -o lan0 -j ACCEPT\n",
		"  run:  iptables -I FORWARD -i lan0 -o wg0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
		"[no-way-back]", "  run:  iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o lan0 -j MASQUERADE\n",
		"PostUp = iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o lan0 -j MASQUERADE")
	if strings.Contains(r.Stdout, "[reach-no-answer]") {
		t.Errorf("doctor on peer2 sees its own replies as unanswered:\n%s", r.Stdout)
	}
	ra := doctorRun(t, a, "wg0")
	t.Logf("doctor on peer1 before the fix (exit %d):\n%s", ra.Code, ra.Stdout)
	if ra.Code != 0 || !strings.Contains(ra.Stdout, "wg0: no problem found\n") {
		t.Fatalf("doctor on peer1: exit %d, want 0 and no problem\n%s%s", ra.Code, ra.Stdout, ra.Stderr)
	}
	mustHold(t, "doctor on peer1", ra.Stdout, "[reach-no-answer] 192.168.1.123/32", "peer "+pubB)

	cmds := fixCommands(r.Stdout)
	if len(cmds) != 4 {
		t.Fatalf("doctor printed %d commands, want 4:\n%s", len(cmds), r.Stdout)
	}
	for _, c := range cmds {
		if res := b.Sh(c); res.Code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", c, res.Code, res.Stdout, res.Stderr)
		}
	}
	if !pingUntil(a, "192.168.1.123", 20) {
		t.Fatal("no ping to the LAN host after doctor's fix")
	}
	serveHello(t, lan, "192.168.1.123:9090")
	if got := fetchHello(t, a, "http://192.168.1.123:9090/"); got != "hello, wireguard" {
		t.Fatalf("HTTP to the LAN host after doctor's fix: %q", got)
	}
	for _, h := range []*testnet.Host{b, a} {
		if r := doctorRun(t, h, "wg0"); r.Code != 0 || r.Stdout != "wg0: no problem found\n" {
			t.Errorf("doctor on %s after the fix: exit %d\n%s%s", h.Name, r.Code, r.Stdout, r.Stderr)
		}
	}
}

// doctorCase is one check made to fail on purpose (or not) on host A of
// seed 1's two hosts (A 192.0.2.1, wg0 10.0.0.1; B 192.0.2.2, wg0 10.0.0.2).
type doctorCase struct {
	name string
	// confA is A's configuration with {PRIV}, {PUB} (B's public key) in
	// it; B's is seed 1's.
	confA string
	// noUp leaves A's interface down.
	noUp bool
	// setup runs after both are up (and a ping, when the tunnel works).
	setup func(t *testing.T, a, b *testnet.Host)
	args  []string
	code  int
	want  []string
	// not are what the output must not hold.
	not []string
}

const (
	docA      = "[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.1/24\nListenPort = 51820\n{EXTRA}\n[Peer]\nPublicKey = {PUB}\nAllowedIPs = {ALLOWED}\nEndpoint = {EP}\n"
	docBConf  = "[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.2/24\nListenPort = 51820\n\n[Peer]\nPublicKey = {PUB}\nAllowedIPs = 10.0.0.1/32\nEndpoint = 192.0.2.1:51820\n"
	docOK     = "10.0.0.2/32"
	docEP     = "192.0.2.2:51820"
	otherPeer = "\n[Peer]\nPublicKey = 8C4UH3pbRyzvQQOOh0Nbq4Jb2xo5+ro8AnNFhrsUvXs=\nAllowedIPs = 10.0.0.2/32\n"
)

func docConf(extra, allowed, ep string) string {
	return strings.NewReplacer("{EXTRA}", extra, "{ALLOWED}", allowed, "{EP}", ep).Replace(docA)
}

func TestDoctorChecks(t *testing.T) {
	testnet.Require(t)
	for _, c := range []doctorCase{
		{name: "healthy", confA: docConf("", docOK, docEP), code: 0, want: []string{"wg0: no problem found\n"}},
		{name: "interface-missing", confA: docConf("", docOK, docEP), noUp: true, code: 1,
			want: []string{"[interface-missing]", "  run:  wg-quick up wg0\n"}},
		{name: "interface-missing/json", confA: docConf("", docOK, docEP), noUp: true, code: 1, args: []string{"--json", "--watch", "0"},
			want: []string{`"schema_version": 1`, `"status": "problems"`, `"check": "interface-missing"`, `"command": "wg-quick up wg0"`, `"line": null`}},
		{name: "healthy/json", confA: docConf("", docOK, docEP), code: 0, args: []string{"--json", "--watch", "0"},
			want: []string{`"status": "ok"`, `"exit_code": 0`, `"findings": []`}},
		{name: "mtu-too-large/json", confA: docConf("MTU = 1500\n", docOK, docEP), code: 1, args: []string{"--json", "--watch", "0"},
			want: []string{`"check": "mtu-too-large"`, `"command": "ip link set mtu 1440 up dev wg0"`, `"line": "MTU = 1440"`}},
		{name: "interface-down", confA: docConf("", docOK, docEP), code: 1,
			setup: func(t *testing.T, a, b *testnet.Host) { a.MustRun("ip", "link", "set", "down", "dev", "wg0") },
			want:  []string{"[interface-down]", "  run:  ip link set up dev wg0\n"}},
		{name: "interface-differs", confA: docConf("", docOK, docEP), code: 1,
			setup: func(t *testing.T, a, b *testnet.Host) {
				data := a.ReadFile("/etc/wireguard/wg0.conf")
				edited := strings.Replace(data, "Address = 10.0.0.1/24", "Address = 10.0.0.1/24, 10.0.1.1/24", 1) +
					"\n[Peer]\nPublicKey = 8C4UH3pbRyzvQQOOh0Nbq4Jb2xo5+ro8AnNFhrsUvXs=\nAllowedIPs = 10.0.5.0/24\n"
				a.WriteFile("/etc/wireguard/wg0.conf", []byte(edited), 0o600)
			},
			// The evidence is reload's plan (quick.PlanReload), line for line.
			want: []string{"[interface-differs]", "what `wg-quick reload wg0` would do:",
				"[#] wg set wg0 peer 8C4UH3pbRyzvQQOOh0Nbq4Jb2xo5+ro8AnNFhrsUvXs= allowed-ips 10.0.5.0/24\n",
				"[#] ip -4 address add 10.0.1.1/24 dev wg0\n", "[#] ip -4 route add 10.0.5.0/24 dev wg0\n", "  run:  wg-quick reload wg0\n"}},
		{name: "peer-no-handshake", confA: docConf("", docOK, "192.0.2.2:51999"), code: 1, args: []string{"--watch", "2"},
			setup: func(t *testing.T, a, b *testnet.Host) { startPings(t, a, "10.0.0.2") },
			want:  []string{"[peer-no-handshake]", "handshakes are sent to the peer but never answered", "192.0.2.2:51999"}},
		{name: "peer-nobody-starts", confA: "[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.1/24\n\n[Peer]\nPublicKey = {PUB}\nAllowedIPs = 10.0.0.2/32\n", code: 1,
			want: []string{"[peer-nobody-starts]", "ListenPort = 51820"}},
		{name: "allowedips-contain-endpoint", confA: docConf("", "10.0.0.2/32, 192.0.2.2/32", docEP), code: 1,
			want: []string{"[allowedips-contain-endpoint]", "`ip route get 192.0.2.2`: 192.0.2.2/32 dev wg0", "take 192.0.2.2 out of the peer's AllowedIPs"}},
		{name: "allowedips-overlap", confA: docConf("", docOK, docEP) + otherPeer, code: 1,
			want: []string{"problem [allowedips-overlap] AllowedIPs 10.0.0.2/32"}},
		{name: "allowedips-not-routed/table-off", confA: docConf("Table = off\n", "10.0.0.2/32, 10.9.0.0/16", docEP), code: 1,
			want: []string{"[allowedips-not-routed] AllowedIPs 10.9.0.0/16", "Table = off", "  run:  ip -4 route add 10.9.0.0/16 dev wg0\n", "PostUp = ip -4 route add 10.9.0.0/16 dev %i"}},
		{name: "allowedips-not-routed/more-specific", confA: docConf("", "10.0.0.2/32, 10.9.0.0/16", docEP), code: 1,
			setup: func(t *testing.T, a, b *testnet.Host) {
				a.MustRun("ip", "route", "add", "10.9.0.0/24", "via", "192.0.2.2", "dev", "eth0")
			},
			want: []string{"[allowedips-not-routed] AllowedIPs 10.9.0.0/16", "route: 10.9.0.0/24 via 192.0.2.2 dev eth0"}},
		{name: "lan-not-allowed", confA: docConf("", docOK, docEP), code: 1, args: []string{"--to", "192.168.1.0/24"},
			want: []string{"[lan-not-allowed] 192.168.1.0/24", "AllowedIPs = 10.0.0.2/32, 192.168.1.0/24",
				"  run:  ip -4 route add 192.168.1.0/24 dev wg0\n"}},
		{name: "mtu-too-large", confA: docConf("MTU = 1500\n", docOK, docEP), code: 1,
			want: []string{"[mtu-too-large]", "the MTU of eth0 1500", "  run:  ip link set mtu 1440 up dev wg0\n", "MTU = 1440"}},
		{name: "dns-applied", confA: docConf("DNS = 10.0.0.53\n", docOK, docEP), code: 0, not: []string{"[dns-not-applied]"}},
		{name: "dns-not-applied", confA: docConf("DNS = 10.0.0.53\n", docOK, docEP), code: 1,
			setup: func(t *testing.T, a, b *testnet.Host) { a.MustRun("rm", "/run/resolvconf-state/wg0") },
			want:  []string{"[dns-not-applied]", "  run:  printf 'nameserver 10.0.0.53\\n' | resolvconf -a wg0 -m 0 -x\n"}},
		{name: "fulltunnel-healthy", confA: docConf("", "0.0.0.0/0", docEP), code: 0,
			not: []string{"[fulltunnel"}},
		{name: "fulltunnel-rules", confA: docConf("", "0.0.0.0/0", docEP), code: 1,
			setup: func(t *testing.T, a, b *testnet.Host) {
				a.MustRun("ip", "-4", "rule", "del", "table", "main", "suppress_prefixlength", "0")
			},
			want: []string{"[fulltunnel-rules]", "the rule `lookup main suppress_prefixlength 0`", "  run:  ip -4 rule add table main suppress_prefixlength 0\n"}},
		{name: "fulltunnel-src-valid-mark", confA: docConf("", "0.0.0.0/0", docEP), code: 1,
			setup: func(t *testing.T, a, b *testnet.Host) {
				a.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=0", "net.ipv4.conf.all.rp_filter=1")
			},
			want: []string{"problem [fulltunnel-src-valid-mark]", "strict on eth0", "  run:  sysctl -w net.ipv4.conf.all.src_valid_mark=1\n"}},
		{name: "fulltunnel-rp-filter", confA: docConf("", "0.0.0.0/0", docEP), code: 1,
			setup: func(t *testing.T, a, b *testnet.Host) {
				a.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1")
				a.MustRun("nft", "delete", "table", "ip", "wg-quick-wg0")
			},
			want: []string{"[fulltunnel-rp-filter]", "no rule restores mark 51820"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each has its own hosts
			a, b := twoPeers(t)
			privA, pubA := keyPair(t)
			privB, pubB := keyPair(t)
			a.WriteFile("/etc/wireguard/wg0.conf", []byte(strings.NewReplacer("{PRIV}", privA, "{PUB}", pubB).Replace(c.confA)), 0o600)
			b.WriteFile("/etc/wireguard/wg0.conf", []byte(strings.NewReplacer("{PRIV}", privB, "{PUB}", pubA).Replace(docBConf)), 0o600)
			mustQuick(t, b, "up", "wg0")
			if !c.noUp {
				mustQuick(t, a, "up", "wg0")
				pingUntil(a, "10.0.0.2", 3)
			}
			if c.setup != nil {
				c.setup(t, a, b)
			}
			args := c.args
			if args == nil {
				args = []string{"--watch", "0"}
			}
			r := doctorRun(t, a, append(args, "wg0")...)
			if r.Code != c.code {
				t.Errorf("doctor: exit %d, want %d", r.Code, c.code)
			}
			mustHold(t, "doctor's output", r.Stdout, c.want...)
			if slices.Contains(args, "--json") {
				jsontest.Check(t, "wg-quick-doctor", []byte(r.Stdout))
			}
			for _, n := range c.not {
				if strings.Contains(r.Stdout, n) {
					t.Errorf("doctor's output holds %q", n)
				}
			}
			t.Logf("doctor (exit %d):\n%s%s", r.Code, r.Stdout, r.Stderr)
		})
	}
}

// TestDoctorSeed2Firewalls is the seed's second scenario on gateways whose
// forward chain drops, with other firewalls than iptables-nft: nftables'
// own (Debian's /etc/nftables.conf style: an inet table), and legacy
// iptables (x_tables, read with iptables-legacy). doctor's fixes are in
// the gateway's own tool, and run as printed they let ping and HTTP
// through.
func TestDoctorSeed2Firewalls(t *testing.T) {
	testnet.Require(t)
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, b *testnet.Host)
		want  []string
	}{
		{"nftables", func(t *testing.T, b *testnet.Host) {
			b.WriteFile("/run/fw.nft", []byte("table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tiifname \"docker0\" accept\n\t}\n}\n"), 0o600)
			b.MustRun("nft", "-f", "/run/fw.nft")
		}, []string{
			"nft table inet filter chain forward: policy drop",
			`  run:  nft insert rule inet filter forward 'iifname "wg0" oifname "lan0" accept'`,
			`  run:  nft insert rule inet filter forward 'iifname "lan0" oifname "wg0" ct state established,related accept'`,
			`  run:  nft add rule ip nat postrouting 'ip saddr 10.0.0.0/24 oifname "lan0" masquerade'`,
		}},
		{"iptables-legacy", func(t *testing.T, b *testnet.Host) {
			if r := b.Run("iptables-legacy", "-P", "FORWARD", "DROP"); r.Code != 0 {
				t.Skipf("no legacy iptables here: %s", r.Stderr)
			}
		}, []string{
			"iptables-legacy chain FORWARD: policy drop",
			"  run:  iptables-legacy -I FORWARD -i wg0 -o lan0 -j ACCEPT\n",
			"  run:  iptables-legacy -t nat -A POSTROUTING -s 10.0.0.0/24 -o lan0 -j MASQUERADE\n",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each has its own hosts
			a, b, lan := seed2Lab(t)
			c.setup(t, b)
			seed2Tunnel(t, a, b)
			r := doctorRun(t, b, "wg0")
			t.Logf("doctor on peer2 (exit %d):\n%s", r.Code, r.Stdout)
			if r.Code != 1 {
				t.Fatalf("doctor on peer2: exit %d, want 1\n%s", r.Code, r.Stderr)
			}
			mustHold(t, "doctor on peer2", r.Stdout, append(c.want, "  run:  sysctl -w net.ipv4.ip_forward=1\n")...)
			for _, cmd := range fixCommands(r.Stdout) {
				if res := b.Sh(cmd); res.Code != 0 {
					t.Fatalf("%s: exit %d\n%s%s", cmd, res.Code, res.Stdout, res.Stderr)
				}
			}
			if !pingUntil(a, "192.168.1.123", 20) {
				t.Fatal("no ping to the LAN host after doctor's fix")
			}
			serveHello(t, lan, "192.168.1.123:9090")
			if got := fetchHello(t, a, "http://192.168.1.123:9090/"); got != "hello, wireguard" {
				t.Fatalf("HTTP to the LAN host after doctor's fix: %q", got)
			}
			if r := doctorRun(t, b, "wg0"); r.Code != 0 || r.Stdout != "wg0: no problem found\n" {
				t.Errorf("doctor on peer2 after the fix: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestDoctorStaleConntrack: a masquerade rule added while a flow from the
// tunnel is already forwarded (and tracked) does not apply to it; doctor
// names the stale connection. (Conntrack runs in the gateway's namespace
// because a forward rule uses it, as Docker's and most firewalls do.)
func TestDoctorStaleConntrack(t *testing.T) {
	testnet.Require(t)
	a, b, _ := seed2Lab(t)
	b.MustRun("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	b.MustRun("iptables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
	seed2Tunnel(t, a, b)
	r := doctorRun(t, b, "wg0")
	mustHold(t, "doctor before the masquerade", r.Stdout, "[no-way-back]", "left on lan0, 0 replies came back")
	b.MustRun("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.0.0.0/24", "-o", "lan0", "-j", "MASQUERADE")
	r = doctorRun(t, b, "wg0")
	t.Logf("doctor after the masquerade (exit %d):\n%s", r.Code, r.Stdout)
	if r.Code != 1 {
		t.Errorf("exit %d, want 1", r.Code)
	}
	mustHold(t, "doctor after the masquerade", r.Stdout, "problem [stale-conntrack]", "conntrack -D --orig-src 10.0.0.1 --orig-dst 192.168.1.123")
}

// TestDoctorUsage: bad options and a file that is not there are "could
// not look" (2), never "something is wrong" (1); no root needed.
func TestDoctorUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", "--json"}, "Usage: wg-quick doctor [ --json ]"},
		{[]string{"doctor", "--watch", "-1", "wg9"}, "--watch -1: give 0 to 3600 seconds"},
		{[]string{"doctor", "--to", "bogus", "wg9"}, `--to "bogus": not an address or a network`},
		{[]string{"doctor", "/nonexistent/wg9.conf"}, "`/nonexistent/wg9.conf' does not exist"},
	} {
		var stdout, stderr strings.Builder
		e := &env{prog: "wg-quick", args: c.args, stdout: &stdout, stderr: &stderr, lookupEnv: os.LookupEnv, uid: 0}
		if code := run(e, c.args); code != 2 || !strings.Contains(stderr.String(), c.want) || stdout.Len() != 0 {
			t.Errorf("wg-quick %s: exit %d, stdout %q, stderr %q; want 2 and %q", strings.Join(c.args, " "), code, stdout.String(), stderr.String(), c.want)
		}
	}
}
