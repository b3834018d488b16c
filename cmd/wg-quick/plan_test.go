package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/jsontest"
	"github.com/gowg/wgtools/internal/testnet"
)

// Issue 14: --dry-run prints the plan the real run follows, and changes
// nothing. For every configuration the wg-quick tests use (the reference
// captures, the kill test's, the hosts', tables, DNS, hooks), in its test
// host: up, save, reload (nothing to do) and down each run first with
// --dry-run (the host's state must not change) and then for real (its
// "[#]" lines must be the plan's, line for line).

// planConfigs are the configurations, by name: the reference captures'
// A side (in their two-host topology), then others on killHost's A.
func planConfigs(t *testing.T) (refs []string, others map[string]string) {
	dirs, err := filepath.Glob(filepath.Join(refQuick, "*", "input-A-wg0.conf"))
	if err != nil || len(dirs) < 10 {
		t.Fatalf("the reference captures: %v (%d)", err, len(dirs))
	}
	for _, d := range dirs {
		refs = append(refs, filepath.Base(filepath.Dir(d)))
	}
	others = map[string]string{}
	for _, c := range killConfigs {
		others["kill-"+c.name] = c.conf
	}
	for name, c := range map[string]string{"v4": hostV4, "v6": hostV6, "full": hostFull, "full4": hostFull4} {
		others["host-"+name] = c
	}
	others["table-1234-full"] = strings.Replace(hostFull, "DNS = 10.0.0.53\n", "DNS = 10.0.0.53\nTable = 1234\n", 1)
	others["table-off-hooks"] = strings.Replace(hostV4, "DNS = 10.0.0.53\n", "Table = off\nPreUp = echo pre %i\nPostUp = echo post %i\nPreDown = true\nPostDown = true\n", 1)
	others["saveconfig-mtu"] = strings.Replace(hostV4, "DNS = 10.0.0.53\n", "MTU = 1380\nSaveConfig = true\n", 1)
	return refs, others
}

// dryThenReal runs `wg-quick VERB wg0` with --dry-run, checks that the
// host did not change, then runs it for real and compares the traces.
func dryThenReal(t *testing.T, h *testnet.Host, verb string) {
	t.Helper()
	dryThenRealEnv(t, h, quickEnv(t), verb)
}

// dryThenRealEnv is dryThenReal with wg-quick's environment env.
func dryThenRealEnv(t *testing.T, h *testnet.Host, env []string, verb string) {
	t.Helper()
	before := fullState(t, h, "wg0")
	dry := quickIn(t, h, env, "--dry-run", verb, "wg0")
	if after := fullState(t, h, "wg0"); after != before {
		t.Fatalf("%s --dry-run changed the host:\n%s", verb, difftest.Lines(before, after))
	}
	real := quickIn(t, h, env, verb, "wg0")
	plan, trace := strings.Join(traceLines(dry.Stdout), "\n"), strings.Join(traceLines(real.Stderr), "\n")
	if plan != trace {
		t.Errorf("%s: the plan is not the run's trace (- plan, + run):\n%s\n--- dry run's stderr\n%s--- run's stderr\n%s", verb, difftest.Lines(plan, trace), dry.Stderr, real.Stderr)
	}
	if dry.Code != real.Code {
		t.Errorf("%s: the dry run's status %d, the run's %d\n%s", verb, dry.Code, real.Code, real.Stderr)
	}
	if dry.Stderr != "" && strings.Contains(dry.Stderr, "could not read") {
		t.Errorf("%s --dry-run could not read the host:\n%s", verb, dry.Stderr)
	}
}

// quickIn runs our wg-quick in h with the environment env, failing the
// test if its output shows a key of the host's wg0.conf.
func quickIn(t *testing.T, h *testnet.Host, env []string, args ...string) testnet.Result {
	t.Helper()
	secrets := secretsOf(h)
	r := h.RunEnv(env, filepath.Join(binaries(t), "wg-quick"), args...)
	for _, k := range secrets {
		if strings.Contains(r.Stdout+r.Stderr, k) {
			t.Errorf("wg-quick %s printed a key of the configuration", strings.Join(args, " "))
		}
	}
	return r
}

// traceLines keeps the "[#] ..." lines.
func traceLines(s string) []string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(line, "[#] ") {
			out = append(out, line)
		}
	}
	return out
}

