package firewall

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sysctlIn(h *host) string {
	return strings.TrimSpace(h.in("", "sysctl", "-n", SrcValidMarkKey))
}

func rootValue(t *testing.T) string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/conf/all/src_valid_mark")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestSrcValidMark: set only when not 1, recorded; kept while another
// full tunnel (an interface with IPv4 rules) is up; set back by the last
// one; nothing to do when we did not change it.
func TestSrcValidMark(t *testing.T) {
	h := newHost(t, "fws")
	root := rootValue(t)
	dir := t.TempDir()
	s := SrcValidMark{NetNS: h.fd, StateDir: dir}
	fw := h.fw(Auto)
	if v, err := s.Get(); err != nil || v != "0" {
		t.Fatalf("Get() = %q, %v in a new namespace", v, err)
	}
	op, err := s.PlanEnable("wg0")
	if err != nil || op == nil {
		t.Fatalf("PlanEnable: %v %v", op, err)
	}
	if op.String() != "sysctl -q net.ipv4.conf.all.src_valid_mark=1" {
		t.Errorf("line %q", op)
	}
	if err := op.Do(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if v := sysctlIn(h); v != "1" {
		t.Fatalf("value %q after enable", v)
	}
	if rootValue(t) != root {
		t.Fatal("the root namespace's value changed")
	}
	records, _ := filepath.Glob(filepath.Join(dir, "src_valid_mark.*"))
	if len(records) != 1 {
		t.Fatalf("records %q", records)
	}
	if op, err := s.PlanEnable("wg1"); op != nil || err != nil {
		t.Errorf("PlanEnable when already 1 = %v, %v", op, err)
	}

	// Two full tunnels; wg0 goes down first.
	for _, iface := range []string{"wg0", "wg1"} {
		if err := fw.Install(ctx(t), Spec{iface, IPv4, 51820, nil}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Remove(ctx(t), "wg0", nil); err != nil {
		t.Fatal(err)
	}
	if op, err := s.PlanRestore(ctx(t), "wg0", fw); op != nil || err != nil {
		t.Fatalf("PlanRestore while wg1 is up = %v, %v", op, err)
	}
	// During a rollback the interface's own rules may still be there.
	op, err = s.PlanRestore(ctx(t), "wg1", fw)
	if err != nil || op == nil {
		t.Fatalf("PlanRestore(wg1) = %v, %v", op, err)
	}
	if op.String() != "sysctl -q net.ipv4.conf.all.src_valid_mark=0" {
		t.Errorf("line %q", op)
	}
	if err := op.Do(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if v := sysctlIn(h); v != "0" {
		t.Errorf("value %q after restore", v)
	}
	if records, _ := filepath.Glob(filepath.Join(dir, "*")); len(records) != 0 {
		t.Errorf("left %q", records)
	}
	if op, err := s.PlanRestore(ctx(t), "wg1", fw); op != nil || err != nil {
		t.Errorf("second PlanRestore = %v, %v", op, err)
	}

	// Someone else set it: we leave it.
	h.in("", "sysctl", "-q", SrcValidMarkKey+"=1")
	if op, err := s.PlanEnable("wg0"); op != nil || err != nil {
		t.Errorf("PlanEnable = %v, %v", op, err)
	}
	if op, err := s.PlanRestore(ctx(t), "wg0", fw); op != nil || err != nil {
		t.Errorf("PlanRestore without a record = %v, %v", op, err)
	}
}

// TestSrcValidMarkAcrossProcesses: the record written by one process
// (up) is found by another (down), which sets the value back.
func TestSrcValidMarkAcrossProcesses(t *testing.T) {
	h := newHost(t, "fws")
	dir := t.TempDir()
	s := SrcValidMark{NetNS: h.fd, StateDir: dir}
	op, err := s.PlanEnable("wg0")
	if err != nil || op == nil {
		t.Fatalf("PlanEnable: %v %v", op, err)
	}
	if err := op.Do(ctx(t)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "FW_HELPER_NETNS=/run/netns/"+h.Name, "FW_HELPER_STATE="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "restored: sysctl -q net.ipv4.conf.all.src_valid_mark=0") {
		t.Errorf("helper printed:\n%s", out)
	}
	if v := sysctlIn(h); v != "0" {
		t.Errorf("value %q after the other process's restore", v)
	}
}

// srcValidMarkHelper is the `down` process of
// TestSrcValidMarkAcrossProcesses: TestMain runs it instead of the tests
// when FW_HELPER_NETNS is set.
func srcValidMarkHelper(nsPath, dir string) error {
	f, err := os.Open(nsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := SrcValidMark{NetNS: int(f.Fd()), StateDir: dir}
	op, err := s.PlanRestore(c, "wg0", New(Options{NetNS: int(f.Fd())}))
	if err != nil || op == nil {
		return fmt.Errorf("PlanRestore = %v, %v", op, err)
	}
	if err := op.Do(c); err != nil {
		return err
	}
	fmt.Printf("restored: %s\n", op)
	return nil
}

// TestSrcValidMarkReadOnly: with /proc/sys read-only (as in containers)
// the error says so, and no record is left.
func TestSrcValidMarkReadOnly(t *testing.T) {
	h := newHost(t, "fws")
	h.in("", "sh", "-c", "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys")
	dir := t.TempDir()
	s := SrcValidMark{NetNS: h.fd, StateDir: dir, ProcSys: "/proc/" + h.HolderPID() + "/root/proc/sys"}
	op, err := s.PlanEnable("wg0")
	if err != nil || op == nil {
		t.Fatalf("PlanEnable: %v %v", op, err)
	}
	err = op.Do(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "is mounted read-only") || !strings.Contains(err.Error(), SrcValidMarkKey+"=1") {
		t.Fatalf("error %v", err)
	}
	t.Logf("message: %v", err)
	if records, _ := filepath.Glob(filepath.Join(dir, "*")); len(records) != 0 {
		t.Errorf("left %q", records)
	}
	if v := sysctlIn(h); v != "0" {
		t.Errorf("value %q", v)
	}
	_, err = SrcValidMark{NetNS: h.fd, ProcSys: "/nonexistent"}.Get()
	if err == nil || !strings.Contains(err.Error(), "reading "+SrcValidMarkKey+" (/nonexistent/net/ipv4/conf/all/src_valid_mark)") {
		t.Errorf("error %v", err)
	}
}

// TestSrcValidMarkStaleRecord (issue 13 §2): a record that no longer
// matches the system is dropped with a warning, never applied: the value
// is no longer the 1 we set, or the record was left by a namespace that is
// gone (another cookie with this inode number).
func TestSrcValidMarkStaleRecord(t *testing.T) {
	for _, c := range []struct {
		name  string
		stale func(t *testing.T, h *host, s SrcValidMark)
		value string // the value the drop must leave
		warn  string
	}{
		{"value-changed", func(t *testing.T, h *host, s SrcValidMark) {
			h.in("", "sysctl", "-q", "-w", SrcValidMarkKey+"=0")
		}, "0", "is 0, not the 1 wg-quick set for wg0"},
		{"namespace-gone", func(t *testing.T, h *host, s SrcValidMark) {
			id, err := s.netnsID()
			if err != nil {
				t.Fatal(err)
			}
			rec, _, err := s.readRecord(id)
			if err != nil {
				t.Fatal(err)
			}
			rec.netns.Cookie++
			if rec.netns.Cookie == 1 {
				t.Skip("this kernel has no namespace cookies (before 5.14): a gone namespace cannot be told")
			}
			if err := s.writeRecord(rec); err != nil {
				t.Fatal(err)
			}
		}, "1", "left by a network namespace that is gone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHost(t, "fws")
			dir := t.TempDir()
			var warnings []string
			s := SrcValidMark{NetNS: h.fd, StateDir: dir, Warn: func(w string) { warnings = append(warnings, w) }}
			op, err := s.PlanEnable("wg0")
			if err != nil || op == nil {
				t.Fatalf("PlanEnable: %v %v", op, err)
			}
			if err := op.Do(ctx(t)); err != nil {
				t.Fatal(err)
			}
			c.stale(t, h, s)
			op, err = s.PlanRestore(ctx(t), "wg0", h.fw(Auto))
			if err != nil || op == nil || op.String() != "" || op.Kind() != KindSysctl {
				t.Fatalf("PlanRestore = %v (line %q), %v; want a step without a line", op, op, err)
			}
			if len(warnings) != 0 {
				t.Errorf("planning warned (it must change and say nothing): %q", warnings)
			}
			if err := op.Do(ctx(t)); err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], c.warn) {
				t.Errorf("warnings %q, want one holding %q", warnings, c.warn)
			}
			if v := sysctlIn(h); v != c.value {
				t.Errorf("value %q, want %q", v, c.value)
			}
			if records, _ := filepath.Glob(filepath.Join(dir, "src_valid_mark.*")); len(records) != 0 {
				t.Errorf("records left: %q", records)
			}
		})
	}
}
