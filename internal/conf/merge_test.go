package conf

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gowg/wgtools/internal/difftest"
)

// testHosts are the host names the save cases use (the system test gives
// its host the same /etc/hosts lines).
var testHosts = map[string]string{"gateway.example": "192.0.2.10"}

func testOptions() *Options {
	return &Options{Resolver: ResolverFunc(func(host string) (netip.Addr, error) {
		if a, ok := testHosts[host]; ok {
			return netip.MustParseAddr(a), nil
		}
		return netip.Addr{}, &ResolveError{Msg: "Name or service not known", Permanent: true}
	})}
}

// SaveState is the state MergeSaved gets from wg-quick's save: what the
// reference's save wrote (saved, as parsed), with the file's DNS search
// domains (the reference loses them; save keeps them) and hooks.
func SaveState(t testing.TB, file, saved []byte) *Config {
	t.Helper()
	f, err := ParseQuick("file.conf", file, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseQuick("saved.conf", saved, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	// As wg-quick's save: the search domains, Table, SaveConfig and hooks
	// are the file's (Debian's reference cuts hooks at '#').
	si, fi := &s.Config.Interface, &f.Config.Interface
	si.DNSSearch = fi.DNSSearch
	si.Table, si.SaveConfig = fi.Table, fi.SaveConfig
	si.PreUp, si.PostUp, si.PreDown, si.PostDown = fi.PreUp, fi.PostUp, fi.PreDown, fi.PostDown
	return &s.Config
}

// TestMergeSaved: each case of testdata/save is a file (file.conf), what
// the reference's save wrote for it after the device changed (saved.conf,
// from a run of the reference: see TestSaveKeepsTheFile in cmd/wg-quick,
// which checks both against the reference and refreshes them), and what
// our save writes (want.conf). The result must also read as the same
// configuration as the reference's.
func TestMergeSaved(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/save/*")
	if len(dirs) == 0 {
		t.Fatal("no cases in testdata/save")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			file, err := os.ReadFile(filepath.Join(dir, "file.conf"))
			if err != nil {
				t.Fatal(err)
			}
			saved, err := os.ReadFile(filepath.Join(dir, "saved.conf"))
			if err != nil {
				t.Fatal(err)
			}
			state := SaveState(t, file, saved)
			got, err := MergeSaved("file.conf", file, state)
			if err != nil {
				t.Fatal(err)
			}
			wantPath := filepath.Join(dir, "want.conf")
			if *update {
				os.WriteFile(wantPath, got, 0o644)
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("merged (-want +got):\n%s", difftest.Lines(string(want), string(got)))
			}
			back, err := ParseQuick("merged.conf", got, testOptions())
			if err != nil {
				t.Fatalf("the merged file does not parse: %v\n%s", err, got)
			}
			if a, b := Canonical(state), Canonical(&back.Config); a != b {
				t.Errorf("the merged file configures (-) otherwise than the state (+):\n%s", difftest.Lines(b, a))
			}
		})
	}
}

// TestMergeSavedShapes: cases too small for a golden directory.
func TestMergeSavedShapes(t *testing.T) {
	const k = "gD3kFOj5l/Dhc3+PLm7XDdnZQ671fFF/6sJ5Kl9/t14="
	const a = "yPZlBuHuQeafSkgriHZSeXcGnIqGXn06bI3aKUPCG2Y="
	const b = "mHm+DSndWxeV/HZrhHRdnEzVDwWi4tZSfoMgRrBI2Gk="
	for _, c := range []struct {
		name, file, saved, want string
	}{
		{"no-final-newline-kept-text",
			"[Interface]\nPrivateKey = " + k + "\nListenPort = 1",
			"[Interface]\nListenPort = 1\nPrivateKey = " + k + "\n",
			"[Interface]\nPrivateKey = " + k + "\nListenPort = 1\n"},
		{"no-interface-section",
			"[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8\n",
			"[Interface]\nListenPort = 7\n\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8\n",
			"[Interface]\nListenPort = 7\n\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8\n"},
		{"last-peer-removed",
			"[Interface]\nListenPort = 1\n\n[Peer]\nPublicKey = " + a + "\n\n# b\n[Peer]\nPublicKey = " + b + "\n",
			"[Interface]\nListenPort = 1\n\n[Peer]\nPublicKey = " + a + "\n",
			"[Interface]\nListenPort = 1\n\n[Peer]\nPublicKey = " + a + "\n"},
		{"duplicate-peer-merged-into-the-first",
			"[Interface]\nListenPort = 1\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.1.0.0/16\n",
			"[Interface]\nListenPort = 1\n\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8, 10.1.0.0/16\n",
			"[Interface]\nListenPort = 1\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8, 10.1.0.0/16\n"},
		{"incremental-allowed-ips-written-out",
			"[Interface]\nListenPort = 1\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = +10.0.0.0/8\n",
			"[Interface]\nListenPort = 1\n\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8\n",
			"[Interface]\nListenPort = 1\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8\n"},
		{"host-bits-and-duplicates-kept",
			"[Interface]\nListenPort = 1\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.1/8, 10.0.0.0/8\n",
			"[Interface]\nListenPort = 1\n\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.0/8\n",
			"[Interface]\nListenPort = 1\n[Peer]\nPublicKey = " + a + "\nAllowedIPs = 10.0.0.1/8, 10.0.0.0/8\n"},
		{"crlf-value-rewritten",
			"[Interface]\r\nListenPort = 1 # port\r\n",
			"[Interface]\nListenPort = 2\n",
			"[Interface]\r\nListenPort = 2 # port\r\n"},
		{"mtu-and-address-lines",
			"[Interface]\nMTU = 1420\nAddress = 10.0.0.1/24, 10.0.0.2/24 # two\nAddress = fd00::1/64\nListenPort = 1\n",
			"[Interface]\nAddress = 10.0.0.2/24\nAddress = 10.9.0.1/24\nMTU = 1380\nListenPort = 1\n",
			"[Interface]\nMTU = 1380\nAddress = 10.0.0.2/24 # two\nAddress = 10.9.0.1/24\nListenPort = 1\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			state := SaveState(t, []byte(c.file), []byte(c.saved))
			got, err := MergeSaved("f.conf", []byte(c.file), state)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
			back, err := ParseQuick("merged.conf", got, testOptions())
			if err != nil {
				t.Fatalf("does not parse: %v", err)
			}
			if a, b := Canonical(state), Canonical(&back.Config); a != b {
				t.Errorf("configures otherwise (-want +got):\n%s", difftest.Lines(a, b))
			}
		})
	}
}
