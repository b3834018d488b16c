package dns

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/gowg/wgtools/internal/testnet"
)

// privateBus starts a dbus-daemon of the test's own (stopped by its PID
// at the end) and returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon is not installed (package dbus-daemon)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bus.conf")
	os.WriteFile(cfg, []byte(testnet.BusConfig("custom", filepath.Join(dir, "bus"))), 0o644)
	cmd := exec.Command(daemon, "--config-file="+cfg, "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon gave no address: %v", err)
	}
	return strings.TrimSpace(addr)
}

// fakeResolve1 implements the Manager methods Bus calls, records each call,
// and answers NoSuchLink for the first unknownFor calls on a link.
type fakeResolve1 struct {
	mu         sync.Mutex
	calls      []string
	unknownFor int
	seen       map[int32]int
	dns        map[int32][]dnsAddress
	domains    map[int32][]linkDomain
	defRoute   map[int32]bool
	// oldResolved: the Link object has no DefaultRoute property.
	oldResolved bool
}

func (f *fakeResolve1) record(ifindex int32, format string, a ...any) *dbus.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen[ifindex]++
	if f.seen[ifindex] <= f.unknownFor {
		return dbus.NewError(errNoSuchLink, []any{fmt.Sprintf("Link %d not known", ifindex)})
	}
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
	return nil
}

func (f *fakeResolve1) SetLinkDNS(ifindex int32, list []dnsAddress) *dbus.Error {
	var words []string
	for _, a := range list {
		addr, _ := netip.AddrFromSlice(a.Address)
		words = append(words, fmt.Sprintf("%d:%s", a.Family, addr))
	}
	if err := f.record(ifindex, "SetLinkDNS %d %s", ifindex, strings.Join(words, " ")); err != nil {
		return err
	}
	f.mu.Lock()
	f.dns[ifindex] = list
	f.mu.Unlock()
	return nil
}

func (f *fakeResolve1) SetLinkDomains(ifindex int32, list []linkDomain) *dbus.Error {
	var words []string
	for _, d := range list {
		words = append(words, fmt.Sprintf("%s:%v", d.Domain, d.RouteOnly))
	}
	if err := f.record(ifindex, "SetLinkDomains %d %s", ifindex, strings.Join(words, " ")); err != nil {
		return err
	}
	f.mu.Lock()
	f.domains[ifindex] = list
	f.mu.Unlock()
	return nil
}

func (f *fakeResolve1) SetLinkDefaultRoute(ifindex int32, on bool) *dbus.Error {
	if err := f.record(ifindex, "SetLinkDefaultRoute %d %v", ifindex, on); err != nil {
		return err
	}
	f.mu.Lock()
	f.defRoute[ifindex] = on
	f.mu.Unlock()
	return nil
}

func (f *fakeResolve1) RevertLink(ifindex int32) *dbus.Error {
	if err := f.record(ifindex, "RevertLink %d", ifindex); err != nil {
		return err
	}
	f.mu.Lock()
	delete(f.dns, ifindex)
	delete(f.domains, ifindex)
	delete(f.defRoute, ifindex)
	f.mu.Unlock()
	return nil
}

func (f *fakeResolve1) GetLink(ifindex int32) (dbus.ObjectPath, *dbus.Error) {
	return dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/resolve1/link/_3%d", ifindex)), nil
}

// fakeLink is a Link object's DNS, Domains and DefaultRoute properties.
type fakeLink struct {
	f       *fakeResolve1
	ifindex int32
}

func (l fakeLink) Get(iface, prop string) (dbus.Variant, *dbus.Error) {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	unknown := dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{"Unknown property " + prop})
	if iface != linkIface {
		return dbus.Variant{}, unknown
	}
	switch {
	case prop == "DNS":
		return dbus.MakeVariant(append([]dnsAddress{}, l.f.dns[l.ifindex]...)), nil
	case prop == "Domains":
		return dbus.MakeVariant(append([]linkDomain{}, l.f.domains[l.ifindex]...)), nil
	case prop == "DefaultRoute" && !l.f.oldResolved:
		return dbus.MakeVariant(l.f.defRoute[l.ifindex]), nil
	}
	return dbus.Variant{}, unknown
}

// serveFake puts a fakeResolve1 on the bus at addr under resolved's name.
func serveFake(t *testing.T, addr string, unknownFor int) *fakeResolve1 {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeResolve1{unknownFor: unknownFor, seen: map[int32]int{}, dns: map[int32][]dnsAddress{},
		domains: map[int32][]linkDomain{}, defRoute: map[int32]bool{}}
	if err := conn.Export(f, managerPath, managerIface); err != nil {
		t.Fatal(err)
	}
	if err := conn.Export(fakeLink{f, 7}, "/org/freedesktop/resolve1/link/_37", "org.freedesktop.DBus.Properties"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(busName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v %v", busName, reply, err)
	}
	return f
}

// TestBusAgainstFakeResolved: the calls Bus makes arrive, with the
// arguments resolved expects (families, address bytes, route-only flags),
// on a private bus, against a service of the test's own; a link resolved
// does not know yet is waited for; Running tells an owned name from none.
func TestBusAgainstFakeResolved(t *testing.T) {
	addr := privateBus(t)
	b, err := Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if ok, err := b.Running(ctx); err != nil || ok {
		t.Fatalf("Running before the service: %v %v", ok, err)
	}
	f := serveFake(t, addr, 2)
	if ok, err := b.Running(ctx); err != nil || !ok {
		t.Fatalf("Running: %v %v", ok, err)
	}
	plan := Plan("wg0", Settings{Servers: addrs("10.0.0.53", "fd00::53"), Search: []string{"example.com"}, FullTunnel: true})
	for _, op := range plan {
		if err := op.Apply(ctx, b, 7); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	// Link reads back what the calls set.
	got, err := b.Link(ctx, 7)
	if err != nil || fmt.Sprintf("%v %v %v", got.Servers, got.Domains, got.DefaultRoute) != "[10.0.0.53 fd00::53] [example.com ~.] true" {
		t.Errorf("Link: %+v %v", got, err)
	}
	if err := (Revert{Link: "wg0"}).Apply(ctx, b, 7); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SetLinkDNS 7 2:10.0.0.53 10:fd00::53",
		"SetLinkDomains 7 example.com:false .:true",
		"SetLinkDefaultRoute 7 true",
		"RevertLink 7",
	}
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}
	if got, err := b.Link(ctx, 7); err != nil || len(got.Servers)+len(got.Domains) != 0 || got.DefaultRoute {
		t.Errorf("Link after the revert: %+v %v", got, err)
	}
	// A resolved without the DefaultRoute property: read as false.
	f.mu.Lock()
	f.oldResolved = true
	f.mu.Unlock()
	if err := (SetDNS{Link: "wg0", Servers: addrs("10.0.0.53")}).Apply(ctx, b, 7); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Link(ctx, 7); err != nil || fmt.Sprint(got.Servers) != "[10.0.0.53]" || got.DefaultRoute {
		t.Errorf("Link without DefaultRoute: %+v %v", got, err)
	}

	// A link that stays unknown: the error names the method, after the
	// bounded wait.
	f.mu.Lock()
	f.unknownFor = 1 << 30
	f.mu.Unlock()
	b.wait = 100 * time.Millisecond
	err = b.SetLinkDNS(ctx, 8, addrs("10.0.0.53"))
	if err == nil || !strings.Contains(err.Error(), "systemd-resolved: SetLinkDNS: Link 8 not known") {
		t.Errorf("unknown link: %v", err)
	}
}
