package dist

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// A runnable block of the README: a fence right after a marker
//
//	<!-- runnable: host=a,b [dir=clone] [file=PATH | edit=PATH section=NAME] -->
//
// A plain block is a shell script run on each host in turn (in the clone
// of the repository with dir=clone, else in /root); file= writes the block
// as that file; edit= merges its `Key = value` lines into that section of
// the file (a key of the block replaces the file's lines of that key in the
// section; the block's lines go at the section's end). In file and edit
// blocks, X_PRIVATE_KEY and X_PUBLIC_KEY stand for host X's
// /etc/wireguard/privatekey and publickey, as the README tells its reader
// to fill them in.
type readmeBlock struct {
	line                     int
	hosts                    []string
	dir, file, edit, section string
	body                     string
}

var markerRE = regexp.MustCompile(`^<!-- runnable: (.*) -->$`)

func parseReadme(t *testing.T, text string) []readmeBlock {
	t.Helper()
	lines := strings.Split(text, "\n")
	var blocks []readmeBlock
	for i := 0; i < len(lines); i++ {
		m := markerRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		b := readmeBlock{line: i + 1}
		for _, kv := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "host":
				b.hosts = strings.Split(v, ",")
			case "dir":
				b.dir = v
			case "file":
				b.file = v
			case "edit":
				b.edit = v
			case "section":
				b.section = v
			default:
				t.Fatalf("README.md:%d: unknown marker attribute %q", i+1, k)
			}
		}
		if len(b.hosts) == 0 || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("README.md:%d: a runnable marker needs host= and a fence on the next line", i+1)
		}
		var body []string
		j := i + 2
		for ; j < len(lines) && lines[j] != "```"; j++ {
			body = append(body, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("README.md:%d: the fence is not closed", i+1)
		}
		b.body = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, b)
		i = j
	}
	return blocks
}

var keyRE = regexp.MustCompile(`\b([A-Z])_(PRIVATE|PUBLIC)_KEY\b`)

// editSection merges the block's lines into section of an INI text.
func editSection(t *testing.T, text, section, block string) string {
	t.Helper()
	var adds []string
	keys := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		k, _, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("edit block line %q is not Key = value", l)
		}
		keys[strings.ToLower(strings.TrimSpace(k))] = true
		adds = append(adds, l)
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	start := slices.Index(lines, "["+section+"]")
	if start < 0 {
		t.Fatalf("no [%s] section in\n%s", section, text)
	}
	end := start + 1
	for end < len(lines) && !strings.HasPrefix(lines[end], "[") {
		end++
	}
	var kept []string
	for _, l := range lines[start+1 : end] {
		k, _, _ := strings.Cut(l, "=")
		if !keys[strings.ToLower(strings.TrimSpace(k))] {
			kept = append(kept, l)
		}
	}
	for len(kept) > 0 && strings.TrimSpace(kept[len(kept)-1]) == "" {
		kept = kept[:len(kept)-1]
	}
	sec := append(append(kept, adds...), "")
	if end == len(lines) {
		sec = sec[:len(sec)-1]
	}
	out := append(append(append([]string{}, lines[:start+1]...), sec...), lines[end:]...)
	return strings.Join(out, "\n") + "\n"
}

