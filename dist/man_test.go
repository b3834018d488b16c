package dist

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var manPages = []string{"man/wg.8", "man/wg-quick.8"}

// lint runs a linter on a page; any message or failure fails the test.
func lint(t *testing.T, page string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, append(args, page)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil || out.Len() > 0 {
		t.Errorf("%s %s %s: %v\n%s", name, strings.Join(args, " "), page, err, out.String())
	}
}

// TestManPagesGroff: groff with every warning on renders both pages
// without a word (what `man -l` uses here).
func TestManPagesGroff(t *testing.T) {
	need(t, "groff")
	for _, p := range manPages {
		lint(t, p, "groff", "-ww", "-man", "-Tutf8", "-z")
	}
}

// TestManPagesManL: `man -l` (man-db, with its warnings on) renders each
// page, with the NAME line, and says nothing on standard error.
func TestManPagesManL(t *testing.T) {
	need(t, "man")
	for _, p := range manPages {
		cmd := exec.Command("man", "--warnings", "-l", p)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80", "LC_ALL=C.UTF-8")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man -l %s: %v\n%s", p, err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "NAME") || stdout.Len() < 5000 {
			t.Errorf("man -l %s rendered %d bytes:\n%s", p, stdout.Len(), stdout.String())
		}
	}
}

// TestManPagesMandoc: mandoc's linter, down to style messages, has nothing
// to say.
func TestManPagesMandoc(t *testing.T) {
	need(t, "mandoc")
	for _, p := range manPages {
		lint(t, p, "mandoc", "-T", "lint", "-W", "style")
	}
}

