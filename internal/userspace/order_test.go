package userspace

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestOrderManyRemovals: one request that removes many peers, re-adds one
// of them and adds a new one keeps the others' order, puts the re-added
// peer and the new one last, and forgets the rest.
func TestOrderManyRemovals(t *testing.T) {
	o := &peerOrder{}
	var req strings.Builder
	for i := range 100 {
		fmt.Fprintf(&req, "public_key=%02x\n", i)
	}
	o.apply([]byte(req.String()))
	req.Reset()
	for i := 0; i < 100; i += 3 {
		fmt.Fprintf(&req, "public_key=%02x\nremove=true\n", i)
	}
	req.WriteString("public_key=03\npublic_key=ff\nupdate_only=true\npublic_key=fe\n")
	o.apply([]byte(req.String()))
	var want []string
	for i := range 100 {
		if i%3 != 0 {
			want = append(want, fmt.Sprintf("%02x", i))
		}
	}
	want = append(want, "03", "fe")
	if !slices.Equal(o.keys, want) {
		t.Fatalf("order\n got %v\nwant %v", o.keys, want)
	}
	for i, k := range o.keys {
		if o.pos[k] != i {
			t.Fatalf("index of %s: %d, want %d", k, o.pos[k], i)
		}
	}
	if len(o.pos) != len(o.keys) {
		t.Fatalf("index holds %d keys, order %d", len(o.pos), len(o.keys))
	}
}