func TestEditSection(t *testing.T) {
	in := "[Interface]\nAddress = 10.0.0.1/24\n\n[Peer]\nPublicKey = K\nAllowedIPs = 10.0.0.2/32\n"
	got := editSection(t, in, "Interface", "PostUp = a\nPostUp = b\n")
	want := "[Interface]\nAddress = 10.0.0.1/24\nPostUp = a\nPostUp = b\n\n[Peer]\nPublicKey = K\nAllowedIPs = 10.0.0.2/32\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got = editSection(t, in, "Peer", "AllowedIPs = 10.0.0.2/32, 192.168.1.0/24\n")
	want = "[Interface]\nAddress = 10.0.0.1/24\n\n[Peer]\nPublicKey = K\nAllowedIPs = 10.0.0.2/32, 192.168.1.0/24\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// sudoShim is `sudo` as the README's reader has it: root, with Debian's
// default secure_path (no Go in it). The test runs as root already, so
// `sudo -i` ("the rest as root") changes nothing.
const sudoShim = `#!/bin/sh
if [ "$1" = -i ] && [ $# = 1 ]; then exit 0; fi
exec env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
`

// readmeHost is a test host whose /usr is an overlay of the machine's (so
// that `make install` there installs for that host alone) with sudo.
func readmeHost(t *testing.T, prefix string) *testnet.Host {
	h := testnet.NewHost(t, prefix)
	h.MustRun("mkdir", "-p", "/run/usr.upper", "/run/usr.work", "/run/readme-bin")
	h.MustRun("mount", "-t", "overlay", "overlay", "-o", "lowerdir=/usr,upperdir=/run/usr.upper,workdir=/run/usr.work", "/usr")
	h.WriteFile("/run/readme-bin/sudo", []byte(sudoShim), 0o755)
	return h
}

// TestReadme runs the README's runnable blocks as its reader would, on two
// test hosts A (192.0.2.1) and B, with A's LAN (192.168.1.0/24 on A's
// eth0, a host at 192.168.1.123) behind it: install from the clone, keys,
// the two configurations, up, ping, wg show, down, then the LAN variant.
// Then it checks the "When traffic does not flow" table on A: each
// command shows what the table says while the LAN is reached, and with
// that one thing broken the LAN host no longer answers and the command
// no longer shows it.
func TestReadme(t *testing.T) {
	testnet.Require(t)
	need(t, "make", "ping", "iptables", "mount")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not installed")
	}
	text, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := parseReadme(t, string(text))
	if len(blocks) < 10 {
		t.Fatalf("README.md has %d runnable blocks; the quick start alone has more", len(blocks))
	}

	hosts := map[string]*testnet.Host{"a": readmeHost(t, "wgrd-a"), "b": readmeHost(t, "wgrd-b")}
	lan := testnet.NewHost(t, "wgrd-lan")
	testnet.Connect(t, hosts["a"], hosts["b"], "wan0")
	hosts["a"].MustRun("ip", "addr", "add", "192.0.2.1/24", "dev", "wan0")
	hosts["b"].MustRun("ip", "addr", "add", "192.0.2.2/24", "dev", "wan0")
	testnet.Connect(t, hosts["a"], lan, "eth0")
	hosts["a"].MustRun("ip", "addr", "add", "192.168.1.1/24", "dev", "eth0")
	lan.MustRun("ip", "addr", "add", "192.168.1.123/24", "dev", "eth0")

	env := []string{
		"PATH=/run/readme-bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:" + filepath.Dir(goBin),
		"HOME=/root", "LC_ALL=C", "GOTOOLCHAIN=local", "GOPROXY=off",
	}
	for _, name := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		if v := strings.TrimSpace(run(t, "", nil, "go", "env", name)); v != "" {
			env = append(env, name+"="+v)
		}
	}
	keyOf := func(host, kind string) string {
		h, ok := hosts[strings.ToLower(host)]
		if !ok {
			t.Fatalf("no host %s for %s_%s_KEY", host, host, kind)
		}
		data, err := os.ReadFile(h.Path("/etc/wireguard/" + strings.ToLower(kind) + "key"))
		if err != nil {
			t.Fatalf("%s_%s_KEY: %v", host, kind, err)
		}
		return strings.TrimSpace(string(data))
	}
	fill := func(s string) string {
		return keyRE.ReplaceAllStringFunc(s, func(m string) string {
			sm := keyRE.FindStringSubmatch(m)
			return keyOf(sm[1], sm[2])
		})
	}
	shBlocks := 0
	for _, b := range blocks {
		for _, name := range b.hosts {
			h, ok := hosts[name]
			if !ok {
				t.Fatalf("README.md:%d: no host %q", b.line, name)
			}
			switch {
			case b.file != "":
				h.WriteFile(b.file, []byte(fill(b.body)), 0o600)
			case b.edit != "":
				old, err := os.ReadFile(h.Path(b.edit))
				if err != nil {
					t.Fatalf("README.md:%d: %v", b.line, err)
				}
				h.WriteFile(b.edit, []byte(editSection(t, string(old), b.section, fill(b.body))), 0o600)
			default:
				shBlocks++
				dir := "/root"
				if b.dir == "clone" {
					dir = srcCopy
				}
				r := h.RunEnv(env, "bash", "-e", "-o", "pipefail", "-c", "cd "+dir+"\n"+b.body)
				if r.Code != 0 {
					t.Fatalf("README.md:%d on host %s: exit %d\n%s\nstdout:\n%s\nstderr:\n%s", b.line, name, r.Code, b.body, r.Stdout, r.Stderr)
				}
				t.Logf("README.md:%d on host %s:\n%s%s", b.line, name, r.Stdout, r.Stderr)
				if strings.Contains(b.body, "wg --version") && !strings.Contains(r.Stdout, "wgtools ") {
					t.Fatalf("README.md:%d: the wg installed on host %s is not ours:\n%s", b.line, name, r.Stdout)
				}
			}
		}
	}
	if shBlocks < 8 {
		t.Errorf("only %d shell blocks ran", shBlocks)
	}

	checkTrafficTable(t, string(text), hosts["a"], hosts["b"], env)
}

