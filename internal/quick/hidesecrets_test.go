package quick

import (
	"strings"
	"testing"
)

// TestHookTraceHidesSecrets: a hook's trace line shows the file's private
// and preshared keys as (hidden); public keys and the rest stay.
func TestHookTraceHidesSecrets(t *testing.T) {
	const psk = "yqIu1+V9Je59NPVR4cjW9FaUZ+hDk9w5pI8ACuBBzlE="
	l := loadText(t, "[Interface]\nPrivateKey = "+keyAPriv+"\n"+
		"PostUp = wg set %i peer "+keyBPub+" preshared-key <(echo "+psk+")\n"+
		"PostUp = echo "+keyAPriv+" | wg pubkey; echo 9069...\n\n"+
		"[Peer]\nPublicKey = "+keyBPub+"\nPresharedKey = "+psk+"\n")
	steps := hookSteps(nil, l, "PostUp", l.File.Config.Interface.PostUp)
	want := []string{
		"wg set wg0 peer " + keyBPub + " preshared-key <(echo (hidden))",
		"echo (hidden) | wg pubkey; echo 9069...",
	}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(steps), len(want))
	}
	for i, s := range steps {
		if s.Op.String() != want[i] {
			t.Errorf("line %d: %q, want %q", i, s.Op.String(), want[i])
		}
	}
	// The hook runs with its text as written.
	if !strings.Contains(l.File.Config.Interface.PostUp[0], psk) {
		t.Errorf("the hook itself lost its key")
	}
}
