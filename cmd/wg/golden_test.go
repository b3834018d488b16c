package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
	"github.com/gowg/wgtools/internal/version"
)

// TestGoldenReplay replays every case of the reference capture
// (testdata/reference/wg, made by cases-wg.sh) against our wg, in hosts
// that reproduce the capture's lab, section by section and in the
// capture's order (sections 3 and 4 change wg1 step by step). stdout,
// stderr, the exit code and, for the recording fake daemon, the UAPI
// request bytes are compared. Only what varies by nature is masked (see
// normalize); the cases where we differ on purpose are compared against
// the corrected expectation in the differences table.
func TestGoldenReplay(t *testing.T) {
	requireLab(t)
	cases := captureOrder(t)
	r := &replay{t: t, binDir: filepath.Dir(wgBin), corrected: map[string]bool{}}
	for _, c := range cases {
		if _, ok := differences[c.name]; ok {
			r.corrected[c.name] = true
		}
	}
	for name := range differences {
		if !slices.ContainsFunc(cases, func(c captureCase) bool { return c.name == name }) {
			t.Errorf("the differences table names %s, which the capture does not have", name)
		}
	}

	c := testnet.NewHost(t, "wgc")
	stageFiles(t, c)
	var a *testnet.Host
	var fakes map[string]*fakeUAPI
	for _, cc := range cases {
		switch {
		case cc.section == 2 && a == nil:
			a, _ = realTunnel(t)
		case cc.section == 5 && fakes == nil:
			c.BindFile("/etc/hosts", []byte(labHosts))
			fakes = startFakes(t, c)
		}
		h := c
		if cc.ns == "A" {
			h = a
		}
		r.run(cc, h, fakes)
	}
	t.Logf("%d passed, %d failed (%d compared against a corrected expectation, see the differences table)", r.passed, r.failed, len(r.corrected))
	if r.failed > 0 || r.passed != len(cases) {
		t.Errorf("%d of %d cases failed", r.failed, len(cases))
	}
}

// captureCase is one `cap NAME NS ...` of the capture script.
type captureCase struct {
	name, ns string
	section  int
}

var (
	sectionLine = regexp.MustCompile(`^#+ (\d+)\. `)
	capLine     = regexp.MustCompile(`^cap (\S+) ([ABC]) `)
	forLine     = regexp.MustCompile(`^for (\w+) in (.*); do$`)
)