// TestManPagesLintHasTeeth: a page with a typical mistake is reported by
// both linters, so a clean result above means something.
func TestManPagesLintHasTeeth(t *testing.T) {
	need(t, "groff", "mandoc")
	bad := t.TempDir() + "/bad.8"
	if err := os.WriteFile(bad, []byte(".TH BAD 8 2026-02-23 x y\n.SH NAME\nbad \\- bad\n.SH DESCRIPTION\n.BR\n\\fQoops\n.XX\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{{"groff", "-ww", "-man", "-Tutf8", "-z"}, {"mandoc", "-T", "lint", "-W", "style"}} {
		out, _ := exec.Command(c[0], append(c[1:], bad)...).CombinedOutput()
		if len(out) == 0 {
			t.Errorf("%s found nothing wrong in a broken page", c[0])
		}
	}
}

// manText is a page's text with roff's escapes resolved enough to search
// it for words: fonts dropped, \- as -, lines joined.
func manText(t *testing.T, page string) string {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`\\f[BIRP]`).ReplaceAllString(string(data), "")
	s = strings.NewReplacer(`\-`, "-", `\%`, "", `\&`, "", `\e`, `\`, `\(lq`, `"`, `\(rq`, `"`, `\(dq`, `"`, `\(em`, "-", `\(bu`, "*").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// tags collects the words of every .TP tag in a section of a page: the
// things the section describes one by one.
func tags(t *testing.T, page, section string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	lines := strings.Split(string(data), "\n")
	var in bool
	for i, l := range lines {
		if strings.HasPrefix(l, ".SH ") {
			in = strings.Trim(strings.TrimPrefix(l, ".SH "), `"`) == section
		}
		if !in || l != ".TP" || i+1 == len(lines) {
			continue
		}
		tag := regexp.MustCompile(`^\.[A-Z]+ `).ReplaceAllString(lines[i+1], "")
		tag = regexp.MustCompile(`\\f[BIRP]`).ReplaceAllString(tag, "")
		tag = strings.NewReplacer(`\-`, "-", `\%`, "", `\&`, "").Replace(tag)
		for _, w := range strings.FieldsFunc(tag, func(r rune) bool { return strings.ContainsRune(" \"[]{}|,", r) }) {
			words[w] = true
		}
	}
	if len(words) == 0 {
		t.Fatalf("%s: no entries in section %s", page, section)
	}
	return words
}

// helpSubcommands reads the subcommand names from `wg --help`.
func helpSubcommands(t *testing.T) []string {
	t.Helper()
	var subs []string
	for _, l := range strings.Split(run(t, "", nil, wgBin, "--help"), "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(l, "  "), ": "); ok && strings.HasPrefix(l, "  ") {
			subs = append(subs, name)
		}
	}
	if len(subs) < 9 {
		t.Fatalf("wg --help lists only %v", subs)
	}
	return subs
}

// quickHelp reads the verbs and configuration keys from `wg-quick --help`.
func quickHelp(t *testing.T) (verbs, keys []string) {
	t.Helper()
	cmd := exec.Command(wgQuickBin, "--help")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("wg-quick --help: %v", err)
	}
	text := stderr.String()
	m := regexp.MustCompile(`\[ ((?:[a-z]+ \| )*[a-z]+) \]`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no verbs in wg-quick --help:\n%s", text)
	}
	verbs = strings.Split(m[1], " | ")
	for _, km := range regexp.MustCompile(`(?m)^  - ([A-Za-z, ]+):`).FindAllStringSubmatch(text, -1) {
		keys = append(keys, strings.Split(km[1], ", ")...)
	}
	if len(keys) < 9 {
		t.Fatalf("wg-quick --help lists only the keys %v", keys)
	}
	return verbs, keys
}

// tableVerbs reads the verbs wg-quick dispatches from its verb table
// (cmd/wg-quick/main.go), in the table's order: --help lists only the
// reference's, and ours (doctor, reresolve) must not go undocumented or
// uncompleted either.
func tableVerbs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../cmd/wg-quick/main.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\nvar verbs = \[\]verb\{\n(.*?)\n\}\n`).FindSubmatch(data)
	if m == nil {
		t.Fatal("cmd/wg-quick/main.go: no verb table (var verbs = []verb{...})")
	}
	var verbs []string
	for _, v := range regexp.MustCompile(`(?m)^\s*\{"([a-z]+)",`).FindAllSubmatch(m[1], -1) {
		verbs = append(verbs, string(v[1]))
	}
	if !slices.Equal(verbs[:min(4, len(verbs))], []string{"up", "down", "save", "strip"}) {
		t.Fatalf("cmd/wg-quick/main.go's verb table reads as %q", verbs)
	}
	return verbs
}

// ourVerbs are the verbs of the table that the reference does not have.
func ourVerbs(t *testing.T) []string {
	t.Helper()
	ref, _ := quickHelp(t)
	var ours []string
	for _, v := range tableVerbs(t) {
		if !slices.Contains(ref, v) {
			ours = append(ours, v)
		}
	}
	return ours
}

// showFields are the fields of `wg show IFACE FIELD` (wg.md §3), and our
// json (docs/json.md).
var showFields = []string{"public-key", "private-key", "listen-port", "fwmark", "peers", "preshared-keys", "endpoints",
	"allowed-ips", "latest-handshakes", "transfer", "persistent-keepalive", "dump", "json"}

// setOptions are the options of `wg set` (wg.md §5).
var setOptions = []string{"listen-port", "fwmark", "private-key", "peer", "remove", "preshared-key", "endpoint",
	"persistent-keepalive", "allowed-ips"}

// TestManPagesComplete: every command, option, field, key and environment
// variable we support has its place in the pages. Subcommands, verbs and
// wg-quick's keys are read from the binaries' own --help, so a new one
// cannot go undocumented.
func TestManPagesComplete(t *testing.T) {
	wg := manText(t, "man/wg.8")
	quick := manText(t, "man/wg-quick.8")
	check := func(page, text string, terms ...string) {
		t.Helper()
		for _, term := range terms {
			if !strings.Contains(text, term) {
				t.Errorf("%s does not mention %q", page, term)
			}
		}
	}
	entries := func(page, section string, names ...string) {
		t.Helper()
		have := tags(t, page, section)
		for _, n := range names {
			if !have[n] {
				t.Errorf("%s: %s has no entry for %q", page, section, n)
			}
		}
	}
	entries("man/wg.8", "COMMANDS", helpSubcommands(t)...)
	entries("man/wg.8", "COMMANDS", showFields...)
	entries("man/wg.8", "COMMANDS", setOptions...)
	entries("man/wg.8", "CONFIGURATION FILE FORMAT", "PrivateKey", "ListenPort", "FwMark", "PublicKey",
		"PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive")
	entries("man/wg.8", "ENVIRONMENT", "WG_COLOR_MODE", "WG_HIDE_KEYS", "WG_ENDPOINT_RESOLUTION_RETRIES")
	check("wg.8", wg, "[Interface]", "[Peer]", "always", "never", "infinity",
		"show all", "interfaces", "/var/run/wireguard/", "--version", "--help", "(hidden)", "(none)",
		"allowed-ips \"\"", "+", "/dev/null", "wg-quick strip", "[wgtools]", "DIFFERENCES FROM WIREGUARD-TOOLS")

	_, keys := quickHelp(t)
	entries("man/wg-quick.8", "DESCRIPTION", tableVerbs(t)...)
	entries("man/wg-quick.8", "CONFIGURATION", keys...)
	entries("man/wg-quick.8", "ENVIRONMENT", "WG_QUICK_USERSPACE_IMPLEMENTATION", "WG_ENDPOINT_RESOLUTION_RETRIES")
	check("wg-quick.8", quick, "/etc/wireguard/", "wg-quick@.service", "wg-quick.target", "systemctl enable --now wg-quick@wg0",
		"0.0.0.0/0", "::/0", "51820", "suppress_prefixlength 0", "not fwmark", "src_valid_mark", "wg-quick-",
		"resolvconf -a", "%i", "auto", "off", "rt_tables", "/dev/fd/63", "[#]",
		"Missing WireGuard kernel module", "[wgtools]", "DIFFERENCES FROM WIREGUARD-TOOLS")
}

// TestManPageOurVerbs: each verb of ours (doctor, reresolve) has its own
// SYNOPSIS line and a DESCRIPTION entry marked [wgtools], in the same
// order in both and as the verb table has them; the reference's verbs
// share the first SYNOPSIS line, as in its page.
func TestManPageOurVerbs(t *testing.T) {
	ours := ourVerbs(t)
	if len(ours) == 0 {
		t.Fatal("no verbs of ours in the verb table")
	}
	data, err := os.ReadFile("man/wg-quick.8")
	if err != nil {
		t.Fatal(err)
	}
	synopsis := section(string(data), "SYNOPSIS")
	var synOrder []string
	for _, l := range synopsis {
		if v, ok := strings.CutPrefix(l, `.B wg\-quick `); ok && slices.Contains(ours, v) {
			synOrder = append(synOrder, v)
		}
	}
	if !slices.Equal(synOrder, ours) {
		t.Errorf("SYNOPSIS has lines for %q, want %q (the verb table's order)", synOrder, ours)
	}
	if !slices.Contains(synopsis, ".RB [ up | down | save | strip ]") {
		t.Errorf("SYNOPSIS lacks the reference's verbs line:\n%s", strings.Join(synopsis, "\n"))
	}
	desc := section(string(data), "DESCRIPTION")
	var descOrder []string
	for i, l := range desc {
		if l != ".TP" || i+2 >= len(desc) {
			continue
		}
		v, ok := strings.CutPrefix(desc[i+1], ".B ")
		if !ok || !slices.Contains(ours, v) {
			continue
		}
		descOrder = append(descOrder, v)
		if !strings.HasPrefix(desc[i+2], `\%[wgtools]`) {
			t.Errorf("DESCRIPTION's %s is not marked [wgtools]: %q", v, desc[i+2])
		}
	}
	if !slices.Equal(descOrder, ours) {
		t.Errorf("DESCRIPTION has entries for %q, want %q (the verb table's order)", descOrder, ours)
	}
}

// section is the lines of a page's section, without its .SH line.
func section(page, name string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(page, "\n") {
		if strings.HasPrefix(l, ".SH ") {
			in = strings.Trim(strings.TrimPrefix(l, ".SH "), `"`) == name
			continue
		}
		if in {
			out = append(out, l)
		}
	}
	return out
}
