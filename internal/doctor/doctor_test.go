package doctor

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/jsontest"
)

// dockerForward is `iptables -S FORWARD` and its chains on a host with
// Docker (the seed's second post traced a packet through these).
var dockerForward = map[string][]string{
	"FORWARD": {
		"-P FORWARD DROP",
		"-A FORWARD -j DOCKER-USER",
		"-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
		"-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		"-A FORWARD -o docker0 -j DOCKER",
		"-A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
		"-A FORWARD -i docker0 -o docker0 -j ACCEPT",
	},
	"DOCKER":                   {"-N DOCKER"},
	"DOCKER-ISOLATION-STAGE-1": {"-N DOCKER-ISOLATION-STAGE-1", "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2", "-A DOCKER-ISOLATION-STAGE-1 -j RETURN"},
	"DOCKER-ISOLATION-STAGE-2": {"-N DOCKER-ISOLATION-STAGE-2", "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP", "-A DOCKER-ISOLATION-STAGE-2 -j RETURN"},
	"DOCKER-USER":              {"-N DOCKER-USER", "-A DOCKER-USER -j RETURN"},
}

func dockerFirewall(extra ...string) *Firewall {
	fw := &Firewall{Tool: "iptables"}
	for name, lines := range dockerForward {
		if name == "FORWARD" {
			lines = append(append([]string{lines[0]}, extra...), lines[1:]...)
		}
		fw.Chains = append(fw.Chains, ParseIPTablesChain("ip", "filter", name, lines))
	}
	fw.Chains = append(fw.Chains, ParseIPTablesChain("ip", "nat", "POSTROUTING", []string{
		"-P POSTROUTING ACCEPT",
		"-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
	}))
	return fw
}

var (
	peer1  = netip.MustParseAddr("10.0.0.1")
	lanDst = netip.MustParseAddr("192.168.1.123")
)

