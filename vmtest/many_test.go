package vmtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// manyOpts shapes a generated configuration (see manyConfig).
type manyOpts struct {
	quick   bool // wg-quick's Address
	key     bool // a private key: every peer then costs the kernel a Curve25519 computation, which TCG makes slow
	changed bool // the file syncconf goes to
	extras  bool // every third peer a preshared key, every fifth a persistent keepalive (kernel-json.sh)
}

// manyConfig is a configuration of n peers in bench/gen.go's shape: peer i
// has its own /32 (10.SEED.H/256.H%256, H = i+1) and, for even i, a /128
// (fd00:SEED::H) too, so n + n/2 routes (n < 65535, seed < 254); each its
// own endpoint in 100.64.0.0/10 (reached through the namespace's default
// route: wg-quick's MTU lookups). The changed file has every tenth peer
// gone, every tenth from the fifth with another /32 (10.SEED+1.H/256.H%256)
// and n/20 new peers. It returns the file and what it says, as
// kernel-many.sh's ns_state reads a namespace: sorted lines "allowed KEY
// PREFIX" and "route DESTINATION" (every allowed IP is a host route).
func manyConfig(n, seed int, o manyOpts) (conf, state string) {
	var b strings.Builder
	var lines []string
	b.WriteString("[Interface]\n")
	if o.key {
		b.WriteString("PrivateKey = kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8=\n") // lib.sh's KA_PRIV
	}
	if o.quick {
		b.WriteString("Address = 10.255.255.1/32\n")
	}
	last := n
	if o.changed {
		last = n + n/20
	}
	for i := range last {
		if o.changed && i < n && i%10 == 0 {
			continue
		}
		var seedBytes [8]byte
		binary.BigEndian.PutUint32(seedBytes[:4], uint32(seed))
		binary.BigEndian.PutUint32(seedBytes[4:], uint32(i))
		sum := sha256.Sum256(seedBytes[:])
		key := base64.StdEncoding.EncodeToString(sum[:])
		h := i + 1
		ips := []string{fmt.Sprintf("10.%d.%d.%d/32", seed, h/256%256, h%256)}
		routes := []string{fmt.Sprintf("10.%d.%d.%d", seed, h/256%256, h%256)}
		if i%2 == 0 {
			ips = append(ips, fmt.Sprintf("fd00:%x::%x/128", seed, h))
			routes = append(routes, fmt.Sprintf("fd00:%x::%x", seed, h))
		}
		if o.changed && i%10 == 5 {
			ips = append(ips, fmt.Sprintf("10.%d.%d.%d/32", seed+1, h/256%256, h%256))
			routes = append(routes, fmt.Sprintf("10.%d.%d.%d", seed+1, h/256%256, h%256))
		}
		fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\nEndpoint = 100.%d.%d.%d:51820\n",
			key, strings.Join(ips, ", "), 64+h/65536, h/256%256, h%256)
		if o.extras && i%3 == 0 {
			psk := sha256.Sum256(append([]byte("psk"), seedBytes[:]...))
			fmt.Fprintf(&b, "PresharedKey = %s\n", base64.StdEncoding.EncodeToString(psk[:]))
		}
		if o.extras && i%5 == 0 {
			fmt.Fprintf(&b, "PersistentKeepalive = %d\n", 1+i%65535)
		}
		for k := range ips {
			lines = append(lines, "allowed "+key+" "+ips[k], "route "+routes[k])
		}
	}
	slices.Sort(lines)
	return b.String(), strings.Join(lines, "\n") + "\n"
}

// manyFiles writes the configurations of the many-peer checks
// (guest/checks/kernel-many.sh) and their states into dir, and returns
// guest path -> host file. Made here: the guest's busybox awk under TCG
// takes minutes for them.
func manyFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, c := range []struct {
		name    string
		n, seed int
		o       manyOpts
	}{
		{"q2000", 2000, 100, manyOpts{quick: true, key: true}},
		{"q300", 300, 101, manyOpts{quick: true, key: true}},
		{"w20000", 20000, 102, manyOpts{}},
		{"w20000-changed", 20000, 102, manyOpts{changed: true}},
		{"q20000", 20000, 103, manyOpts{quick: true}},
		{"j5000", 5000, 104, manyOpts{extras: true}},
	} {
		conf, state := manyConfig(c.n, c.seed, c.o)
		for ext, body := range map[string]string{".conf": conf, ".state": state} {
			p := filepath.Join(dir, c.name+ext)
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			files["/opt/vmtest/many/"+c.name+ext] = p
		}
	}
	return files
}

// TestManyConfig: the generated files have the shape the checks count on:
// n peers with distinct keys, n + n/2 routes, the changed file's removals,
// additions and extra allowed IPs.
func TestManyConfig(t *testing.T) {
	conf, state := manyConfig(2000, 100, manyOpts{quick: true, key: true})
	if got := strings.Count(conf, "[Peer]"); got != 2000 {
		t.Errorf("%d peers", got)
	}
	if got := strings.Count(state, "route "); got != 3000 {
		t.Errorf("%d routes", got)
	}
	keys := map[string]bool{}
	for _, l := range strings.Split(conf, "\n") {
		if k, ok := strings.CutPrefix(l, "PublicKey = "); ok {
			keys[k] = true
		}
	}
	if len(keys) != 2000 || !strings.Contains(conf, "Address = ") || !strings.Contains(conf, "PrivateKey = ") {
		t.Errorf("%d distinct keys; Address and PrivateKey in the file: %v", len(keys), strings.Count(conf, " = 10.255"))
	}
	changed, cstate := manyConfig(2000, 100, manyOpts{changed: true})
	if got := strings.Count(changed, "[Peer]"); got != 2000-200+100 {
		t.Errorf("changed: %d peers", got)
	}
	if got := strings.Count(cstate, "route 10.101."); got != 210 { // 200 old peers, 10 new
		t.Errorf("changed: %d extra allowed IPs", got)
	}
	if strings.Contains(changed, "Address") || strings.Contains(changed, "PrivateKey") {
		t.Error("a wg file with wg-quick's or a private key")
	}
	if !slices.IsSorted(strings.Split(strings.TrimSuffix(state, "\n"), "\n")) {
		t.Error("the state is not sorted")
	}
}