// checkTrafficTable checks the three rows of "When traffic does not flow"
// on the forwarding host a, with the LAN variant up.
func checkTrafficTable(t *testing.T, readme string, a, b *testnet.Host, env []string) {
	t.Helper()
	_, section, ok := strings.Cut(readme, "## When traffic does not flow\n")
	if !ok {
		t.Fatal("README.md has no \"When traffic does not flow\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	if !strings.Contains(section, "`wg-quick doctor IFACE`") {
		t.Error("the section does not point to wg-quick doctor IFACE")
	}
	code := regexp.MustCompile("`([^`]+)`")
	type row struct {
		command string
		shows   []string
	}
	var rows []row
	for _, l := range strings.Split(section, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) != 5 || strings.Contains(l, "---") || strings.TrimSpace(cells[1]) == "check" {
			continue
		}
		cmd := code.FindStringSubmatch(cells[2])
		var shows []string
		for _, m := range code.FindAllStringSubmatch(cells[3], -1) {
			shows = append(shows, m[1])
		}
		if cmd == nil || len(shows) == 0 {
			t.Fatalf("unreadable row: %s", l)
		}
		rows = append(rows, row{cmd[1], shows})
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows in the table, want the three checks", len(rows))
	}
	for _, h := range []*testnet.Host{a, b} {
		if r := h.RunEnv(env, "wg-quick", "up", "wg0"); r.Code != 0 {
			t.Fatalf("wg-quick up wg0 on %s: %d\n%s", h.Name, r.Code, r.Stderr)
		}
	}
	defer func() {
		for _, h := range []*testnet.Host{a, b} {
			h.RunEnv(env, "wg-quick", "down", "wg0")
		}
	}()
	reached := func(tries int) bool {
		for range tries {
			if b.Run("ping", "-c", "1", "-W", "1", "192.168.1.123").Code == 0 {
				return true
			}
		}
		return false
	}
	shows := func(r row) bool {
		out := a.Sh(r.command + " 2>&1").Stdout
		for _, s := range r.shows {
			if strings.Contains(out, s) {
				return true
			}
		}
		return false
	}
	if !reached(10) {
		t.Fatal("the LAN host does not answer with the LAN variant up")
	}
	// What breaks each check, and what mends it.
	breaks := []struct{ name, brk, mend string }{
		{"IP forwarding", "sysctl -q -w net.ipv4.ip_forward=0", "sysctl -q -w net.ipv4.ip_forward=1"},
		{"FORWARD policy", "iptables -P FORWARD DROP && iptables -D FORWARD -i wg0 -j ACCEPT && iptables -D FORWARD -o wg0 -j ACCEPT",
			"iptables -A FORWARD -i wg0 -j ACCEPT && iptables -A FORWARD -o wg0 -j ACCEPT && iptables -P FORWARD ACCEPT"},
		{"masquerade", "iptables -t nat -D POSTROUTING -s 10.0.0.0/24 -o eth0 -j MASQUERADE",
			"iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o eth0 -j MASQUERADE"},
	}
	for i, r := range rows {
		if !shows(r) {
			t.Errorf("%s on A does not show %q while the LAN is reached:\n%s", r.command, r.shows, a.Sh(r.command+" 2>&1").Stdout)
		}
		a.MustRun("sh", "-c", breaks[i].brk)
		if reached(2) {
			t.Errorf("the LAN host answers without %s", breaks[i].name)
		}
		if shows(r) {
			t.Errorf("%s still shows %q without %s", r.command, r.shows, breaks[i].name)
		}
		a.MustRun("sh", "-c", breaks[i].mend)
		if !reached(5) {
			t.Fatalf("the LAN host does not answer after mending %s", breaks[i].name)
		}
	}
}
