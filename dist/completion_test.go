package dist

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gowg/wgtools/internal/testnet"
)

// The bash-completion package's main script, where Debian puts it.
const bashCompletion = "/usr/share/bash-completion/bash_completion"

// driver is run by bash: it loads the completion file (after the
// bash-completion package when $1 names it), sets COMP_WORDS, COMP_CWORD,
// COMP_LINE and COMP_POINT as bash does when Tab is pressed at the end of
// the line, calls the completion function and prints COMPREPLY, one
// <word> a line.
const driver = `bc=$1 file=$2 func=$3 line=$4 dir=$5
shift 5
words=("$@")
set --
cd "$dir" || exit 1
if [ -n "$bc" ]; then . "$bc" || exit 1; fi
. "$file" || exit 1
COMP_WORDS=("${words[@]}")
COMP_CWORD=$((${#words[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
COMPREPLY=()
"$func"
for w in "${COMPREPLY[@]}"; do printf '<%s>\n' "$w"; done
`

// compWords splits a command line into COMP_WORDS as readline does with
// bash's default COMP_WORDBREAKS: at blanks, and around '=' and ':', which
// become words of their own. A line ending in a blank gets an empty last
// word (the one being completed).
func compWords(line string) []string {
	var words []string
	cur := ""
	flush := func() {
		if cur != "" {
			words = append(words, cur)
			cur = ""
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ':
			flush()
		case c == '=' || c == ':':
			if cur != "" && !strings.ContainsAny(cur[:1], "=:") {
				flush()
			}
			cur += string(c)
			if i+1 == len(line) || !strings.ContainsRune("=:", rune(line[i+1])) {
				flush()
			}
		default:
			if cur != "" && strings.ContainsAny(cur[:1], "=:") {
				flush()
			}
			cur += string(c)
		}
	}
	flush()
	if line == "" || line[len(line)-1] == ' ' {
		words = append(words, "")
	}
	return words
}

func TestCompWords(t *testing.T) {
	for line, want := range map[string][]string{
		"wg ":                 {"wg", ""},
		"wg set wg0 peer K= ": {"wg", "set", "wg0", "peer", "K", "=", ""},
		"wg set wg0 peer K=":  {"wg", "set", "wg0", "peer", "K", "="},
		"endpoint [fd::1]:5 ": {"endpoint", "[fd", "::", "1]", ":", "5", ""},
	} {
		if got := compWords(line); !slices.Equal(got, want) {
			t.Errorf("compWords(%q) = %q, want %q", line, got, want)
		}
	}
}

// completer runs completion functions of one file in bash.
type completer struct {
	t      *testing.T
	file   string // completion file
	fn     string // its function
	bc     string // bash-completion's script, or "" to run without it
	dir    string // working directory (for file names)
	path   string // PATH (a stub wg first)
	script string
	// run, when set, runs bash some other way (in a test host).
	run func(args ...string) (string, error)
}

func (c *completer) complete(line string) []string {
	c.t.Helper()
	if c.bc != "" {
		if _, err := os.Stat(c.bc); err != nil {
			c.t.Skipf("%s is missing (.ci/run installs bash-completion)", c.bc)
		}
	}
	args := append([]string{c.script, c.bc, c.file, c.fn, line, c.dir}, compWords(line)...)
	var out string
	var err error
	if c.run != nil {
		out, err = c.run(args...)
	} else {
		cmd := exec.Command("bash", append([]string{"--norc", "--noprofile"}, args...)...)
		cmd.Env = []string{"PATH=" + c.path, "HOME=" + c.dir, "LC_ALL=C"}
		var b []byte
		b, err = cmd.CombinedOutput()
		out = string(b)
	}
	if err != nil {
		c.t.Fatalf("completing %q: %v\n%s", line, err, out)
	}
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "<") || !strings.HasSuffix(l, ">") {
			c.t.Fatalf("completing %q: bash said %q", line, out)
		}
		got = append(got, l[1:len(l)-1])
	}
	return got
}