// captureOrder reads the capture scripts and lists their cases in the
// order they ran, loops expanded; every captured case must be listed.
func captureOrder(t *testing.T) []captureCase {
	t.Helper()
	var cases []captureCase
	section := 0
	var read func(file string)
	read = func(file string) {
		data, err := os.ReadFile(filepath.Join(refRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i := 0; i < len(lines); i++ {
			l := lines[i]
			if m := sectionLine.FindStringSubmatch(l); m != nil {
				fmt.Sscan(m[1], &section)
			}
			if strings.HasPrefix(l, ". ./") {
				read(strings.TrimPrefix(l, ". ./"))
			}
			body := []string{l}
			vals := []string{""}
			variable := ""
			if m := forLine.FindStringSubmatch(l); m != nil {
				variable, vals = "$"+m[1], strings.Fields(m[2])
				body = nil
				for i++; lines[i] != "done"; i++ {
					body = append(body, lines[i])
				}
			}
			for _, v := range vals {
				for _, b := range body {
					if m := capLine.FindStringSubmatch(b); m != nil {
						name := m[1]
						if variable != "" {
							name = strings.ReplaceAll(name, variable, v)
						}
						cases = append(cases, captureCase{name: name, ns: m[2], section: section})
					}
				}
			}
		}
	}
	read("cases-wg.sh")
	files, _ := filepath.Glob(filepath.Join(refDir, "*.cmd"))
	if len(files) != len(cases) || len(cases) < 280 {
		t.Fatalf("the capture script lists %d cases, %d were captured", len(cases), len(files))
	}
	return cases
}

// expectation is what a case printed (or, corrected, should print).
type expectation struct {
	stdout, stderr string
	rc             int
	uapi           string // the recorded set requests ("" for none)
}

// difference is a case where we print something else than the capture on
// purpose, with the reason and the corrected expectation.
type difference struct {
	why string
	fix func(e *expectation)
}

const (
	whyVersion   = "our --version names this project and the wireguard-tools version it matches"
	whyD5        = "D5: upstream refuses interface names of 16 bytes or more (ENAMETOOLONG) before asking the kernel"
	whyD2Usage   = "D2: upstream's wg set usage shows the +/- incremental allowed-ips form"
	whyD2Apply   = "D2: upstream accepts +/- allowed IPs; Debian's wireguard-go 0.0.20220316 of the lab does not know allowed_ip=-PREFIX, applies what came before it and answers EINVAL (upstream wg against that daemon does the same)"
	whyD3        = "D3: upstream prefixes every peer line of `wg show all endpoints` with the interface; 1.0.20210914 printed it once per interface"
	whyD4        = "D4: upstream syncconf clears a preshared key and keepalive the file leaves out"
	whyPortWrap  = "deliberate: port numbers above 65535 are refused; glibc wraps them (65537 becomes 1)"
	whyKeyEcho   = "deliberate: a bad key is not echoed; its place is named instead"
	whyLocation  = "deliberate: config errors start with FILE:LINE: "
	whyBOM       = "deliberate: FILE:LINE: , and the invisible byte order mark is shown as its bytes"
	whyQuickKey  = "deliberate: FILE:LINE: , and a line naming the wg-quick key and `wg-quick strip'"
	whyStaleCapt = "stale capture: uapi-setconf-* were captured before full-hosts.conf and case-insensitive.conf got ListenPort = 51830 (setconf-full and setconf-case-insensitive show 51830)"
)

func setStderr(s string) func(*expectation) {
	return func(e *expectation) { e.stderr = s }
}

// located prefixes the error line (the first line that is not a warning)
// with FILE:LINE: .
func located(file string, line int) func(*expectation) {
	return func(e *expectation) {
		lines := strings.SplitAfter(e.stderr, "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, "Warning: ") {
				lines[i] = fmt.Sprintf("%s:%d: %s", file, line, l)
				break
			}
		}
		e.stderr = strings.Join(lines, "")
	}
}

// quickKey adds the line naming the wg-quick key that made setconf fail.
func quickKey(key string) func(*expectation) {
	return func(e *expectation) {
		e.stderr += "`" + key + "' is a wg-quick key: use `wg-quick strip' to remove wg-quick's keys\n"
	}
}

func both(fixes ...func(*expectation)) func(*expectation) {
	return func(e *expectation) {
		for _, f := range fixes {
			f(e)
		}
	}
}

// dropLine removes the lines containing s from stdout.
func dropLine(s string) func(*expectation) {
	return func(e *expectation) {
		var out []string
		for _, l := range strings.SplitAfter(e.stdout, "\n") {
			if !strings.Contains(l, s) {
				out = append(out, l)
			}
		}
		e.stdout = strings.Join(out, "")
	}
}

// fixD3 rewrites 1.0.20210914's `wg show all endpoints` (interface names
// printed once, before the first peer, even for interfaces without peers)
// into upstream's (every peer line prefixed with its interface).
func fixD3(e *expectation) {
	var out strings.Builder
	cur := ""
	for _, l := range strings.Split(strings.TrimSuffix(e.stdout, "\n"), "\n") {
		f := strings.Split(l, "\t")
		for len(f) > 0 && !isKey(f[0]) {
			cur, f = f[0], f[1:]
		}
		out.WriteString(cur + "\t" + strings.Join(f, "\t") + "\n")
	}
	e.stdout = out.String()
}

func isKey(s string) bool { return len(s) == 44 && s[43] == '=' }

// clearD4 removes the PresharedKey and PersistentKeepalive lines of peer
// key's showconf block.
func clearD4(key string) func(*expectation) {
	return func(e *expectation) {
		blocks := strings.Split(e.stdout, "\n\n")
		for i, b := range blocks {
			if !strings.Contains(b, "PublicKey = "+key+"\n") {
				continue
			}
			var keep []string
			for _, l := range strings.Split(b, "\n") {
				if !strings.HasPrefix(l, "PresharedKey = ") && !strings.HasPrefix(l, "PersistentKeepalive = ") {
					keep = append(keep, l)
				}
			}
			blocks[i] = strings.Join(keep, "\n")
		}
		e.stdout = strings.Join(blocks, "\n\n")
	}
}

const zeroHex = "0000000000000000000000000000000000000000000000000000000000000000"

// differences lists every case where our expected output is not the
// capture's, why, and how the expectation is corrected. Nothing here is
// skipped: the corrected expectation is compared like any other.
var differences = map[string]difference{
	"version-long":  {whyVersion, func(e *expectation) { e.stdout = ourVersionLine() }},
	"version-short": {whyVersion, func(e *expectation) { e.stdout = ourVersionLine() }},
	"version-word":  {whyVersion, func(e *expectation) { e.stdout = ourVersionLine() }},

	"show-name-too-long": {whyD5, setStderr("Unable to access interface: File name too long\n")},

	"set-noarg":     {whyD2Usage, setStderr(fmt.Sprintf(setUsage, "wg", "set"))},
	"set-ifaceonly": {whyD2Usage, setStderr(fmt.Sprintf(setUsage, "wg", "set"))},
	"set-peer-allowedips-incremental": {whyD2Apply, func(e *expectation) {
		e.stderr = "Unable to modify interface: Invalid argument\n"
		e.stdout = strings.Replace(e.stdout, "\t10.0.0.0/8\t", "\t10.0.0.0/8,10.9.0.0/16\t", 1)
	}},
	"setconf-aip-incremental": {whyD2Apply, setStderr("Unable to modify interface: Invalid argument\n")},

	"fake-show-all-endpoints":  {whyD3, fixD3},
	"real-all-field-endpoints": {whyD3, fixD3},

	"syncconf-p2":                  {whyD4, clearD4(p2)},
	"syncconf-keeps-psk-keepalive": {whyD4, clearD4(p2)},
	"uapi-syncconf-sync-p2": {whyD4, func(e *expectation) {
		p2hex := "public_key=4eba95ae58408a27671e9745dec99520ad216576b48ce7547de45250429c4b57\n"
		e.uapi = strings.Replace(e.uapi, p2hex, p2hex+"preshared_key="+zeroHex+"\npersistent_keepalive_interval=0\n", 1)
	}},

	"set-listen-port-65536": {whyPortWrap, func(e *expectation) {
		e.rc, e.stderr = 1, "Port is out of range 0-65535: `65536'\n"
	}},
	"set-listen-port-65536-effect": {whyPortWrap, func(e *expectation) {
		e.stdout, e.stderr = "51996\n", "Port is out of range 0-65535: `65537'\n"
	}},
	"set-peer-endpoint-port-range-r0": {whyPortWrap, func(e *expectation) {
		e.rc, e.stderr = 1, "Port is out of range 0-65535: `10.99.0.2:65536'\n"
	}},
	"set-peer-endpoint-port-range-r1": {whyPortWrap, func(e *expectation) {
		e.rc, e.stderr = 1, "Port is out of range 0-65535: `10.99.0.2:65536'\n"
	}},
	// The reference added P1 with port 1; we refuse, so P1 is not there.
	"set-peer-endpoint-port-65536-effect": {whyPortWrap, both(dropLine(p1), setStderr("Port is out of range 0-65535: `10.99.0.2:65537'\n"))},
	"setconf-err-port-range": {whyPortWrap, func(e *expectation) {
		e.rc, e.stderr = 1, "port-range.conf:2: Port is out of range 0-65535: `65536'\nConfiguration parsing error\n"
	}},

	"set-peer-badkey":             {whyKeyEcho, setStderr("Key is not the correct length or format (argument 2)\n")},
	"set-peer-badpad":             {whyKeyEcho, setStderr("Key is not the correct length or format (argument 2)\n")},
	"set-private-key-badb64-file": {whyKeyEcho, setStderr("Key is not the correct length or format (key file `badpad.key')\n")},
	"setconf-err-badkey-len":      {whyKeyEcho, setStderr("badkey-len.conf:2: Key is not the correct length or format\nConfiguration parsing error\n")},
	"setconf-err-badkey-len2":     {whyKeyEcho, setStderr("badkey-len2.conf:2: Key is not the correct length or format\nConfiguration parsing error\n")},

	"setconf-aip-empty":              {whyLocation, located("aip-empty.conf", 3)},
	"uapi-setconf-aip-empty":         {whyLocation, located("aip-empty.conf", 3)},
	"setconf-err-aip-badcidr":        {whyLocation, located("aip-badcidr.conf", 3)},
	"setconf-err-aip-trailing-comma": {whyLocation, located("aip-trailing-comma.conf", 3)},
	"setconf-err-bom":                {whyBOM, setStderr("bom.conf:1: Line unrecognized: `\\xef\\xbb\\xbf[Interface]'\nConfiguration parsing error\n")},
	"setconf-err-empty-value":        {whyLocation, located("empty-value.conf", 2)},
	"setconf-err-ep-noport":          {whyLocation, located("ep-noport.conf", 3)},
	"setconf-err-fwmark-range":       {whyLocation, located("fwmark-range.conf", 2)},
	"setconf-err-no-equals":          {whyLocation, located("no-equals.conf", 2)},
	"setconf-err-no-section":         {whyKeyEcho, setStderr("no-section.conf:1: Line unrecognized: `PrivateKey=(hidden)'\nConfiguration parsing error\n")},
	"setconf-err-peer-no-pubkey":     {whyLocation, located("peer-no-pubkey.conf", 1)},
	"setconf-err-pk-range":           {whyLocation, located("pk-range.conf", 3)},
	"setconf-err-unknown-section":    {whyLocation, located("unknown-section.conf", 2)},
	"setconf-unresolvable-r0":        {whyLocation, located("full.conf", 20)},
	"setconf-weird-ws-semicolon":     {whyLocation, located("weird-ws-semicolon.conf", 5)},
	"setconf-wgquick-address":        {whyQuickKey, both(located("wgquick-address.conf", 2), quickKey("Address"))},
	"setconf-wgquick-DNS":            {whyQuickKey, both(located("wgquick-DNS.conf", 3), quickKey("DNS"))},
	"setconf-wgquick-MTU":            {whyQuickKey, both(located("wgquick-MTU.conf", 3), quickKey("MTU"))},
	"setconf-wgquick-Table":          {whyQuickKey, both(located("wgquick-Table.conf", 3), quickKey("Table"))},
	"setconf-wgquick-PreUp":          {whyQuickKey, both(located("wgquick-PreUp.conf", 3), quickKey("PreUp"))},
	"setconf-wgquick-PostUp":         {whyQuickKey, both(located("wgquick-PostUp.conf", 3), quickKey("PostUp"))},
	"setconf-wgquick-PreDown":        {whyQuickKey, both(located("wgquick-PreDown.conf", 3), quickKey("PreDown"))},
	"setconf-wgquick-PostDown":       {whyQuickKey, both(located("wgquick-PostDown.conf", 3), quickKey("PostDown"))},
	"setconf-wgquick-SaveConfig":     {whyQuickKey, both(located("wgquick-SaveConfig.conf", 3), quickKey("SaveConfig"))},

	"uapi-setconf-full": {whyStaleCapt, func(e *expectation) {
		e.uapi = strings.Replace(e.uapi, "listen_port=51820\n", "listen_port=51830\n", 1)
	}},
	"uapi-setconf-case-insensitive": {whyStaleCapt, func(e *expectation) {
		e.uapi = strings.Replace(e.uapi, "listen_port=51820\n", "listen_port=51830\n", 1)
	}},
}

func ourVersionLine() string {
	return fmt.Sprintf("%s %s (wireguard-tools %s compatible) - %s\n", version.Name, testVersion, version.Reference, version.URL)
}

// noModule are the cases whose message is the kernel's answer without the
// wireguard module; with the module a missing device is ENODEV.
var noModule = map[string]bool{
	"show-nonexistent-nomodule": true, "showconf-nonexistent-nomodule": true,
	"set-nonexistent-nomodule": true, "setconf-nonexistent-nomodule": true, "show-name-slash": true,
}

type replay struct {
	t              *testing.T
	binDir         string
	passed, failed int
	corrected      map[string]bool
}

// expectedFor is what case name should print: the capture, corrected
// where the differences table says so.
func expectedFor(t *testing.T, name string) expectation {
	t.Helper()
	c := loadCase(t, name)
	uapi, err := os.ReadFile(filepath.Join(refDir, name+".uapi"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	e := expectation{stdout: c.stdout, stderr: c.stderr, rc: c.rc, uapi: string(uapi)}
	if d, ok := differences[name]; ok {
		d.fix(&e)
	}
	if noModule[name] && kernelHasWireGuard() {
		e.stderr = strings.Replace(e.stderr, "Protocol not supported", "No such device", 1)
	}
	return e
}

// run replays one case in h and compares.
func (r *replay) run(cc captureCase, h *testnet.Host, fakes map[string]*fakeUAPI) {
	c := loadCase(r.t, cc.name)
	want := expectedFor(r.t, cc.name)
	for _, f := range fakes {
		f.take()
	}
	res := wgShell(h, r.binDir, c.env, c.cmd)
	end := time.Now()
	got := expectation{stdout: res.Stdout, stderr: res.Stderr, rc: res.Code}
	straddled := false
	for name, f := range fakes {
		sets, renders := f.take()
		if name == "rec0" {
			got.uapi = sets
		}
		for _, t := range renders {
			// Our wg counted ages from some moment between the render and
			// end: exact only if both fall in the same second.
			straddled = straddled || t.Unix() != end.Unix()
		}
	}
	why := compareCase(cc, c.cmd, want, got, straddled)
	if why == "" {
		r.passed++
		return
	}
	r.failed++
	r.t.Errorf("case %s (%s, ns %s): %s\n--- got rc %d\nstdout:\n%s\nstderr:\n%s\nuapi:\n%s--- want rc %d\nstdout:\n%s\nstderr:\n%s\nuapi:\n%s",
		cc.name, c.cmd, cc.ns, why, got.rc, got.stdout, got.stderr, got.uapi, want.rc, want.stdout, want.stderr, want.uapi)
}

// compareCase returns "" when got matches want after normalizing what
// varies by nature, else what differs.
func compareCase(cc captureCase, cmd string, want, got expectation, straddled bool) string {
	if got.rc != want.rc {
		return "exit code"
	}
	if got.uapi != want.uapi {
		return "UAPI request"
	}
	if got.stderr != want.stderr {
		return "stderr"
	}
	norm := func(s string) string { return normalize(cc, cmd, s, straddled) }
	if norm(got.stdout) == norm(want.stdout) {
		return ""
	}
	if mode := readdirOrder(cc.name); mode != "" && sortInterfaces(mode, norm(got.stdout)) == sortInterfaces(mode, norm(want.stdout)) {
		return ""
	}
	return "stdout"
}

// fixedPorts are the listen ports the capture set; any other is one the
// device picked at random.
var fixedPorts = map[string]bool{"0": true, "1": true, "53": true, "1234": true, "51820": true, "51821": true, "51830": true, "51996": true, "51997": true, "51998": true, "51999": true, "65535": true}

var (
	listenPortLine = regexp.MustCompile(`(?m)^(ListenPort = |  listening port: )(\d+)`)
	ansiSeq        = regexp.MustCompile("\x1b\\[[0-9;]*[a-zA-Z]")
)

// normalize masks what varies by nature:
//   - on the real devices (ns A): handshake ages and epochs, transfer
//     counters (and so whether the transfer line shows), listen ports the
//     device picked at random, and peer order (wireguard-go lists peers in
//     Go map order);
//   - on the fake daemons (ns C): handshake epochs (the daemon gives them
//     relative to when it answers), and handshake ages only when the run
//     straddled a second boundary after the daemon rendered its reply.
func normalize(cc captureCase, cmd, s string, straddled bool) string {
	if cc.ns == "C" {
		if straddled {
			s = maskAges(s)
		}
		return maskEpochs(cmd, s)
	}
	s = maskAges(s)
	var lines []string
	for _, l := range strings.SplitAfter(s, "\n") {
		plain := ansiSeq.ReplaceAllString(l, "")
		if strings.HasPrefix(plain, "  transfer: ") {
			continue
		}
		f := strings.Split(strings.TrimRight(l, "\r\n"), "\t")
		n := len(f)
		switch {
		case (n == 8 || n == 9) && isKey(f[n-8]): // dump peer line
			f[n-4], f[n-3], f[n-2] = "<hs>", "<rx>", "<tx>"
		case isDumpInterfaceLine(f) && !fixedPorts[f[n-2]]:
			f[n-2] = "<port>"
		case strings.Contains(cmd, "latest-handshakes") && n >= 2 && isKey(f[n-2]):
			f[n-1] = "<hs>"
		case strings.Contains(cmd, " transfer") && n >= 3 && isKey(f[n-3]):
			f[n-2], f[n-1] = "<rx>", "<tx>"
		}
		end := l[len(strings.TrimRight(l, "\r\n")):]
		lines = append(lines, strings.Join(f, "\t")+end)
	}
	s = strings.Join(lines, "")
	s = listenPortLine.ReplaceAllStringFunc(s, func(m string) string {
		sub := listenPortLine.FindStringSubmatch(m)
		if fixedPorts[sub[2]] {
			return m
		}
		return sub[1] + "<random>"
	})
	return sortPeers(s)
}

// maskEpochs masks the handshake epochs of dump and latest-handshakes
// lines: the fake daemons give handshakes relative to the moment they
// answer (their offsets are checked by the ages of the pretty cases).
func maskEpochs(cmd, s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		f := strings.Split(strings.TrimSuffix(l, "\n"), "\t")
		n := len(f)
		switch {
		case (n == 8 || n == 9) && isKey(f[n-8]) && f[n-4] != "0":
			f[n-4] = "<epoch>"
		case strings.Contains(cmd, "latest-handshakes") && n >= 2 && isKey(f[n-2]) && f[n-1] != "0":
			f[n-1] = "<epoch>"
		default:
			continue
		}
		lines[i] = strings.Join(f, "\t") + "\n"
	}
	return strings.Join(lines, "")
}

var agePart = regexp.MustCompile(`(latest handshake(?:\x1b\[0m)?: )[^\r\n]*`)

func maskAges(s string) string { return agePart.ReplaceAllString(s, "${1}<age>") }

// sortPeers puts peer blocks (pretty "peer:" and showconf "[Peer]"
// paragraphs) and runs of per-peer lines in a fixed order, for devices
// that list peers in no fixed order.
func sortPeers(s string) string {
	paras := strings.Split(s, "\n\n")
	isPeer := func(p string) bool {
		p = ansiSeq.ReplaceAllString(strings.TrimPrefix(p, "\n"), "")
		return strings.HasPrefix(p, "peer: ") || strings.HasPrefix(p, "[Peer]")
	}
	trail := strings.HasSuffix(s, "\n")
	for i := range paras {
		paras[i] = strings.TrimSuffix(paras[i], "\n")
	}
	sortRuns(paras, isPeer)
	s = strings.Join(paras, "\n\n")
	if trail {
		s += "\n"
	}
	lines := strings.SplitAfter(s, "\n")
	sortRuns(lines, func(l string) bool {
		f := strings.Split(strings.TrimRight(l, "\r\n"), "\t")
		return !isDumpInterfaceLine(f) && (isKey(f[0]) || len(f) >= 2 && isKey(f[1]))
	})
	return strings.Join(lines, "")
}

// isDumpInterfaceLine reports whether f (a line's tab-separated fields)
// is dump's interface line: [IFACE] PRIVATE PUBLIC PORT FWMARK.
func isDumpInterfaceLine(f []string) bool {
	n := len(f)
	return (n == 4 || n == 5) && (f[n-1] == "off" || strings.HasPrefix(f[n-1], "0x")) &&
		(f[n-3] == "(none)" || isKey(f[n-3])) && (f[n-4] == "(none)" || isKey(f[n-4]))
}

// sortRuns sorts each run of consecutive elements for which in is true.
func sortRuns(xs []string, in func(string) bool) {
	for i := 0; i < len(xs); {
		if !in(xs[i]) {
			i++
			continue
		}
		j := i
		for j < len(xs) && in(xs[j]) {
			j++
		}
		slices.Sort(xs[i:j])
		i = j
	}
}

// readdirOrder says how a case lists several interfaces, whose order is
// the directory order of /var/run/wireguard (tmpfs: newest first on the
// capture's kernel, creation order on newer ones): "words" (`wg show
// interfaces`), "blocks" (pretty), "lines" (prefixed by the interface), or
// "" for a case about one interface.
func readdirOrder(name string) string {
	switch {
	case strings.HasSuffix(name, "show-interfaces"):
		return "words"
	case name == "fake-show-all" || name == "real-show-all" || name == "real-bare":
		return "blocks"
	case strings.Contains(name, "show-all") || strings.Contains(name, "all-field"):
		return "lines"
	}
	return ""
}

// sortInterfaces puts the interfaces of such an output in a fixed order:
// words sorted; pretty blocks sorted (trailing blank lines dropped, as they
// depend on the position in the list); lines grouped by their interface,
// in-group order kept.
func sortInterfaces(mode, s string) string {
	switch mode {
	case "words":
		w := strings.Fields(s)
		slices.Sort(w)
		return strings.Join(w, " ")
	case "blocks":
		var blocks []string
		var cur strings.Builder
		sc := bufio.NewScanner(strings.NewReader(s))
		for sc.Scan() {
			l := sc.Text()
			if strings.HasPrefix(ansiSeq.ReplaceAllString(l, ""), "interface: ") && cur.Len() > 0 {
				blocks = append(blocks, strings.TrimRight(cur.String(), "\n"))
				cur.Reset()
			}
			cur.WriteString(l + "\n")
		}
		blocks = append(blocks, strings.TrimRight(cur.String(), "\n"))
		slices.Sort(blocks)
		return strings.Join(blocks, "\n\n")
	}
	lines := strings.SplitAfter(s, "\n")
	slices.SortStableFunc(lines, func(a, b string) int {
		fa, _, _ := strings.Cut(a, "\t")
		fb, _, _ := strings.Cut(b, "\t")
		return strings.Compare(fa, fb)
	})
	return strings.Join(lines, "")
}
