package conf

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// describeQuick renders everything ParseQuick found, for golden files.
func describeQuick(f *File, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	i := &f.Config.Interface
	fmt.Fprintf(&b, "addresses:")
	for _, a := range i.Addresses {
		fmt.Fprintf(&b, " %s(%s)", a.Raw, a.Prefix)
	}
	fmt.Fprintf(&b, "\ndns: %v\nsearch: %q\n", i.DNS, i.DNSSearch)
	if i.MTU != nil {
		fmt.Fprintf(&b, "mtu: %d\n", *i.MTU)
	}
	if f.TableErr != nil {
		fmt.Fprintf(&b, "table error (up's, where a route needs it): %v\n", f.TableErr)
	}
	fmt.Fprintf(&b, "table: %q (%d)\nsaveconfig: %v (set %v)\n", i.Table, i.TableID, i.SaveConfig, i.HasSaveConfig)
	for _, h := range [][2]any{{"preup", i.PreUp}, {"postup", i.PostUp}, {"predown", i.PreDown}, {"postdown", i.PostDown}} {
		fmt.Fprintf(&b, "%s: %q\n", h[0], h[1])
	}
	b.WriteString("--- strip\n")
	b.WriteString(f.Strip())
	b.WriteString("--- format\n")
	b.WriteString(f.Config.Format())
	return b.String()
}

var testTables = func(name string) (uint32, bool) {
	switch name {
	case "main":
		return 254, true
	case "vpn":
		return 100, true
	}
	return 0, false
}

