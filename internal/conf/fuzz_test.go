package conf

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzOptions never touches the network or sleeps: names resolve to a fixed
// address or fail at once.
func fuzzOptions() *Options {
	return &Options{
		Resolver: ResolverFunc(func(host string) (netip.Addr, error) {
			if strings.HasSuffix(host, ".test") {
				return netip.MustParseAddr("192.0.2.7"), nil
			}
			return netip.Addr{}, &ResolveError{Msg: "Name or service not known", Permanent: true}
		}),
		Services:  goldenServices,
		Tables:    testTables,
		LookupEnv: func(string) (string, bool) { return "0", true },
		Sleep:     func(time.Duration) {},
	}
}

func addConfigSeeds(f *testing.F) {
	for _, pattern := range []string{"testdata/quick/*.conf", refDir + "/wg-conf/*.conf", refDir + "/wg-quick/*/input-*.conf"} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			f.Fatalf("no seeds match %s (%v)", pattern, err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// FuzzParse feeds arbitrary bytes to the wg grammar: it must not panic, and
// whatever it accepts must write back to text that parses to the same
// model.
func FuzzParse(f *testing.F) {
	addConfigSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.conf", data, fuzzOptions())
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		text := cfg.Format()
		again, err := Parse("again.conf", []byte(text), fuzzOptions())
		if err != nil {
			t.Fatalf("written form does not parse: %v\n%s", err, text)
		}
		if describeModel(cfg) != describeModel(again) {
			t.Fatalf("round trip changed the model:\n%s\nvs\n%s", describeModel(cfg), describeModel(again))
		}
	})
}

// FuzzParseQuick does the same for wg-quick files, and also checks that
// strip never fails where the full parse succeeds.
func FuzzParseQuick(f *testing.F) {
	addConfigSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := fuzzOptions()
		file, err := ParseQuick("fuzz.conf", data, opts)
		if err != nil {
			return
		}
		strip := *opts
		strip.StripOnly = true
		if _, err := ParseQuick("fuzz.conf", data, &strip); err != nil {
			t.Fatalf("strip refuses what up accepts: %v", err)
		}
		checkRoundTrip(t, "fuzz", file, opts)
	})
}

// FuzzSetArgs feeds space-separated words to the `wg set` parser.
func FuzzSetArgs(f *testing.F) {
	for _, c := range loadGolden(f) {
		if m := setCmd.FindStringSubmatch(c.cmd); m != nil {
			f.Add(m[2])
		}
	}
	f.Add("listen-port 51820 fwmark 0x10 peer xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg= allowed-ips +10.0.0.0/8,-fd00::/8 endpoint a.test:1")
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		for _, a := range args {
			// Key options name files; keep the fuzzer away from real paths.
			if strings.Contains(a, "/") && !strings.Contains(a, ".") {
				return
			}
		}
		cfg, err := ParseSetArgs(args, fuzzOptions())
		if err != nil {
			return
		}
		for _, p := range cfg.Peers {
			if p.PublicKey.IsZero() && !strings.Contains(line, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") {
				t.Fatalf("peer without its key: %q", line)
			}
		}
	})
}
