package userspace

import (
	"fmt"
	"strings"
	"testing"
)

// getReply5000 is a get reply with 5000 peers, in an order other than
// the recorded one.
func getReply5000() (*peerOrder, []byte) {
	o := &peerOrder{}
	var req, reply strings.Builder
	reply.WriteString("private_key=11\nlisten_port=51820\n")
	for i := range 5000 {
		fmt.Fprintf(&req, "public_key=%064x\n", i)
	}
	for i := range 5000 {
		k := (i * 7919) % 5000
		fmt.Fprintf(&reply, "public_key=%064x\nendpoint=192.0.2.1:51820\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\nprotocol_version=1\nallowed_ip=10.1.%d.%d/32\n", k, k/250, k%250)
	}
	o.apply([]byte(req.String()))
	return o, []byte(reply.String())
}

// BenchmarkSortGet5000 puts a 5000-peer get reply in insertion order.
func BenchmarkSortGet5000(b *testing.B) {
	o, reply := getReply5000()
	b.SetBytes(int64(len(reply)))
	for b.Loop() {
		_ = o.sort(reply)
	}
}

// TestSortGet5000: every block is kept, in the recorded order.
func TestSortGet5000(t *testing.T) {
	o, reply := getReply5000()
	out := string(o.sort(reply))
	if len(out) != len(reply) || !strings.HasPrefix(out, "private_key=11\nlisten_port=51820\npublic_key="+fmt.Sprintf("%064x", 0)) {
		t.Fatalf("sorted reply: %d bytes of %d, starts %q", len(out), len(reply), out[:100])
	}
	last := -1
	for line := range strings.SplitSeq(out, "\n") {
		if k, ok := strings.CutPrefix(line, "public_key="); ok {
			var n int
			fmt.Sscanf(k, "%x", &n)
			if n != last+1 {
				t.Fatalf("peer %d after %d", n, last)
			}
			last = n
		}
	}
	if last != 4999 || !strings.HasSuffix(out, "allowed_ip=10.1.19.249/32\n") {
		t.Fatalf("last peer %d, tail %q", last, out[len(out)-20:])
	}
}
