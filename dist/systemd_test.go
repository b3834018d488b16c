package dist

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// analyzeVerify runs systemd-analyze verify on units, with man pages looked
// up in manpath (the unit's Documentation=man: lines are checked).
func analyzeVerify(manpath string, units ...string) (string, error) {
	cmd := exec.Command("systemd-analyze", append([]string{"verify"}, units...)...)
	cmd.Env = append(os.Environ(), "MANPATH="+manpath, "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestSystemdUnitsVerify installs into a temporary PREFIX (no DESTDIR, so
// the unit's ExecStart/ExecStop/ExecReload paths are the real installed
// binaries) and runs `systemd-analyze verify` on an instance of
// wg-quick@.service and on wg-quick.target, with MANPATH pointing at the
// installed man pages. Any message fails the test.
func TestSystemdUnitsVerify(t *testing.T) {
	need(t, "systemd-analyze", "make", "install", "sed", "man")
	// Can systemd-analyze verify at all here? A unit that must pass tells.
	probe := t.TempDir()
	ok := filepath.Join(probe, "wgtools-probe.service")
	if err := os.WriteFile(ok, []byte("[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := analyzeVerify("", ok); err != nil || out != "" {
		t.Skipf("systemd-analyze verify cannot run here (a valid unit gave %v: %s)", err, strings.TrimSpace(out))
	}

	prefix := t.TempDir()
	unitDir := filepath.Join(prefix, "lib/systemd/system")
	vars := []string{
		"PREFIX=" + prefix, "DESTDIR=", "SYSCONFDIR=" + filepath.Join(prefix, "etc"),
		"SYSTEMDUNITDIR=" + unitDir, "BASHCOMPDIR=" + filepath.Join(prefix, "share/bash-completion/completions"),
		"WITH_SYSTEMDUNITS=yes", "WITH_WGQUICK=yes", "VERSION=" + testVersion,
	}
	runMake(t, append([]string{"install"}, vars...)...)
	unit, err := os.ReadFile(filepath.Join(unitDir, "wg-quick@.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart="+prefix+"/bin/wg-quick up %i\n") {
		t.Fatalf("the installed unit does not run the installed wg-quick:\n%s", unit)
	}
	manpath := filepath.Join(prefix, "share/man")
	out, err := analyzeVerify(manpath, filepath.Join(unitDir, "wg-quick@wg0.service"), filepath.Join(unitDir, "wg-quick.target"),
		filepath.Join(unitDir, "wg-quick-reresolve@wg0.timer"), filepath.Join(unitDir, "wg-quick-reresolve@wg0.service"))
	if err != nil || out != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	reresolve, err := os.ReadFile(filepath.Join(unitDir, "wg-quick-reresolve@.service"))
	if err != nil || !strings.Contains(string(reresolve), "ExecStart="+prefix+"/bin/wg-quick reresolve %i\n") {
		t.Fatalf("the installed reresolve unit does not run the installed wg-quick (%v):\n%s", err, reresolve)
	}

	// The check has teeth: a timer with a bad interval is reported, and
	// so is a man page that is not there.
	timer := filepath.Join(unitDir, "wg-quick-reresolve@.timer")
	data, _ := os.ReadFile(timer)
	os.WriteFile(timer, []byte(strings.Replace(string(data), "OnUnitActiveSec=30s", "OnUnitActiveSec=thirty", 1)), 0o644)
	if out, err := analyzeVerify(manpath, filepath.Join(unitDir, "wg-quick-reresolve@wg0.timer")); err == nil && out == "" {
		t.Errorf("systemd-analyze verify did not notice the timer's bad interval")
	}
	os.Remove(filepath.Join(manpath, "man8/wg.8"))
	if out, err := analyzeVerify(manpath, filepath.Join(unitDir, "wg-quick@wg0.service")); err == nil && out == "" {
		t.Errorf("systemd-analyze verify did not notice the missing wg(8)")
	}
}

// TestSystemdUnitContents: what the unit must say, as the reference's unit
// says it.
func TestSystemdUnitContents(t *testing.T) {
	data, err := os.ReadFile("systemd/wg-quick@.service.in")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string][]string{}
	var section string
	for _, l := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(l, "["):
			section = l
		case l != "":
			sections[section] = append(sections[section], l)
		}
	}
	want := map[string][]string{
		"[Unit]": {
			"Description=WireGuard via wg-quick(8) for %I",
			"Before=wg-quick.target",
			"After=network-online.target nss-lookup.target",
			"Wants=network-online.target nss-lookup.target",
			"PartOf=wg-quick.target",
			"Documentation=man:wg-quick(8)",
			"Documentation=man:wg(8)",
		},
		"[Service]": {
			"Type=oneshot",
			"RemainAfterExit=yes",
			"ExecStart=@BINDIR@/wg-quick up %i",
			"ExecStop=@BINDIR@/wg-quick down %i",
			"ExecReload=/bin/bash -c 'exec @BINDIR@/wg syncconf %i <(exec @BINDIR@/wg-quick strip %i)'",
			"Environment=WG_ENDPOINT_RESOLUTION_RETRIES=infinity",
		},
		"[Install]": {"WantedBy=multi-user.target wg-quick.target"},
	}
	for sec, lines := range want {
		have := " \n" + strings.Join(sections[sec], "\n") + "\n"
		for _, l := range lines {
			if !strings.Contains(have, "\n"+l+"\n") {
				t.Errorf("%s lacks %q", sec, l)
			}
		}
	}
	for file, lines := range map[string][]string{
		"systemd/wg-quick-reresolve@.timer": {"[Timer]", "OnActiveSec=30s", "OnUnitActiveSec=30s", "[Install]", "WantedBy=timers.target"},
		"systemd/wg-quick-reresolve@.service.in": {"Type=oneshot", "ExecStart=@BINDIR@/wg-quick reresolve %i",
			"After=wg-quick@%i.service", "ConditionPathExists=/sys/class/net/%i"},
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if !strings.Contains("\n"+string(data), "\n"+l+"\n") {
				t.Errorf("%s lacks %q", file, l)
			}
		}
	}
	target, err := os.ReadFile("systemd/wg-quick.target")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(target), "\nDescription=WireGuard Tunnels via wg-quick(8)\n") {
		t.Errorf("wg-quick.target:\n%s", target)
	}
}
