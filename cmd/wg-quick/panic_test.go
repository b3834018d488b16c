package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPanicIsOneLine: a panic while wg-quick reads a configuration reaches
// the user as one line with status 1, without the panic's value, before
// anything is changed (no root needed: the panic comes first).
func TestPanicIsOneLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wg0.conf")
	conf := "[Interface]\nPrivateKey = " + relPriv + "\n\n[Peer]\nPublicKey = " + relPeerPub + "\nEndpoint = peer.example:51820\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	e := &env{
		prog: "wg-quick", self: "/nonexistent/wg-quick", stdout: &stdout, stderr: &stderr, uid: 0,
		// WG_ENDPOINT_RESOLUTION_RETRIES is read for the host name endpoint.
		lookupEnv: func(string) (string, bool) { panic(conf) },
	}
	code := runSafely(e, []string{"up", path})
	want := regexp.MustCompile(`^wg-quick: internal error: panic\(string\) at github\.com/gowg/wgtools/cmd/wg-quick\.TestPanicIsOneLine\.func\d \(panic_test\.go:\d+\)\n$`)
	if code != 1 || !want.MatchString(stderr.String()) || strings.Contains(stderr.String(), relPriv) {
		t.Errorf("status %d, stderr %q", code, stderr.String())
	}
}
