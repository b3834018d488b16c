package quick

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/jsontest"
)

// TestDryRunIsTheTrace (issue 14): for every case of TestPlans that does
// not depend on a failure the plan cannot foresee, the dry run of each
// verb prints the "[#]" lines the real run prints next, in order, and
// changes nothing on the machine.
func TestDryRunIsTheTrace(t *testing.T) {
	// Failures only the kernel or a program reports (the plan cannot
	// know them), signals, and hooks whose effects the plan cannot
	// follow.
	unforeseeable := map[string]bool{
		"preup-fails": true, "postup-fails": true, "mtu-too-small": true, "no-resolvconf": true,
		"addconf-fails": true, "embedded-fails": true, "kernel-add-fails": true, "fulltunnel-rules-exist-rollback": true,
		"fulltunnel-postup-fails": true, "fulltunnel-firewall-fails": true, "fulltunnel-firewall-fails-first": true,
		"fulltunnel-sysctl-read-only": true, "fulltunnel-signal": true, "signal-mid-up": true, "predown-fails": true,
		"save-write-fails": true, "userspace-socket-taken": true, "dns-resolved-rollback": true, "dns-resolved-call-fails": true,
	}
	n := 0
	for _, c := range planCases() {
		if unforeseeable[c.name] {
			continue
		}
		n++
		t.Run(c.name, func(t *testing.T) {
			text := c.conf
			if ref, ok := strings.CutPrefix(text, "ref:"); ok {
				text = refConf(t, ref)
			}
			f := newFakeHost()
			if c.setup != nil {
				c.setup(f)
			}
			l := loadText(t, text)
			for _, v := range c.verbs {
				if v == "rm-link" {
					f.removeLink("wg0")
					continue
				}
				before := f.state()
				f.log, f.batches = nil, nil
				f.stdout.Reset()
				f.stderr.Reset()
				code := DryRun(context.Background(), f.sys(), l, v, DryRunOptions{})
				plan := traceLines(f.stdout.String())
				f.log = slices.DeleteFunc(f.log, func(s string) bool { return strings.HasPrefix(s, "resolvconf -l ") }) // reads
				if after := f.state(); after != before || len(f.log) != 0 {
					t.Fatalf("%s --dry-run changed the machine:\n%s\ndone: %q", v, difftest.Lines(before, after), f.log)
				}
				out, realCode := runVerb(t, f, l, v)
				trace := traceLines(f.stderr.String())
				if strings.Join(plan, "\n") != strings.Join(trace, "\n") {
					t.Errorf("%s: the plan differs from the run's trace:\n%s\nrun:\n%s", v, difftest.Lines(strings.Join(plan, "\n"), strings.Join(trace, "\n")), out)
				}
				if code != realCode {
					t.Errorf("%s: the dry run's status %d, the run's %d", v, code, realCode)
				}
			}
		})
	}
	if n < 25 {
		t.Fatalf("only %d cases", n)
	}
}

// TestDryRunJSON: the plan as JSON has a step per line of the text plan,
// in order, each with its kind and fields, and no key.
func TestDryRunJSON(t *testing.T) {
	f := newFakeHost()
	l := loadText(t, refConf(t, "fulltunnel-nft"))
	if code := DryRun(context.Background(), f.sys(), l, "up", DryRunOptions{}); code != 0 {
		t.Fatalf("dry run: %d", code)
	}
	lines := traceLines(f.stdout.String())
	f.stdout.Reset()
	if code := DryRun(context.Background(), f.sys(), l, "up", DryRunOptions{JSON: true}); code != 0 {
		t.Fatalf("dry run --json: %d", code)
	}
	jsontest.Check(t, "wg-quick-plan", f.stdout.Bytes())
	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		Verb          string `json:"verb"`
		Steps         []struct {
			Line            *string        `json:"line"`
			Kind            string         `json:"kind"`
			Fields          map[string]any `json:"fields"`
			UndoneOnFailure bool           `json:"undone_on_failure"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(f.stdout.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, f.stdout.String())
	}
	if doc.SchemaVersion != 1 || doc.Verb != "up" {
		t.Errorf("header %+v", doc)
	}
	var got []string
	for i, s := range doc.Steps {
		if s.Line != nil {
			got = append(got, "[#] "+*s.Line)
		}
		if s.Kind == "" || s.Fields == nil {
			t.Errorf("step %v: no kind or fields", s.Line)
		}
		if i > 0 && s.Kind != "hook" && !s.UndoneOnFailure { // the first, ip link add, fails: no module
			t.Errorf("step %v (%s) of up is not undone on failure", *s.Line, s.Kind)
		}
	}
	if strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Errorf("JSON lines differ from the text plan:\n%s", difftest.Lines(strings.Join(lines, "\n"), strings.Join(got, "\n")))
	}
	if strings.Contains(f.stdout.String(), keyAPriv) {
		t.Error("the JSON plan shows the private key")
	}
}

// TestDryRunJSONEveryVerb: every verb's plan on the fake follows the
// schema, a full tunnel's, a reload's and a failing one's included.
func TestDryRunJSONEveryVerb(t *testing.T) {
	if jsontest.Validate("wg-quick-plan", []byte(`{"schema_version": 1}`)) == nil {
		t.Fatal("the schema takes a document without steps")
	}
	f := newFakeHost()
	l := loadText(t, refConf(t, "fulltunnel-nft"))
	for _, v := range []string{"up", "save", "down", "reload"} {
		f.stdout.Reset()
		DryRun(context.Background(), f.sys(), l, v, DryRunOptions{JSON: true})
		jsontest.Check(t, "wg-quick-plan", f.stdout.Bytes())
		if v == "up" {
			runVerb(t, f, l, "up")
		}
	}
	split := loadText(t, withIface("DNS = 10.0.0.54\n"))
	f.stdout.Reset()
	DryRun(context.Background(), f.sys(), split, "reload", DryRunOptions{JSON: true})
	jsontest.Check(t, "wg-quick-plan", f.stdout.Bytes())
	if !strings.Contains(f.stdout.String(), `"kind": "rule"`) || !strings.Contains(f.stdout.String(), `"kind": "dns"`) {
		t.Errorf("the reload to a split tunnel plans no rule or DNS change:\n%s", f.stdout.String())
	}

	// DNS through systemd-resolved, on a host with IPv6 off: the
	// resolvectl steps, and the warning among the messages.
	f = newFakeHost()
	resolvedShim(f)
	ipv6Off(f)
	l = loadText(t, fullTunnelConf("DNS = 10.0.0.53, example.com\n", "0.0.0.0/0, ::/0"))
	for _, v := range []string{"up", "reload", "down"} {
		f.stdout.Reset()
		DryRun(context.Background(), f.sys(), l, v, DryRunOptions{JSON: true})
		jsontest.Check(t, "wg-quick-plan", f.stdout.Bytes())
		out := f.stdout.String()
		switch v {
		case "up":
			if !strings.Contains(out, `"line": "resolvectl domain wg0 example.com '~.'"`) || !strings.Contains(out, `"backend": "systemd-resolved"`) ||
				!strings.Contains(out, "[!] IPv6 is disabled on this host") || strings.Contains(out, "ip -6") {
				t.Errorf("up on resolved, IPv6 off:\n%s", out)
			}
			runVerb(t, f, l, "up")
		case "down":
			if !strings.Contains(out, `"line": "resolvectl revert wg0"`) {
				t.Errorf("down on resolved:\n%s", out)
			}
		}
	}
}
