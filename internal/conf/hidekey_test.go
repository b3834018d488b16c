package conf

import (
	"strings"
	"testing"
)

// TestHideKey: a key in a line or argument that is refused is not shown.
func TestHideKey(t *testing.T) {
	const key = "kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8="
	for in, want := range map[string]string{
		"PrivateKey=" + key:       "PrivateKey=(hidden)",
		"PresharedKey=" + key:     "PresharedKey=(hidden)",
		"PrivateKye=" + key:       "PrivateKye=(hidden)",
		"privatekey=" + key[:40]:  "privatekey=(hidden)",
		key:                       "(hidden)",
		"Foo=bar":                 "Foo=bar",
		"ListenPort=" + key[:10]:  "ListenPort=" + key[:10],
		"[Interface]":             "[Interface]",
		"AllowedIPs=":             "AllowedIPs=",
		"Endpoint=" + key + ":10": "Endpoint=(hidden):10",
		key + "0":                 "(hidden)0", // found by FuzzCommandLine
		"x" + key + "x":           "x(hidden)x",
		key[:43] + "x":            key[:43] + "x", // not a key: shown
	} {
		if got := hideKey(in); got != want {
			t.Errorf("hideKey(%q) = %q, want %q", in, got, want)
		}
	}
	_, err := Parse("x.conf", []byte("[Peer]\nPublicKey = "+key+"\nPrivateKey = "+key+"\n"), &Options{})
	if err == nil || strings.Contains(err.Error(), key) || err.Error() != "x.conf:3: Line unrecognized: `PrivateKey=(hidden)'" {
		t.Errorf("error: %v", err)
	}
	// A key where an address, port, endpoint or mark goes (one without
	// '/', which would cut an allowed IP short).
	const psk = "yqIu1+V9Je59NPVR4cjW9FaUZ+hDk9w5pI8ACuBBzlE="
	for _, text := range []string{"[Peer]\nPublicKey = " + key + "\nAllowedIPs = " + psk, "[Peer]\nPublicKey = " + key + "\nEndpoint = " + psk,
		"[Interface]\nListenPort = " + psk, "[Interface]\nFwMark = " + psk} {
		if _, err := Parse("x.conf", []byte(text), &Options{}); err == nil || strings.Contains(err.Error(), psk) || !strings.Contains(err.Error(), "(hidden)") {
			t.Errorf("%q: %v", text, err)
		}
	}
	_, err = ParseSetArgs([]string{"peer", key, "allowed-ips", psk}, &Options{})
	if err == nil || err.Error() != "Unable to parse IP address: `(hidden)'" {
		t.Errorf("error: %v", err)
	}
	_, err = ParseSetArgs([]string{"peer", key, key}, &Options{})
	if err == nil || err.Error() != "Invalid argument: (hidden)" {
		t.Errorf("error: %v", err)
	}
}
