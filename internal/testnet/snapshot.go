package testnet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SnapshotSysctls are the sysctls a Snapshot records: the ones wg-quick
// (and its usual hooks) may change.
var SnapshotSysctls = []string{
	"net.ipv4.ip_forward",
	"net.ipv4.conf.all.src_valid_mark",
	"net.ipv4.conf.all.rp_filter",
	"net.ipv6.conf.all.forwarding",
	"net.ipv6.conf.all.disable_ipv6",
}

// Snapshot renders the host's state as text, section by section: links
// (ip -d link), addresses, the routes of every table, the rules, the
// nftables ruleset, iptables-save and ip6tables-save, the sysctls of
// SnapshotSysctls, the listing of /run/wireguard, and the processes
// running in the namespace (other than the host's own holder). Values
// that change by themselves are masked: packet and byte counters, and the
// "tentative" flag of addresses whose duplicate detection is running.
// Two snapshots of an untouched host are equal. A command that fails (a
// tool missing) fails the test.
func (h *Host) Snapshot() string {
	h.t.Helper()
	h.settle()
	var b strings.Builder
	section := func(title string, out string) {
		fmt.Fprintf(&b, "### %s\n%s", title, out)
		if out != "" && !strings.HasSuffix(out, "\n") {
			b.WriteByte('\n')
		}
	}
	// A command that fails would put the same error text in both
	// snapshots of a comparison, which would then agree having compared
	// nothing: it fails the test instead.
	run := func(name string, args ...string) string {
		r := h.Run(name, args...)
		if r.Code != 0 {
			h.t.Fatalf("snapshot of %s: %s %s: exit %d\n%s%s", h.Name, name, strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
		}
		return r.Stdout + r.Stderr
	}
	section("ip -d link", run("ip", "-d", "link"))
	section("ip address", run("ip", "address"))
	section("ip -4 route show table all", run("ip", "-4", "route", "show", "table", "all"))
	section("ip -6 route show table all", run("ip", "-6", "route", "show", "table", "all"))
	section("ip -4 rule", run("ip", "-4", "rule"))
	section("ip -6 rule", run("ip", "-6", "rule"))
	section("nft list ruleset", run("nft", "list", "ruleset"))
	section("iptables-save", dropComments(run("iptables-save")))
	section("ip6tables-save", dropComments(run("ip6tables-save")))
	section("sysctl", run("sysctl", SnapshotSysctls...))
	section("ls -a /run/wireguard", run("ls", "-a", "/run/wireguard"))
	section("processes", h.processes())
	return maskVolatile(b.String())
}

// settle waits (up to three seconds) for IPv6 duplicate address detection
// to finish, so that addresses and their local routes are complete.
func (h *Host) settle() {
	for range 60 {
		if strings.TrimSpace(h.Run("ip", "-6", "address", "show", "tentative").Stdout) == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\[\d+:\d+\]`), "[N:N]"},
	{regexp.MustCompile(`counter packets \d+ bytes \d+`), "counter packets N bytes N"},
	{regexp.MustCompile(` tentative`), ""},
}

func maskVolatile(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

func dropComments(s string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// processes lists the command lines of the processes in the namespace
// other than the holder, sorted.
func (h *Host) processes() string {
	out, _ := exec.Command("ip", "netns", "pids", h.Name).Output()
	var list []string
	for _, f := range strings.Fields(string(out)) {
		if f == h.pid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", f, "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		list = append(list, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	slices.Sort(list)
	if len(list) == 0 {
		return ""
	}
	return strings.Join(list, "\n") + "\n"
}

// PIDs lists the processes running in the namespace other than the holder.
func (h *Host) PIDs() []int {
	out, _ := exec.Command("ip", "netns", "pids", h.Name).Output()
	var list []int
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.Atoi(f); err == nil && f != h.pid() {
			list = append(list, n)
		}
	}
	return list
}

// ReadFile reads a file inside the host's mount namespace.
func (h *Host) ReadFile(path string) string {
	h.t.Helper()
	data, err := os.ReadFile(h.Path(path))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(data)
}