func TestForwardDocker(t *testing.T) {
	there := Packet{Family: 4, IIf: "wg0", OIf: "lan0", Src: peer1, Dst: lanDst, Proto: 1, CtState: "new"}
	back := Packet{Family: 4, IIf: "lan0", OIf: "wg0", Src: lanDst, Dst: peer1, Proto: 1, CtState: "established"}
	o := dockerFirewall().Forward(there)
	if o.Result != VerdictDrop || !o.Sure || o.Rule != "" || o.Chain.Name != "FORWARD" {
		t.Errorf("docker host, wg0 to lan0: %+v, want a sure drop by FORWARD's policy", o)
	}
	fixed := dockerFirewall("-A FORWARD -i wg0 -o lan0 -j ACCEPT", "-A FORWARD -i lan0 -o wg0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
	for _, p := range []Packet{there, back} {
		if o := fixed.Forward(p); o.Result != VerdictAccept || !o.Sure {
			t.Errorf("with the accepts, %+v: %+v", p, o)
		}
	}
	// The reply accept is for established packets only.
	if o := fixed.Forward(Packet{Family: 4, IIf: "lan0", OIf: "wg0", Src: lanDst, Dst: peer1, CtState: "new"}); o.Result != VerdictDrop {
		t.Errorf("a new connection from the LAN into the tunnel: %+v, want drop", o)
	}
	// A docker container's traffic is accepted, as Docker means it to.
	if o := fixed.Forward(Packet{Family: 4, IIf: "docker0", OIf: "eth0", CtState: "new"}); o.Result != VerdictAccept {
		t.Errorf("docker0 to eth0: %+v", o)
	}
	// A rule doctor cannot read makes the answer unsure.
	unsure := dockerFirewall("-A FORWARD -m set --match-set ok src -j ACCEPT")
	if o := unsure.Forward(there); o.Result != VerdictDrop || o.Sure {
		t.Errorf("with an unknown match: %+v, want an unsure drop", o)
	}
	// Source NAT: Docker's masquerade is for its own network only.
	if o := fixed.SourceNAT(Packet{Family: 4, OIf: "lan0", Src: peer1, Dst: lanDst}); o.Result != VerdictAccept {
		t.Errorf("nat of the tunnel's packets: %+v, want none", o)
	}
	fixed.Chains = append(fixed.Chains, ParseIPTablesChain("ip", "nat", "POSTROUTING", []string{"-A POSTROUTING -s 10.0.0.0/24 -o lan0 -j MASQUERADE"}))
	if o := fixed.SourceNAT(Packet{Family: 4, OIf: "lan0", Src: peer1, Dst: lanDst}); o.Result != VerdictMasquerade {
		t.Errorf("nat with the masquerade: %+v", o)
	}
}

func TestForwardNFTInet(t *testing.T) {
	fw := &Firewall{Tool: "nft", Chains: []Chain{{
		Tool: "nft", Family: "inet", Table: "filter", Name: "forward", Hook: "forward", Type: "filter", Policy: "drop",
		Rules: []Rule{
			{Conds: []Cond{{Kind: CondCtState, States: []string{"established", "related"}}}, Verdict: Verdict{Kind: VerdictAccept}},
			{Conds: []Cond{{Kind: CondIIf, Name: "wg", Prefix: true}, {Kind: CondDst, Net: netip.MustParsePrefix("192.168.0.0/16")}}, Verdict: Verdict{Kind: VerdictJump, Chain: "lan"}},
		},
	}, {
		Tool: "nft", Family: "inet", Table: "filter", Name: "lan", Type: "filter",
		Rules: []Rule{{Conds: []Cond{{Kind: CondOIf, Name: "lan0"}}, Verdict: Verdict{Kind: VerdictAccept}}},
	}}}
	for _, c := range []struct {
		p    Packet
		want VerdictKind
	}{
		{Packet{Family: 4, IIf: "wg0", OIf: "lan0", Src: peer1, Dst: lanDst, CtState: "new"}, VerdictAccept},
		{Packet{Family: 4, IIf: "wg0", OIf: "lan1", Src: peer1, Dst: lanDst, CtState: "new"}, VerdictDrop},
		{Packet{Family: 4, IIf: "wg0", OIf: "lan0", Src: peer1, Dst: netip.MustParseAddr("172.16.0.1"), CtState: "new"}, VerdictDrop},
		{Packet{Family: 6, IIf: "lan0", OIf: "wg0", CtState: "established"}, VerdictAccept},
	} {
		if o := fw.Forward(c.p); o.Result != c.want || !o.Sure {
			t.Errorf("%+v: %+v, want a sure %s", c.p, o, c.want)
		}
	}
}

func TestParseIPTablesChain(t *testing.T) {
	c := ParseIPTablesChain("ip", "filter", "FORWARD", []string{
		"-P FORWARD DROP",
		`-A FORWARD -i wg+ ! -o eth0 -s 10.0.0.0/24 -d 192.168.1.5 -p udp -m comment --comment "a \"quoted\" note" -j ACCEPT`,
		"-A FORWARD -p tcp -m tcp --dport 22 -j DROP",
		"-A FORWARD -g OTHER",
	})
	if c.Hook != "forward" || c.Policy != "drop" || len(c.Rules) != 3 {
		t.Fatalf("%+v", c)
	}
	r := c.Rules[0]
	if r.Unknown || r.Verdict.Kind != VerdictAccept || len(r.Conds) != 5 {
		t.Fatalf("rule 1: %+v", r)
	}
	if got := r.Conds[0]; got.Kind != CondIIf || got.Name != "wg" || !got.Prefix {
		t.Errorf("-i wg+: %+v", got)
	}
	if got := r.Conds[1]; got.Kind != CondOIf || !got.Negate || got.Name != "eth0" {
		t.Errorf("! -o eth0: %+v", got)
	}
	if got := r.Conds[3]; got.Net != netip.MustParsePrefix("192.168.1.5/32") {
		t.Errorf("-d: %+v", got)
	}
	if !c.Rules[1].Unknown {
		t.Error("--dport is not evaluated: the rule must be unknown")
	}
	if v := c.Rules[2].Verdict; v.Kind != VerdictGoto || v.Chain != "OTHER" {
		t.Errorf("-g OTHER: %+v", v)
	}
}

// gateway is the seed's peer2 as a snapshot: a flow from the tunnel to the
// LAN that never left, forwarding off, FORWARD dropping, no masquerade.
func gateway(t *testing.T) *State {
	t.Helper()
	key := mustKey(t, "UX8WGh0VWQTUkdjANv3JapbfCWfjjHPGFLtQ5fyiWxU=")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ep := netip.MustParseAddrPort("192.0.2.1:51820")
	port := uint16(51820)
	s := &State{
		Iface: "wg0", Path: "/etc/wireguard/wg0.conf", Now: now,
		File: &conf.Config{
			Interface: conf.Interface{ListenPort: &port, Addresses: []conf.Address{{Raw: "10.0.0.2/24", Prefix: netip.MustParsePrefix("10.0.0.2/24")}}},
			Peers:     []conf.Peer{{PublicKey: key, Endpoint: &ep, AllowedIPs: []conf.AllowedIP{{Prefix: netip.MustParsePrefix("10.0.0.1/32")}}}},
		},
		Link:  &Link{Index: 5, Name: "wg0", MTU: 1420, Up: true, Kind: "wireguard"},
		Links: []Link{{Index: 2, Name: "eth0", MTU: 1500, Up: true}, {Index: 3, Name: "lan0", MTU: 1500, Up: true}, {Index: 5, Name: "wg0", MTU: 1420, Up: true}},
		Dev: &conf.Device{Name: "wg0", ListenPort: 51820, Peers: []conf.DevicePeer{{PublicKey: key, Endpoint: ep,
			LastHandshake: now.Add(-10 * time.Second), RxBytes: 1000, TxBytes: 1000, AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}}}},
		Addrs:  []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")},
		Local:  []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.168.1.10")},
		Sysctl: map[string]string{"net/ipv4/ip_forward": "0", "net/ipv4/conf/wg0/forwarding": "0"},
		Firewall: &Firewall{Tool: "iptables", Chains: []Chain{
			ParseIPTablesChain("ip", "filter", "FORWARD", []string{"-P FORWARD DROP"}),
		}},
		Watch: &Watch{Seconds: 3, Flows: []Flow{{Src: peer1, Dst: lanDst, Proto: 1, In: 3}}},
		Lookups: []Lookup{
			{Query: Query{Dst: lanDst}, OK: true, Route: Route{Dst: netip.MustParsePrefix("192.168.1.123/32"), Dev: "lan0", LinkIndex: 3, Type: rtnUnicast, Src: netip.MustParseAddr("192.168.1.10")}},
			{Query: Query{Dst: peer1}, OK: true, Route: Route{Dst: netip.MustParsePrefix("10.0.0.1/32"), Dev: "wg0", LinkIndex: 5, Type: rtnUnicast}},
			{Query: Query{Dst: ep.Addr()}, OK: true, Route: Route{Dst: netip.MustParsePrefix("192.0.2.1/32"), Dev: "eth0", LinkIndex: 2, Type: rtnUnicast}},
		},
	}
	s.DevAfter = s.Dev
	return s
}

