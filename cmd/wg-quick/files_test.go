package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/difftest"
	"github.com/gowg/wgtools/internal/testnet"
)

// Files we write (issue 7): `wg-quick save` (and down with SaveConfig)
// writes a temporary file in the same directory with mode 0600, syncs it,
// renames it over the configuration and syncs the directory; on a full
// disk the configuration is unchanged and no temporary file is left.

const saveConf = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\n\n" +
	"[Peer]\nPublicKey = {PEERPUB}\nPresharedKey = {PSK}\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.2:51820\n"

// fullDisk mounts a 64 KiB tmpfs over the host's /etc/wireguard, puts the
// configuration in it, and returns a function that fills it up.
func fullDisk(t *testing.T, h *testnet.Host, conf string) (fill func()) {
	h.MustRun("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "wgfull", "/etc/wireguard")
	h.WriteFile(confPath, []byte(fillKeys(conf)), 0o600)
	return func() {
		// dd fails when the disk is full, which is the point.
		h.Run("dd", "if=/dev/zero", "of=/etc/wireguard/filler", "bs=4k")
		if r := h.Run("sh", "-c", "echo x > /etc/wireguard/probe"); r.Code == 0 {
			t.Fatal("the small tmpfs is not full")
		}
		h.Run("rm", "-f", "/etc/wireguard/probe")
	}
}

func TestSaveFullDisk(t *testing.T) {
	testnet.Require(t)
	a, _ := twoPeers(t)
	fill := fullDisk(t, a, saveConf)
	mustQuick(t, a, "up", "wg0")
	mustQuick(t, a, "save", "wg0") // room enough: it works
	a.MustRun(wgBin(t), "set", "wg0", "listen-port", "51999")
	fill()
	original := a.ReadFile(confPath)
	listing := a.MustRun("ls", "-a", "/etc/wireguard")
	state := fullState(t, a, "wg0")

	r := wgQuick(t, a, "save", "wg0")
	if r.Code != 1 || r.Stderr != "[#] wg showconf wg0\nwg-quick: Could not write configuration file\n" {
		t.Errorf("save on a full disk: exit %d\n%s", r.Code, r.Stderr)
	}
	if got := a.ReadFile(confPath); got != original {
		t.Errorf("the configuration changed:\n%s", got)
	}
	if got := a.MustRun("ls", "-a", "/etc/wireguard"); got != listing {
		t.Errorf("files left in /etc/wireguard:\n%s\nbefore:\n%s", got, listing)
	}
	// down with SaveConfig: the save fails, so down stops before changing
	// anything (as the reference's set -e does).
	a.WriteFile("/run/wg1.conf", []byte(strings.Replace(original, "[Interface]\n", "[Interface]\nSaveConfig = true\n", 1)), 0o600)
	a.MustRun("sh", "-c", "rm /etc/wireguard/filler && cp /run/wg1.conf /etc/wireguard/wg0.conf && chmod 600 /etc/wireguard/wg0.conf")
	fill()
	withSave := a.ReadFile(confPath)
	listing2 := a.MustRun("ls", "-a", "/etc/wireguard")
	r = wgQuick(t, a, "down", "wg0")
	if r.Code != 1 || r.Stderr != "[#] wg showconf wg0\nwg-quick: Could not write configuration file\n" {
		t.Errorf("down with SaveConfig on a full disk: exit %d\n%s", r.Code, r.Stderr)
	}
	if got := a.ReadFile(confPath); got != withSave {
		t.Errorf("the configuration changed:\n%s", got)
	}
	if got := a.MustRun("ls", "-a", "/etc/wireguard"); got != listing2 {
		t.Errorf("files left in /etc/wireguard:\n%s\nbefore:\n%s", got, listing2)
	}
	if got := fullState(t, a, "wg0"); got != state {
		t.Errorf("the host changed:\n%s", difftest.Lines(state, got))
	}
	// With room again, save works: 0600, the running port.
	a.MustRun("rm", "/etc/wireguard/filler")
	mustQuick(t, a, "save", "wg0")
	if m := fileMode(t, a, confPath); m != 0o600 {
		t.Errorf("saved with mode %o", m)
	}
	if saved := a.ReadFile(confPath); !strings.Contains(saved, "ListenPort = 51999\n") || !strings.Contains(saved, "SaveConfig = true\n") {
		t.Errorf("saved:\n%s", saved)
	}
	if got := a.MustRun("ls", "-a", "/etc/wireguard"); got != ".\n..\nwg0.conf\n" {
		t.Errorf("/etc/wireguard holds:\n%s", got)
	}
}

// TestSaveFullDiskFirst: the very first write already fails (nothing
// saved before): the original is unchanged, no temporary file.
func TestSaveFullDiskFirst(t *testing.T) {
	testnet.Require(t)
	a, _ := twoPeers(t)
	fill := fullDisk(t, a, saveConf)
	mustQuick(t, a, "up", "wg0")
	fill()
	original := a.ReadFile(confPath)
	listing := a.MustRun("ls", "-a", "/etc/wireguard")
	r := wgQuick(t, a, "save", "wg0")
	if r.Code != 1 || !strings.HasSuffix(r.Stderr, "wg-quick: Could not write configuration file\n") {
		t.Errorf("save: exit %d\n%s", r.Code, r.Stderr)
	}
	if got := a.ReadFile(confPath); got != original {
		t.Errorf("the configuration changed")
	}
	if got := a.MustRun("ls", "-a", "/etc/wireguard"); got != listing {
		t.Errorf("files left:\n%s\nbefore:\n%s", got, listing)
	}
}

// TestSaveIsAtomic: the system calls of save, traced: the temporary file
// is created exclusively with mode 0600 beside the configuration, synced,
// renamed over it, and the directory is synced after.
func TestSaveIsAtomic(t *testing.T) {
	testnet.Require(t)
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("strace is not installed")
	}
	a, _ := twoPeers(t)
	a.WriteFile(confPath, []byte(fillKeys(saveConf)), 0o600)
	mustQuick(t, a, "up", "wg0")
	r := a.RunEnv(quickEnv(t), "strace", "-f", "-o", "/run/save.trace", "-e", "trace=openat,fchmod,write,fsync,fdatasync,close,rename,renameat,renameat2,unlink,unlinkat",
		binaries(t)+"/wg-quick", "save", "wg0")
	if r.Code != 0 {
		t.Fatalf("save: exit %d\n%s", r.Code, r.Stderr)
	}
	trace := a.ReadFile("/run/save.trace")
	// The calls on the temporary file and the directory, in order.
	create := regexp.MustCompile(`openat\(AT_FDCWD, "(/etc/wireguard/\.wg0\.conf\.tmp-\d+)", O_RDWR\|O_CREAT\|O_EXCL\|O_CLOEXEC, 0600\) = (\d+)`)
	m := create.FindStringSubmatch(trace)
	if m == nil {
		t.Fatalf("no exclusive creation of a temporary file with mode 0600:\n%s", trace)
	}
	tmp, fd := m[1], m[2]
	steps := []*regexp.Regexp{
		create,
		regexp.MustCompile(`write\(` + fd + `, "\[Interface\]`),
		regexp.MustCompile(`fsync\(` + fd + `\)\s*= 0`),
		regexp.MustCompile(`close\(` + fd + `\)\s*= 0`),
		regexp.MustCompile(`rename(at2?)?\((AT_FDCWD, )?"` + regexp.QuoteMeta(tmp) + `", (AT_FDCWD, )?"/etc/wireguard/wg0\.conf"`),
		regexp.MustCompile(`openat\(AT_FDCWD, "/etc/wireguard", O_RDONLY\|O_CLOEXEC\) = (\d+)`),
	}
	rest := trace
	var dirFD string
	for i, re := range steps {
		loc := re.FindStringSubmatchIndex(rest)
		if loc == nil {
			t.Fatalf("step %d (%s) missing or out of order in:\n%s", i, re, trace)
		}
		if i == len(steps)-1 {
			dirFD = rest[loc[2]:loc[3]]
		}
		rest = rest[loc[1]:]
	}
	if !regexp.MustCompile(`fsync\(` + dirFD + `\)\s*= 0`).MatchString(rest) {
		t.Errorf("the directory is not synced after the rename:\n%s", trace)
	}
	if m := fileMode(t, a, confPath); m != 0o600 {
		t.Errorf("mode %o", m)
	}
}

// TestGenkeyFullDisk: `wg genkey > FILE` on a full disk fails and says so
// (the reference's buffered write fails silently and exits 0).
func TestGenkeyFullDisk(t *testing.T) {
	testnet.Require(t)
	h := testnet.NewHost(t, "wggf")
	fill := fullDisk(t, h, saveConf)
	fill()
	for _, verb := range []string{"genkey", "genpsk"} {
		r := runStdin(t, h, quickEnv(t), "", "sh", "-c", "umask 077; wg "+verb+" > /etc/wireguard/key")
		if r.Code != 1 || r.Stderr != verb+": No space left on device\n" {
			t.Errorf("wg %s on a full disk: exit %d, %q", verb, r.Code, r.Stderr)
		}
	}
}