// check completes line and compares the offers with want, in any order.
func (c *completer) check(line string, want ...string) {
	c.t.Helper()
	got := c.complete(line)
	sort.Strings(got)
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		c.t.Errorf("%q: got %q, want %q", line, got, want)
	}
}

const (
	peerA = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
	peerB = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
	peerC = "gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA="
)

// stubWG is a wg that knows two interfaces, wg0 with peers A and B and
// wgvpn1 with peer C, and answers what the completions ask.
const stubWG = `#!/bin/sh
case "$*" in
"show interfaces") echo "wg0 wgvpn1" ;;
"show wg0 peers") printf '%s\n' ` + peerA + ` ` + peerB + ` ;;
"show wgvpn1 peers") printf '%s\n' ` + peerC + ` ;;
*) echo "stub wg: unexpected $*" >&2; exit 1 ;;
esac
`

// setup makes the stub wg, the driver, and a working directory with a few
// files, and returns a completer for each way to run: with the
// bash-completion package (when installed) and without it.
func setup(t *testing.T, file, fn string) []*completer {
	t.Helper()
	need(t, "bash")
	tmp := t.TempDir()
	stub := filepath.Join(tmp, "stub")
	work := filepath.Join(tmp, "work")
	for _, d := range []string{stub, filepath.Join(work, "keys")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(stub, "wg"):        stubWG,
		filepath.Join(tmp, "driver.sh"):  driver,
		filepath.Join(work, "a.conf"):    "",
		filepath.Join(work, "wg9.conf"):  "",
		filepath.Join(work, "notes.txt"): "",
	}
	for p, content := range files {
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	base := completer{t: t, file: abs, fn: fn, dir: work, path: stub + ":" + os.Getenv("PATH"),
		script: filepath.Join(tmp, "driver.sh")}
	plain := base
	withBC := base
	withBC.bc = bashCompletion
	// Without bash-completion installed, the second variant's subtests
	// skip (and a strict run says so).
	return []*completer{&plain, &withBC}
}

func variant(c *completer) string {
	if c.bc == "" {
		return "plain-bash"
	}
	return "bash-completion"
}

// TestCompletionWG drives wg's completion function through every place on
// the command line that completes something, with and without the
// bash-completion package.
func TestCompletionWG(t *testing.T) {
	subs := helpSubcommands(t)
	for _, c := range setup(t, "completion/wg.bash-completion", "_wgtools_wg") {
		t.Run(variant(c), func(t *testing.T) {
			c.t = t
			files := []string{"a.conf", "keys", "notes.txt", "wg9.conf"}
			peerOpts := []string{"preshared-key", "endpoint", "allowed-ips", "persistent-keepalive", "remove", "peer"}
			c.check("wg ", append(slices.Clone(subs), "help", "version")...)
			c.check("wg s", "show", "showconf", "set", "setconf", "syncconf")
			c.check("wg -", "--help", "--version")
			c.check("wg show ", "wg0", "wgvpn1", "all", "interfaces")
			c.check("wg show wgv", "wgvpn1")
			c.check("wg show wg0 ", showFields...)
			c.check("wg show all p", "public-key", "private-key", "peers", "preshared-keys", "persistent-keepalive")
			c.check("wg show interfaces ")
			c.check("wg show wg0 dump ")
			c.check("wg showconf ", "wg0", "wgvpn1")
			c.check("wg showconf wg0 ")
			for _, sub := range []string{"setconf", "addconf", "syncconf"} {
				c.check("wg "+sub+" ", "wg0", "wgvpn1")
				c.check("wg "+sub+" wg0 ", files...)
				c.check("wg "+sub+" wg0 k", "keys")
				c.check("wg " + sub + " wg0 a.conf ")
			}
			c.check("wg set ", "wg0", "wgvpn1")
			c.check("wg set wg0 ", "listen-port", "fwmark", "private-key", "peer")
			c.check("wg set wg0 listen-port 51820 ", "fwmark", "private-key", "peer")
			c.check("wg set wg0 listen-port 51820 fwmark 0x1 private-key keys/a ", "peer")
			c.check("wg set wg0 listen-port ")
			c.check("wg set wg0 fwmark ", "off")
			c.check("wg set wg0 private-key ", files...)
			c.check("wg set wg0 private-key n", "notes.txt")
			c.check("wg set wg0 peer ", peerA, peerB)
			c.check("wg set wgvpn1 peer ", peerC)
			c.check("wg set wg0 peer T", peerB)
			c.check("wg set wg0 listen-port 1 peer "+peerA+" ", peerOpts...)
			c.check("wg set wg0 peer "+peerA+" ", peerOpts...)
			c.check("wg set wg0 peer "+peerA+" remove ", "peer")
			c.check("wg set wg0 peer "+peerA+" endpoint [fd00::1]:51820 persistent-keepalive 25 ", "preshared-key", "allowed-ips", "peer")
			c.check("wg set wg0 peer "+peerA+" endpoint 192.0.2.1:51820 ", "preshared-key", "allowed-ips", "persistent-keepalive", "peer")
			c.check("wg set wg0 peer "+peerA+" persistent-keepalive ", "off")
			c.check("wg set wg0 peer "+peerA+" preshared-key ", files...)
			c.check("wg set wg0 peer " + peerA + " endpoint ")
			c.check("wg set wg0 peer " + peerA + " allowed-ips ")
			c.check("wg set wg0 peer "+peerA+" allowed-ips 10.0.0.0/8 peer ", peerA, peerB)
			c.check("wg set wg0 peer "+peerA+" remove peer "+peerB+" ", peerOpts...)
			for _, sub := range []string{"genkey", "genpsk", "pubkey", "help", "bogus"} {
				c.check("wg " + sub + " ")
			}
			if c.bc != "" {
				// The key's '=' is where readline starts the word it
				// replaces: a finished key gets nothing more than a space.
				c.check("wg set wg0 peer "+peerA, "")
			}
		})
	}
}

// TestCompletionWGQuick drives wg-quick's completion function.
func TestCompletionWGQuick(t *testing.T) {
	verbs := tableVerbs(t) // --help's and ours (reload, doctor, reresolve)
	for _, c := range setup(t, "completion/wg-quick.bash-completion", "_wgtools_wg_quick") {
		t.Run(variant(c), func(t *testing.T) {
			c.t = t
			c.check("wg-quick ", append(slices.Clone(verbs), "help")...)
			c.check("wg-quick r", "reload", "reresolve")
			c.check("wg-quick reload ./w", "./wg9.conf")
			c.check("wg-quick reload wg0 -", "--dry-run", "--hooks", "--json")
			c.check("wg-quick up wg0 -", "--dry-run", "--json")
			c.check("wg-quick down wg0 --dry-run -", "--dry-run", "--json")
			c.check("wg-quick reresolve ./", "./a.conf", "./wg9.conf", "./keys")
			c.check("wg-quick reresolve ./w", "./wg9.conf")
			c.check("wg-quick reresolve wg0 ")
			c.check("wg-quick reresolve -")
			c.check("wg-quick doctor -", "--json", "--to", "--watch")
			c.check("wg-quick doctor --watch ")
			c.check("wg-quick doctor --json ./", "./a.conf", "./wg9.conf", "./keys")
			c.check("wg-quick s", "save", "strip")
			c.check("wg-quick -", "--help")
			c.check("wg-quick down ", "wg0", "wgvpn1")
			c.check("wg-quick save w", "wg0", "wgvpn1")
			// A path: .conf files and directories (no names from
			// /etc/wireguard, which this machine may have).
			c.check("wg-quick up ./", "./a.conf", "./wg9.conf", "./keys")
			c.check("wg-quick strip ./k", "./keys")
			c.check("wg-quick up wg0 ")
			c.check("wg-quick bogus ")
		})
	}
}

// TestCompletionConfigNames: `wg-quick up`, `strip`, `doctor` and
// `reresolve` offer the names of /etc/wireguard/NAME.conf (valid interface
// names only). Runs in a test host whose /etc/wireguard is its own tmpfs,
// so the machine's is never read or written.
func TestCompletionConfigNames(t *testing.T) {
	testnet.Require(t)
	if !isDir("/etc/wireguard") {
		t.Skip("this machine has no /etc/wireguard for a test host to mount its own over")
	}
	h := testnet.NewHost(t, "wgcomp")
	etc := "/proc/" + h.HolderPID() + "/root/etc/wireguard"
	var fs syscall.Statfs_t
	if err := syscall.Statfs(etc, &fs); err != nil || fs.Type != 0x01021994 {
		t.Fatalf("the test host's /etc/wireguard is not its own tmpfs (%v, type %#x)", err, fs.Type)
	}
	for _, name := range []string{"wg0.conf", "office.conf", "this-name-is-too-long.conf", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(etc, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range setup(t, "completion/wg-quick.bash-completion", "_wgtools_wg_quick") {
		t.Run(variant(c), func(t *testing.T) {
			c.t = t
			empty := t.TempDir()
			c.dir = empty
			c.run = func(args ...string) (string, error) {
				r := h.RunEnv([]string{"PATH=" + c.path, "HOME=" + empty, "LC_ALL=C"}, "bash", append([]string{"--norc", "--noprofile"}, args...)...)
				if r.Code != 0 {
					return r.Stdout + r.Stderr, fmt.Errorf("exit %d", r.Code)
				}
				return r.Stdout + r.Stderr, nil
			}
			c.check("wg-quick up ", "wg0", "office")
			c.check("wg-quick reresolve ", "wg0", "office")
			c.check("wg-quick doctor ", "wg0", "office")
			c.check("wg-quick strip o", "office")
			c.check("wg-quick up this")
			c.check("wg-quick down ", "wg0", "wgvpn1")
		})
	}
}

// TestCompletionLoads: installed under the names make install gives them
// (completions/wg, completions/wg-quick), bash-completion's loader finds
// each file when its command is first completed, and the file registers
// its function for that command.
func TestCompletionLoads(t *testing.T) {
	need(t, "bash")
	if _, err := os.Stat(bashCompletion); err != nil {
		t.Skipf("%s is missing (.ci/run installs bash-completion)", bashCompletion)
	}
	user := t.TempDir()
	dir := filepath.Join(user, "completions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"wg", "wg-quick"} {
		data, err := os.ReadFile("completion/" + cmd + ".bash-completion")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, cmd), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `. ` + strconv.Quote(bashCompletion) + `
for c in wg wg-quick; do
	if declare -F _comp_load >/dev/null; then _comp_load "$c"; else __load_completion "$c"; fi
	complete -p "$c"
done`
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + user, "BASH_COMPLETION_USER_DIR=" + user}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "complete -F _wgtools_wg wg\ncomplete -F _wgtools_wg_quick wg-quick\n"
	if string(out) != want {
		t.Errorf("got:\n%swant:\n%s", out, want)
	}
}

// TestCompletionHelpersShared: the helper block is the same in both files
// (each file must work alone, as bash-completion loads one per command).
func TestCompletionHelpersShared(t *testing.T) {
	block := func(file string) string {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		i := strings.Index(s, "# --- helpers,")
		j := strings.Index(s, "# --- end of helpers ---")
		if i < 0 || j < i {
			t.Fatalf("%s: no helper block", file)
		}
		return s[i:j]
	}
	if block("completion/wg.bash-completion") != block("completion/wg-quick.bash-completion") {
		t.Error("the helper blocks of the two completion files differ")
	}
}