func mustKey(t *testing.T, s string) conf.Key {
	t.Helper()
	k, err := conf.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func checks(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, string(f.Severity)+" "+f.Check)
	}
	return out
}

func TestGatewaySnapshot(t *testing.T) {
	s := gateway(t)
	r := Diagnose(s)
	got := strings.Join(checks(r), ", ")
	if want := "problem no-way-back, problem forward-chain-drops, problem forwarding-off"; got != want {
		t.Fatalf("findings: %s\nwant %s", got, want)
	}
	if r.ExitCode() != 1 {
		t.Errorf("exit %d", r.ExitCode())
	}
	// Without the watch's evidence, a LAN next to a tunnel with
	// forwarding off is not a problem.
	s.Watch = &Watch{Seconds: 3}
	if r := Diagnose(s); len(r.Findings) != 0 || r.ExitCode() != 0 {
		t.Errorf("without packets for other hosts: %v", checks(r))
	}
	// Replies that came back mean the LAN routes the tunnel back: no
	// masquerade needed once forwarding and the chain let them through.
	s = gateway(t)
	s.Sysctl = map[string]string{"net/ipv4/ip_forward": "1", "net/ipv4/conf/wg0/forwarding": "1"}
	s.Firewall.Chains[0].Policy = "accept"
	s.Watch.Flows[0].Out, s.Watch.Flows[0].OutDev, s.Watch.Flows[0].Replies, s.Watch.Flows[0].Back = 3, "lan0", 3, 3
	if r := Diagnose(s); len(r.Findings) != 0 {
		t.Errorf("a working gateway: %v", checks(r))
	}
	// Did not leave, nothing known in the way: a note with the trace.
	s.Watch.Flows[0].Out, s.Watch.Flows[0].OutDev, s.Watch.Flows[0].Replies, s.Watch.Flows[0].Back = 0, "", 0, 0
	r = Diagnose(s)
	if got := strings.Join(checks(r), ", "); got != "problem no-way-back" {
		t.Fatalf("not left, no masquerade: %s", got)
	}
	s.Firewall.Chains = append(s.Firewall.Chains, ParseIPTablesChain("ip", "nat", "POSTROUTING", []string{"-A POSTROUTING -s 10.0.0.0/24 -o lan0 -j MASQUERADE"}))
	r = Diagnose(s)
	if got := strings.Join(checks(r), ", "); got != "note forward-unexplained" || !strings.Contains(r.Findings[0].Fix[1].Command, "nftrace set 1") {
		t.Fatalf("not left, nothing in the way: %s", got)
	}
	s.Firewall.Chains = s.Firewall.Chains[:1]
	s.Watch.Flows[0].Out, s.Watch.Flows[0].OutDev = 3, "lan0"
	// Left but no reply: no way back, seen.
	s.Watch.Flows[0].Replies, s.Watch.Flows[0].Back = 0, 0
	r = Diagnose(s)
	if got := strings.Join(checks(r), ", "); got != "problem no-way-back" {
		t.Fatalf("no replies: %s", got)
	}
	if ev := strings.Join(r.Findings[0].Evidence, "\n"); !strings.Contains(ev, "3 packets left on lan0 in 3 s and no reply came back") {
		t.Errorf("evidence:\n%s", ev)
	}
}

