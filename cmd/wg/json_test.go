package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/jsontest"
	"github.com/gowg/wgtools/internal/testnet"
)

// jsonAgrees reads `wg show TARGET json` between two dumps (the
// reference's: the test skips, and so is seen, without it) until both
// dumps are the same (a live tunnel counts its traffic), then checks the
// document against the schema and against that dump, field by field. env
// is the environment of the json call (WG_HIDE_KEYS). It returns the
// document.
func jsonAgrees(t *testing.T, h *testnet.Host, target, env string, showKeys bool) string {
	t.Helper()
	dumpDir := referenceBinDir(t)
	dump := func() string {
		r := wgShell(h, dumpDir, "", "wg show "+target+" dump")
		if r.Code != 0 {
			t.Fatalf("wg show %s dump: rc %d: %s", target, r.Code, r.Stderr)
		}
		return r.Stdout
	}
	for try := 0; try < 5; try++ {
		before := dump()
		r := wgShell(h, filepath.Dir(wgBin), env, "wg show "+target+" json")
		after := dump()
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("wg show %s json: rc %d: %s", target, r.Code, r.Stderr)
		}
		if sortedLines(before) != sortedLines(after) {
			continue // the state moved between the two dumps
		}
		jsontest.Check(t, "wg-show", []byte(r.Stdout))
		if err := jsontest.AgreesWithDump([]byte(r.Stdout), before, target == "all", showKeys); err != nil {
			t.Fatalf("wg show %s json (%s) and dump disagree: %v\n--- dump\n%.3000s--- json\n%.3000s", target, env, err, before, r.Stdout)
		}
		return r.Stdout
	}
	t.Fatalf("wg show %s dump changed between every two calls of 5", target)
	return ""
}

// TestShowJSONLive: `wg show IFACE json` and `wg show all json` against
// dump on live userspace devices: a fresh one (no peers), one with a peer
// that has completed a handshake and carried traffic, and one with 5000
// peers; keys hidden by default and shown with WG_HIDE_KEYS=never.
func TestShowJSONLive(t *testing.T) {
	requireLab(t)
	a, _ := realTunnel(t) // wg0: one peer, handshake done; wg1: no peers
	for _, env := range []string{"", "WG_HIDE_KEYS=never"} {
		show := env != ""
		for _, target := range []string{"wg0", "wg1", "all"} {
			doc := jsonAgrees(t, a, target, env, show)
			// wg1 has no keys; wg0 has a private and a preshared key.
			has := show && target != "wg1"
			if strings.Contains(doc, aPriv) != has || strings.Contains(doc, psk) != has {
				t.Errorf("wg show %s json (%q): the private and preshared keys are shown %v, want %v", target, env, !has, has)
			}
		}
	}
	doc := jsonAgrees(t, a, "wg0", "", false)
	if !strings.Contains(doc, `"latest_handshake_age_seconds": `) || strings.Contains(doc, `"latest_handshake": null`) {
		t.Errorf("wg0 has a handshake, the document none:\n%s", doc)
	}

	h := testnet.NewHost(t, "wgjson")
	stageFiles(t, h)
	h.StartUserspaceDevice(wireguardGo, "wg0")
	peers := manyPeers(5000)
	h.WriteFile("/run/spw/many.conf", []byte(bigConfig(peers)), 0o600)
	mustWG(t, h, "setconf wg0 many.conf")
	doc = jsonAgrees(t, h, "wg0", "WG_HIDE_KEYS=never", true)
	if n := strings.Count(doc, `"public_key": `); n != 5001 {
		t.Errorf("%d public keys in the document, want 5001", n)
	}
	jsonAgrees(t, h, "all", "", false)
}

// sortedLines is s with its lines sorted: a userspace device lists its
// peers in a new order each time.
func sortedLines(s string) string {
	l := strings.Split(s, "\n")
	slices.Sort(l)
	return strings.Join(l, "\n")
}

// TestShowJSONFieldWord: json is a field word like dump: on a missing
// device it fails as dump does, and no reference command line changes (the
// usage text does not name it).
func TestShowJSONFieldWord(t *testing.T) {
	for _, tc := range []struct{ args, wantErr string }{
		{"show nosuchdev0 json", "Unable to access interface: "},
		{"show nosuchdev0 dump", "Unable to access interface: "},
	} {
		stdout, stderr, rc := runShell(t, t.TempDir(), wgBin+" "+tc.args, "")
		if rc != 1 || stdout != "" || !strings.HasPrefix(stderr, tc.wantErr) {
			t.Errorf("wg %s: rc %d, stdout %q, stderr %q", tc.args, rc, stdout, stderr)
		}
	}
	_, stderr, _ := runShell(t, t.TempDir(), fmt.Sprintf("%s show a b c d", wgBin), "")
	if strings.Contains(stderr, "json") {
		t.Errorf("the usage line names json: %q", stderr)
	}
}
