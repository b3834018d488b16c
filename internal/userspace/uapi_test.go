package userspace

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/conn/bindtest"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun/tuntest"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/wgdev"
)

// newTestDevice is a wireguard-go device on in-memory TUN and bind, served
// by our UAPI front end over a pipe. No root needed.
func newTestDevice(t *testing.T) (exchange func(req string) string) {
	t.Helper()
	dev := device.NewDevice(tuntest.NewChannelTUN().TUN(), bindtest.NewChannelBinds()[0], device.NewLogger(device.LogLevelSilent, ""))
	t.Cleanup(dev.Close)
	srv := newServer(dev)
	return func(req string) string {
		a, b := net.Pipe()
		go srv.serve(b)
		defer a.Close()
		go fmt.Fprint(a, req)
		r := bufio.NewReader(a)
		var out strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the reply to %q: %v", req[:6], err)
			}
			out.WriteString(line)
			if line == "\n" {
				return out.String()
			}
		}
	}
}

func keys(t *testing.T, n int) []conf.Key {
	var list []conf.Key
	for range n {
		k, err := conf.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, k.PublicKey())
	}
	return list
}

func peersOf(t *testing.T, reply string) []conf.Key {
	t.Helper()
	dev, err := wgdev.ParseUAPIGet(bufio.NewReader(strings.NewReader(reply)), "wg0")
	if err != nil {
		t.Fatalf("parsing %q: %v", reply, err)
	}
	var list []conf.Key
	for _, p := range dev.Peers {
		list = append(list, p.PublicKey)
	}
	return list
}

// TestPeersInInsertionOrder: get lists peers in the order they were added,
// across requests, removals and replace_peers, as the kernel does.
func TestPeersInInsertionOrder(t *testing.T) {
	x := newTestDevice(t)
	k := keys(t, 40)
	set := func(lines ...string) {
		t.Helper()
		if got := x("set=1\n" + strings.Join(lines, "\n") + "\n\n"); got != "errno=0\n\n" {
			t.Fatalf("set: %q", got)
		}
	}
	peer := func(key conf.Key, extra ...string) string {
		return strings.Join(append([]string{"public_key=" + key.Hex()}, extra...), "\n")
	}
	var lines []string
	for _, key := range k[:30] {
		lines = append(lines, peer(key, "allowed_ip=10.0.0.1/32"))
	}
	set(lines...)
	set(peer(k[30]), peer(k[31]))
	set(peer(k[5], "remove=true"), peer(k[7], "persistent_keepalive_interval=5"), peer(k[32], "update_only=true"))
	set(peer(k[5]))
	want := append(append(append(slices.Clone(k[:5]), k[6:30]...), k[30], k[31]), k[5])
	if got := peersOf(t, x("get=1\n\n")); !slices.Equal(got, want) {
		t.Fatalf("order after adds and a removal:\n got %v\nwant %v", got, want)
	}
	set("replace_peers=true", peer(k[35]), peer(k[34]))
	if got := peersOf(t, x("get=1\n\n")); !slices.Equal(got, []conf.Key{k[35], k[34]}) {
		t.Fatalf("order after replace_peers: %v", got)
	}
	// A failing request keeps the record in line with the device.
	if got := x("set=1\npublic_key=" + k[36].Hex() + "\nbogus=1\npublic_key=" + k[37].Hex() + "\n\n"); got == "errno=0\n\n" {
		t.Fatalf("a bad request succeeded")
	}
	set(peer(k[38]))
	got := peersOf(t, x("get=1\n\n"))
	if got[len(got)-1] != k[38] || slices.Contains(got, k[37]) {
		t.Fatalf("order after a failed request: %v", got)
	}
}

func TestSortKeepsUnknownPeers(t *testing.T) {
	o := &peerOrder{}
	o.apply([]byte("public_key=bb\npublic_key=aa\n"))
	reply := "private_key=11\nlisten_port=1\npublic_key=cc\nx=1\npublic_key=aa\ny=2\npublic_key=bb\nz=3\n"
	want := "private_key=11\nlisten_port=1\npublic_key=bb\nz=3\npublic_key=aa\ny=2\npublic_key=cc\nx=1\n"
	if got := string(o.sort([]byte(reply))); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestReadRequest(t *testing.T) {
	long := strings.Repeat("x", 10000)
	in := "a=1\n" + long + "\n\nget=1\n"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	got, err := readRequest(r)
	if err != nil || string(got) != "a=1\n"+long+"\n\n" {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	rest, _ := r.ReadString('\n')
	if rest != "get=1\n" {
		t.Fatalf("read past the request: %q", rest)
	}
}