// TestQuickGolden parses each testdata/quick/*.conf as wg-quick does and
// compares the model, strip and written form with NAME.golden.
func TestQuickGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/quick/*.conf")
	if len(files) < 20 {
		t.Fatalf("only %d test configs", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var warnings []string
			f, perr := ParseQuick(filepath.Base(file), data, &Options{
				Warn:     func(s string) { warnings = append(warnings, s) },
				Resolver: goldenResolver, Tables: testTables, Services: goldenServices,
			})
			got := describeQuick(f, perr)
			for _, w := range warnings {
				got += "warning: " + w + "\n"
			}
			golden := strings.TrimSuffix(file, ".conf") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestQuickRoundTrip: what Format writes, ParseQuick reads back to the same
// model, for every test config that parses (its golden file says which:
// the others' errors are TestQuickGolden's business).
func TestQuickRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/quick/*.conf")
	if err != nil || len(files) < 20 {
		t.Fatalf("only %d test configs (%v)", len(files), err)
	}
	tripped := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			golden, err := os.ReadFile(strings.TrimSuffix(file, ".conf") + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			wantErr := strings.HasPrefix(string(golden), "error: ")
			opts := &Options{Resolver: goldenResolver, Tables: testTables, Services: goldenServices}
			f, err := ParseQuick("a.conf", data, opts)
			switch {
			case err != nil && !wantErr:
				t.Fatalf("%v; its golden file says it parses", err)
			case err == nil && wantErr:
				t.Fatalf("it parses; its golden file says %s", golden)
			case err == nil:
				checkRoundTrip(t, file, f, opts)
				tripped++
			}
		})
	}
	if tripped < 8 {
		t.Errorf("only %d configs went round, want the 8 that parse", tripped)
	}
}

func checkRoundTrip(t testing.TB, name string, f *File, opts *Options) {
	t.Helper()
	text := f.Config.Format()
	g, err := ParseQuick("b.conf", []byte(text), opts)
	if err != nil {
		t.Fatalf("%s: written form does not parse: %v\n%s", name, err, text)
	}
	if again := g.Config.Format(); again != text {
		t.Fatalf("%s: round trip changed the model:\n%s\nvs\n%s", name, text, again)
	}
	if a, b := describeModel(&f.Config), describeModel(&g.Config); a != b {
		t.Fatalf("%s: round trip changed the model:\n%s\nvs\n%s", name, a, b)
	}
}

// describeModel prints a Config field by field (Format skips nothing it
// can represent, but this also shows flags such as ReplaceAllowedIPs).
func describeModel(c *Config) string {
	var b strings.Builder
	i := c.Interface
	fmt.Fprintf(&b, "%v %v %v %v %v %q %v %q %d %q %q %q %q %v\n", ptr(i.PrivateKey), ptr(i.ListenPort), ptr(i.FwMark),
		i.Addresses, i.DNS, i.DNSSearch, ptr(i.MTU), i.Table, i.TableID, i.PreUp, i.PostUp, i.PreDown, i.PostDown, i.SaveConfig)
	for _, p := range c.Peers {
		fmt.Fprintf(&b, "%v %v %v %v %v %v %v\n", p.PublicKey, ptr(p.PresharedKey), ptr(p.Endpoint), ptr(p.PersistentKeepalive),
			p.ReplaceAllowedIPs, p.AllowedIPs, p.Remove)
	}
	return b.String()
}

func ptr[T any](p *T) string {
	if p == nil {
		return "<unset>"
	}
	return fmt.Sprint(*p)
}

func TestKeys(t *testing.T) {
	pairs := map[string]string{ // from the captures' lab keys
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=": "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
		"IA3aTT+u7rRWI2OP1MycDIhCFcDfKFIs14PiYwHiHHE=": "hovNQNxiBRgUQSLQSOVoRur7Nn7RFZuGK++FKdvMA3Q=",
		"kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8=": "KhrmLGjKZpVhu+UsqqSiIEWfBTzVpPlf/51vBC/FTXA=",
		"MFacJUr9QagO2MNwbZVpjcb5UFIixyGnJyMevGdvfV4=": "Xt9quZAyypsVNY/hSlxiMWomz3XLP4tok86WEj9CuE8=",
		"INf5LfyyDqYLP1i4xFZ5/wVhgJtiXRlhkCTfhheJ13Q=": "jqpiImZJaNTgv/iVZjoLCjERwTqd2QwnzSOluXfJaWo=",
	}
	for priv, pub := range pairs {
		k, err := ParseKey(priv)
		if err != nil {
			t.Fatalf("%s: %v", priv, err)
		}
		if got := k.PublicKey().String(); got != pub {
			t.Errorf("pubkey(%s) = %s, want %s", priv, got, pub)
		}
	}
	for _, bad := range []string{
		"", "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk", // no '='
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmn=", // padding bits set
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBm!=", // alphabet
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBm==", // two '='
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk==",
	} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	k, _ := GeneratePrivateKey()
	if k[0]&7 != 0 || k[31]&128 != 0 || k[31]&64 == 0 {
		t.Errorf("generated key not clamped: %x", k)
	}
	if back, err := ParseKey(k.String()); err != nil || back != k {
		t.Errorf("generated key does not round trip: %v", err)
	}
}

func TestInterfaceNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"wg0": true, "a": true, "x=+._-9": true, "123456789012345": true,
		"": false, "1234567890123456": false, "wg 0": false, "a/b": false, "wg0:1": false,
	} {
		if ValidInterfaceName(name) != ok {
			t.Errorf("ValidInterfaceName(%q) = %v", name, !ok)
		}
	}
	for path, want := range map[string]string{
		"/etc/wireguard/wg0.conf": "wg0", "wg1.conf": "wg1", "./a/b/x.y.conf": "x.y",
		"/etc/wireguard/this-name-is-too-long.conf": "", "wg0.txt": "", "/x/.conf": "",
	} {
		got, ok := InterfaceFromConfigPath(path)
		if got != want || ok != (want != "") {
			t.Errorf("InterfaceFromConfigPath(%q) = %q, %v", path, got, ok)
		}
	}
	if got := QuickConfigPath("wg0"); got != "/etc/wireguard/wg0.conf" {
		t.Errorf("QuickConfigPath(wg0) = %s", got)
	}
	if got := QuickConfigPath("./wg0.conf"); got != "./wg0.conf" {
		t.Errorf("QuickConfigPath(./wg0.conf) = %s", got)
	}
}

// TestQuickLenient: `down` reads a file with StripOnly and Lenient: a bad
// SaveConfig or Table number is a warning naming its line, read as unset;
// the wg part is not parsed (no name is resolved, a typo is no error).
func TestQuickLenient(t *testing.T) {
	text := "[Interface]\nPrivteKey = oops\nSaveConfig = maybe\nTable = 0x\nDNS = 10.0.0.53\nPostDown = echo %i\n\n[Peer]\nPublicKey = nonsense\nEndpoint = vpn.example.test:51820\n"
	var warnings []string
	resolved := false
	opts := &Options{StripOnly: true, Lenient: true, Warn: func(s string) { warnings = append(warnings, s) },
		Resolver: ResolverFunc(func(string) (netip.Addr, error) { resolved = true; return netip.Addr{}, nil })}
	f, err := ParseQuick("wg0.conf", []byte(text), opts)
	if err != nil {
		t.Fatalf("lenient parse: %v", err)
	}
	if resolved {
		t.Error("a host name was resolved")
	}
	want := []string{
		"wg0.conf:3: `maybe' is neither true nor false; read as false",
		"wg0.conf:4: Table is not a number from 0 to 4294967295: `0x'; read as auto",
	}
	if strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
	i := f.Config.Interface
	if i.SaveConfig || i.Table != "" || len(i.DNS) != 1 || len(i.PostDown) != 1 {
		t.Errorf("read as %+v", i)
	}
	// Without Lenient, the same file fails at its SaveConfig line.
	if _, err := ParseQuick("wg0.conf", []byte(text), &Options{StripOnly: true}); err == nil || !strings.HasPrefix(err.Error(), "wg0.conf:3: ") {
		t.Errorf("strict strip parse: %v", err)
	}
}

// TestQuickTableName: a Table name rt_tables does not know is no parse
// error; it is kept for up, which fails where a route needs the table.
func TestQuickTableName(t *testing.T) {
	f, err := ParseQuick("wg0.conf", []byte("[Interface]\nTable = nosuchtable\n"), &Options{Tables: testTables})
	if err != nil {
		t.Fatal(err)
	}
	if f.TableErr == nil || f.TableErr.Error() != "wg0.conf:2: Table is neither auto, off, a number nor a name from rt_tables: `nosuchtable'" {
		t.Errorf("TableErr = %v", f.TableErr)
	}
	if _, err := ParseQuick("wg0.conf", []byte("[Interface]\nTable = 99999999999\n"), &Options{Tables: testTables}); err == nil {
		t.Error("a Table number out of range was accepted")
	}
	f, err = ParseQuick("wg0.conf", []byte("[Interface]\nTable = vpn\n"), &Options{Tables: testTables})
	if err != nil || f.TableErr != nil || f.Config.Interface.TableID != 100 {
		t.Errorf("known name: %v %v %d", err, f.TableErr, f.Config.Interface.TableID)
	}
}

// TestLoose reads keys and FwMark from unchecked wg lines.
func TestLoose(t *testing.T) {
	priv, psk := "kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8=", "yqIu1+V9Je59NPVR4cjW9FaUZ+hDk9w5pI8ACuBBzlE="
	text := "[Interface]\nprivatekey = " + priv + "\nFwMark = 0x1234\nPrivteKey = x\n[Peer]\nPublicKey = bad\nPresharedKey=" + psk + " # c\nEndpoint = nowhere:1\n"
	f, err := ParseQuick("wg0.conf", []byte(text), &Options{StripOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	l := f.Loose()
	if len(l.Secrets) != 2 || l.Secrets[0].String() != priv || l.Secrets[1].String() != psk {
		t.Errorf("secrets: %v", l.Secrets)
	}
	if !l.HasFwMark || l.FwMark != 0x1234 {
		t.Errorf("fwmark: %v %d", l.HasFwMark, l.FwMark)
	}
	l.Wipe()
	if l.Secrets != nil {
		t.Error("not wiped")
	}
}
