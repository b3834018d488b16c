package ipv6

import (
	"io/fs"
	"net/netip"
	"os"
	"testing"
	"time"
)

type fakeFiles map[string]string

func (f fakeFiles) ReadFile(n string) ([]byte, error) {
	if v, ok := f[n]; ok {
		return []byte(v), nil
	}
	return nil, fs.ErrNotExist
}

type dirInfo struct{}

func (dirInfo) Name() string       { return "ipv6" }
func (dirInfo) Size() int64        { return 0 }
func (dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (dirInfo) ModTime() time.Time { return time.Time{} }
func (dirInfo) IsDir() bool        { return true }
func (dirInfo) Sys() any           { return nil }

func (f fakeFiles) Stat(n string) (fs.FileInfo, error) {
	if n == procIPv6 {
		if _, ok := f["dir"]; ok {
			return dirInfo{}, nil
		}
	}
	return nil, fs.ErrNotExist
}

func TestProbe(t *testing.T) {
	for _, c := range []struct {
		name  string
		files fakeFiles
		want  Status
	}{
		{"on", fakeFiles{"dir": "", allDisabled: "0\n", defaultDisable: "0\n"}, Status{}},
		{"all", fakeFiles{"dir": "", allDisabled: "1\n", defaultDisable: "1\n"}, Status{true, "net.ipv6.conf.all.disable_ipv6 = 1"}},
		{"default-only", fakeFiles{"dir": "", allDisabled: "0\n", defaultDisable: "1\n"}, Status{true, "net.ipv6.conf.default.disable_ipv6 = 1"}},
		{"no-ipv6-in-kernel", fakeFiles{}, Status{true, "ipv6.disable=1: there is no /proc/sys/net/ipv6"}},
		{"unreadable", fakeFiles{"dir": ""}, Status{}},
	} {
		if got := Probe(c.files); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestProbeThisHost reads the test's own namespace: the answer must agree
// with the sysctl as read directly.
func TestProbeThisHost(t *testing.T) {
	v, err := os.ReadFile(allDisabled)
	if err != nil {
		t.Skip("no IPv6 sysctls here:", err)
	}
	got := Probe(osFiles{})
	if string(v) == "1\n" && !got.Disabled {
		t.Errorf("all.disable_ipv6 is 1 but Probe says %+v", got)
	}
}

type osFiles struct{}

func (osFiles) ReadFile(n string) ([]byte, error)  { return os.ReadFile(n) }
func (osFiles) Stat(n string) (fs.FileInfo, error) { return os.Stat(n) }

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestSplitAndWarning(t *testing.T) {
	why := "net.ipv6.conf.all.disable_ipv6 = 1"
	for _, c := range []struct {
		name          string
		addrs, routes []netip.Prefix
		ipv4          bool
		warning       string
	}{
		{"dual-stack", prefixes("10.0.0.1/24", "fd00::1/64"), prefixes("10.0.0.2/32", "fd00:1::/64", "::/0"), true,
			"[!] IPv6 is disabled on this host (" + why + "): skipping address fd00::1/64 and the routes to fd00:1::/64, ::/0 (and the policy rules and firewall rules of ::/0); IPv4 only."},
		{"v6-route-only", prefixes("10.0.0.1/24"), prefixes("fd00:1::/64"), true,
			"[!] IPv6 is disabled on this host (" + why + "): skipping the route to fd00:1::/64; IPv4 only."},
		{"v6-addresses", prefixes("fd00::1/64", "fd00::2/64"), prefixes("10.0.0.0/24"), true,
			"[!] IPv6 is disabled on this host (" + why + "): skipping addresses fd00::1/64, fd00::2/64; IPv4 only."},
		{"v6-only", prefixes("fd00::1/64"), prefixes("::/0"), false, ""},
		{"v4-only", prefixes("10.0.0.1/24"), prefixes("0.0.0.0/0"), true, ""},
	} {
		s := Split(c.addrs, c.routes)
		if s.IPv4 != c.ipv4 {
			t.Errorf("%s: IPv4 %v", c.name, s.IPv4)
		}
		if c.warning != "" && s.Warning(why) != c.warning {
			t.Errorf("%s:\n got %s\nwant %s", c.name, s.Warning(why), c.warning)
		}
		if c.name == "v4-only" && !s.Empty() {
			t.Errorf("v4-only skips %+v", s)
		}
	}
}