func TestStaleConntrack(t *testing.T) {
	s := gateway(t)
	s.Sysctl = map[string]string{"net/ipv4/ip_forward": "1", "net/ipv4/conf/wg0/forwarding": "1"}
	s.Firewall.Chains = []Chain{ParseIPTablesChain("ip", "nat", "POSTROUTING", []string{"-A POSTROUTING -s 10.0.0.0/24 -o lan0 -j MASQUERADE"})}
	f := &s.Watch.Flows[0]
	f.Out, f.OutDev = 3, "lan0"
	if got := strings.Join(checks(Diagnose(s)), ", "); got != "problem stale-conntrack" {
		t.Errorf("left untranslated under a masquerade rule: %s", got)
	}
	f.Rewritten = 3
	if got := strings.Join(checks(Diagnose(s)), ", "); got != "note no-answer" {
		t.Errorf("left translated, no answer: %s", got)
	}
}

func TestHandshakeTime(t *testing.T) {
	for _, c := range []struct {
		name      string
		age       time.Duration
		sentAfter uint64 // bytes sent during the watch
		watch     bool
		want      string
	}{
		{"recent", 30 * time.Second, 500, true, ""},
		{"stale-and-sending", 10 * time.Minute, 500, true, "problem handshake-time"},
		{"stale-and-idle", 10 * time.Minute, 0, true, "note peer-handshake-stale"},
		{"stale-no-watch", 10 * time.Minute, 0, false, "note peer-handshake-stale"},
		{"in-the-future", -time.Hour, 0, true, "problem handshake-time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := gateway(t)
			s.Watch = &Watch{Seconds: 3}
			if !c.watch {
				s.Watch = nil
			}
			after := *s.Dev
			after.Peers = append([]conf.DevicePeer(nil), s.Dev.Peers...)
			after.Peers[0].TxBytes += c.sentAfter
			s.DevAfter = &after
			s.Dev.Peers[0].LastHandshake = s.Now.Add(-c.age)
			r := Diagnose(s)
			got := strings.Join(checks(r), ", ")
			if got != c.want {
				t.Fatalf("findings %q, want %q", got, c.want)
			}
			if c.want == "problem handshake-time" && c.age > 0 {
				text := r.Findings[0].Summary + "\n" + r.Findings[0].Fix[0].Text + "\n" + r.Findings[0].Fix[1].Text
				if !strings.Contains(text, "keys") || !strings.Contains(text, "clock") {
					t.Errorf("the finding must name both the keys and the clocks:\n%s", text)
				}
			}
		})
	}
}