func TestDryRunMatchesRun(t *testing.T) {
	testnet.Require(t)
	refs, others := planConfigs(t)
	verbs := func(t *testing.T, a *testnet.Host, env []string) {
		dryThenRealEnv(t, a, env, "up")
		// Nothing to change: an empty plan, and a reload that prints
		// nothing. (Before save, which writes no search domains, as the
		// reference's.)
		if r := quickIn(t, a, env, "reload", "wg0", "--dry-run"); r.Code != 0 || r.Stdout != "" {
			t.Errorf("reload --dry-run after up: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		if r := quickIn(t, a, env, "reload", "wg0"); r.Code != 0 || r.Stderr != "" {
			t.Errorf("reload after up: exit %d\n%s", r.Code, r.Stderr)
		}
		dryThenRealEnv(t, a, env, "save")
		dryThenRealEnv(t, a, env, "down")
		dryThenRealEnv(t, a, env, "down") // not a WireGuard interface: the message, status 1
	}
	for _, c := range refs {
		t.Run(c, func(t *testing.T) {
			a, b := refTopology(t)
			installRefConfs(t, c, a, b)
			verbs(t, a, quickEnv(t))
		})
	}
	for name, conf := range others {
		t.Run(name, func(t *testing.T) {
			a := killHost(t, conf, true)
			verbs(t, a, quickEnv(t))
		})
	}
	// IPv6 off in the host's namespace: the IPv6 parts skipped with the
	// warning, in the plan as in the run.
	for name, conf := range map[string]string{"ipv6-off-full": hostFull, "ipv6-off-v6-address": hostV6} {
		t.Run(name, func(t *testing.T) {
			a := killHost(t, conf, false)
			disableIPv6(t, a)
			verbs(t, a, quickEnv(t))
		})
	}
	// The real DNS managers (see dns_test.go), with no stub resolvconf.
	for _, pkg := range []string{"resolvconf", "openresolv"} {
		t.Run("dns-"+pkg, func(t *testing.T) {
			testnet.RequireDeb(t, pkg)
			h := testnet.NewHost(t, "wgdry-r")
			withResolvconf(t, h, pkg)
			h.WriteFile("/etc/wireguard/wg0.conf", []byte(dnsConf(false, "")), 0o600)
			verbs(t, h, ourEnv(t))
		})
	}
	for _, full := range []bool{false, true} {
		t.Run(map[bool]string{false: "dns-resolved-split", true: "dns-resolved-full"}[full], func(t *testing.T) {
			verbs(t, resolvedHost(t, dnsConf(full, "")), ourEnv(t))
		})
	}
}

// TestDryRunJSONSchema: the --json plan of every verb is one document of
// the documented shape: its [#] lines are the text plan's.
func TestDryRunJSONSchema(t *testing.T) {
	testnet.Require(t)
	a := killHost(t, killConfigs[2].conf, true)
	check := func(verb string) {
		text := wgQuick(t, a, "--dry-run", verb, "wg0")
		js := wgQuick(t, a, verb, "wg0", "--dry-run", "--json")
		if js.Code != text.Code {
			t.Errorf("%s: --json exit %d, text %d", verb, js.Code, text.Code)
		}
		jsontest.Check(t, "wg-quick-plan", []byte(js.Stdout))
		var doc struct {
			SchemaVersion int      `json:"schema_version"`
			Verb          string   `json:"verb"`
			Interface     string   `json:"interface"`
			Config        string   `json:"config"`
			ExitStatus    *int     `json:"exit_status"`
			Messages      []string `json:"messages"`
			Unsure        []string `json:"unsure"`
			Denied        []string `json:"denied"`
			Steps         []struct {
				Phase           *string        `json:"phase"`
				Line            *string        `json:"line"`
				Kind            string         `json:"kind"`
				Fields          map[string]any `json:"fields"`
				UndoneOnFailure *bool          `json:"undone_on_failure"`
				Note            *string        `json:"note"`
			} `json:"steps"`
		}
		dec := json.NewDecoder(strings.NewReader(js.Stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s --json: %v\n%s", verb, err, js.Stdout)
		}
		if doc.SchemaVersion != 1 || doc.Verb != verb || doc.Interface != "wg0" || doc.ExitStatus == nil || doc.Messages == nil || doc.Unsure == nil || doc.Denied == nil {
			t.Errorf("%s: header %+v", verb, doc)
		}
		var lines []string
		for _, s := range doc.Steps {
			if s.Phase == nil || s.Kind == "" || s.Fields == nil || s.UndoneOnFailure == nil {
				t.Errorf("%s: incomplete step %+v", verb, s)
			}
			if s.Line != nil {
				lines = append(lines, "[#] "+*s.Line)
			}
		}
		if strings.Join(lines, "\n") != strings.Join(traceLines(text.Stdout), "\n") {
			t.Errorf("%s: the JSON plan's lines differ from the text plan:\n%s", verb, difftest.Lines(strings.Join(traceLines(text.Stdout), "\n"), strings.Join(lines, "\n")))
		}
		if k := leaked(js.Stdout, secretForms(relPriv, relPSK)); k != "" {
			t.Errorf("%s --json shows a key", verb)
		}
	}
	check("up")
	mustQuick(t, a, "up", "wg0")
	check("save")
	check("reload")
	check("down")
	mustQuick(t, a, "down", "wg0")
}

// TestDryRunNotRoot: a dry run needs no root where the state is readable:
// up's plan as an unprivileged user is root's.
func TestDryRunNotRoot(t *testing.T) {
	testnet.Require(t)
	if _, err := os.Stat("/usr/sbin/runuser"); err != nil {
		t.Skip("runuser (util-linux) is not installed")
	}
	a := killHost(t, killConfigs[0].conf, false)
	a.MustRun("chmod", "0755", "/etc/wireguard")
	a.MustRun("chmod", "0644", confPath)
	root := wgQuick(t, a, "--dry-run", "up", "wg0")
	data, err := os.ReadFile(filepath.Join(binaries(t), "wg-quick"))
	if err != nil {
		t.Fatal(err)
	}
	a.WriteFile("/run/nobody/wg-quick", data, 0o755)
	// The stub resolvconf where nobody finds it (wg-quick's directory,
	// first in the PATH of the programs it runs): the file names DNS, and
	// a host with no DNS manager would be refused.
	stub, err := os.ReadFile(filepath.Join(binaries(t), "stubbin", "resolvconf"))
	if err != nil {
		t.Fatal(err)
	}
	a.WriteFile("/run/nobody/resolvconf", stub, 0o755)
	r := a.RunEnv(quickEnv(t), "runuser", "-u", "nobody", "--", "/run/nobody/wg-quick", "--dry-run", "up", "wg0")
	if r.Code != 0 || strings.Join(traceLines(r.Stdout), "\n") != strings.Join(traceLines(root.Stdout), "\n") {
		t.Errorf("as nobody: exit %d\n%s%s\nas root:\n%s", r.Code, r.Stdout, r.Stderr, root.Stdout)
	}
}
