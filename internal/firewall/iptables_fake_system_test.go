package firewall

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeIPTables puts logging wrappers named iptables and ip6tables first in
// PATH: they append their arguments to the returned log and run the real
// iptables-nft, except that a rule with --restore-mark fails while the
// returned flag file exists.
func fakeIPTables(t *testing.T) (log, flag string) {
	t.Helper()
	dir := t.TempDir()
	log, flag = filepath.Join(dir, "log"), filepath.Join(dir, "fail")
	for _, p := range []string{"iptables", "ip6tables"} {
		real, err := exec.LookPath(p + "-nft")
		if err != nil {
			t.Skipf("%s-nft is not installed", p)
		}
		script := "#!/bin/sh\necho \"$*\" >> " + log + "\n" +
			"case \"$*\" in *restore-mark*) if [ -e " + flag + " ]; then echo '" + p + ": fake failure' >&2; exit 2; fi;; esac\n" +
			"exec " + real + " \"$@\"\n"
		if err := os.WriteFile(filepath.Join(dir, p), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	return log, flag
}

func logged(t *testing.T, log string) string {
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// TestRemoveSpawnsNothing: where iptables has no tables, looking for and
// removing rules runs no iptables program (nftables only).
func TestRemoveSpawnsNothing(t *testing.T) {
	log, _ := fakeIPTables(t)
	h := newHost(t, "fwf")
	fw := h.fw(Auto)
	if ops, err := fw.PlanRemove(ctx(t), "wg0"); len(ops) != 0 || err != nil {
		t.Fatalf("PlanRemove on a clean host = %v, %v", ops, err)
	}
	if err := fw.Install(ctx(t), Spec{"wg0", IPv4, 1, addrs("10.0.0.1")}); err != nil {
		t.Fatal(err)
	}
	if ok, err := fw.Present(ctx(t), "wg0"); !ok || err != nil {
		t.Fatalf("Present = %v %v", ok, err)
	}
	var tr trace
	if err := fw.Remove(ctx(t), "wg0", tr.add); err != nil || len(tr) != 1 {
		t.Fatalf("Remove: %v, printed %q", err, tr)
	}
	if l := logged(t, log); l != "" {
		t.Errorf("iptables was run:\n%s", l)
	}
}

// TestIPTablesInstallFailure: a rule that cannot be added fails the
// install with a message naming it, and the rules added before it are
// deleted again.
func TestIPTablesInstallFailure(t *testing.T) {
	log, flag := fakeIPTables(t)
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHost(t, "fwf")
	fw := h.fw(IPTables)
	err := fw.Install(ctx(t), Spec{"wg0", IPv4, 51820, addrs("10.0.0.2", "10.0.0.3")})
	if err == nil {
		t.Fatal("install succeeded")
	}
	for _, want := range []string{"iptables: adding to mangle: -I PREROUTING -p udp -j CONNMARK --restore-mark", "fake failure"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Logf("message: %v", err)
	if save := h.in("", "iptables-nft-save"); strings.Contains(save, "wg-quick") {
		t.Errorf("rules left:\n%s", save)
	}
	if !strings.Contains(logged(t, log), "-D POSTROUTING") {
		t.Errorf("no deletion was run:\n%s", logged(t, log))
	}
}