func TestReportJSON(t *testing.T) {
	r := Diagnose(gateway(t))
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Interface string `json:"interface"`
		Status    string `json:"status"`
		ExitCode  int    `json:"exit_code"`
		Problems  int    `json:"problems"`
		Findings  []struct {
			Check    string   `json:"check"`
			Severity string   `json:"severity"`
			Evidence []string `json:"evidence"`
			Fix      []struct {
				Command *string `json:"command"`
				Line    *string `json:"line"`
			} `json:"fix"`
		} `json:"findings"`
		NotChecked []any `json:"not_checked"`
	}
	jsontest.Check(t, "wg-quick-doctor", b.Bytes())
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if doc.Interface != "wg0" || doc.Status != "problems" || doc.ExitCode != 1 || doc.Problems != 3 || len(doc.Findings) != 3 || doc.NotChecked == nil {
		t.Fatalf("%+v", doc)
	}
	if f := doc.Findings[2]; f.Check != "forwarding-off" || f.Fix[0].Command == nil || *f.Fix[0].Command != "sysctl -w net.ipv4.ip_forward=1" || f.Fix[0].Line != nil || len(f.Evidence) == 0 {
		t.Errorf("first finding: %+v", f)
	}
	ok := &Report{Interface: "wg0"}
	b.Reset()
	ok.WriteJSON(&b)
	if !strings.Contains(b.String(), `"status": "ok"`) || !strings.Contains(b.String(), `"findings": []`) {
		t.Errorf("an empty report:\n%s", b.String())
	}
	jsontest.Check(t, "wg-quick-doctor", b.Bytes())
	ok.NotChecked = []NotChecked{{"the firewall", "permission denied"}}
	if ok.ExitCode() != 2 {
		t.Errorf("a report with a part not checked: exit %d, want 2", ok.ExitCode())
	}
	b.Reset()
	ok.File = "/etc/wireguard/wg0.conf"
	ok.WriteJSON(&b)
	jsontest.Check(t, "wg-quick-doctor", b.Bytes())
	if !strings.Contains(b.String(), `"status": "incomplete"`) || !strings.Contains(b.String(), `"what": "the firewall"`) {
		t.Errorf("a report with a part not checked:\n%s", b.String())
	}
}

func TestSplitWords(t *testing.T) {
	got := splitWords(`-A X -m comment --comment "a \"b\" c" -j ACCEPT`)
	want := []string{"-A", "X", "-m", "comment", "--comment", `a "b" c`, "-j", "ACCEPT"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%q", got)
	}
}
