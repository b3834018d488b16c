package quick

import (
	"context"
	"io"
	"io/fs"
	"net/netip"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/dns"
	"github.com/gowg/wgtools/internal/firewall"
	"github.com/gowg/wgtools/internal/netlinkx"
)

// Net is the network namespace as wg-quick reads and changes it;
// *netlinkx.Handle is the real one.
type Net interface {
	LinkByName(name string) (netlinkx.Link, bool, error)
	LinkByIndex(index int) (netlinkx.Link, bool, error)
	Apply(op netlinkx.Op) error
	Addresses(name string) ([]netip.Prefix, error)
	Routes(family int, table uint32) ([]netlinkx.Route, error)
	// RouteGetAll looks up the route to each destination, as `ip route get`.
	RouteGetAll(dsts []netip.Addr) []netlinkx.RouteLookup
	Rules(family int) ([]netlinkx.Rule, error)
	TableInUse(table uint32) (bool, error)
}

// Devices reads and configures WireGuard devices of both kinds;
// *wgdev.Client is the real one.
type Devices interface {
	Interfaces() ([]string, error)
	Device(name string) (*conf.Device, error)
	Configure(name string, cfg *conf.Config) error
}

// Firewall is the full tunnel's guard rules and the
// net.ipv4.conf.all.src_valid_mark sysctl (internal/firewall on the real
// machine). Each change is planned as a FirewallOp whose Line is the
// reference's command for it.
type Firewall interface {
	// PlanInstall plans the installation of one family's rules.
	PlanInstall(ctx context.Context, s firewall.Spec) (FirewallOp, error)
	// PlanRemove plans the removal of every rule of iface, of both kinds,
	// found by name and marker; none when there is nothing to remove.
	PlanRemove(ctx context.Context, iface string) ([]FirewallOp, error)
	// Marks lists the fwmarks iface's rules save into conntrack.
	Marks(ctx context.Context, iface string) ([]uint32, error)
	// EnableSrcValidMark plans setting the sysctl to 1 (recording the
	// former value for iface); nil when it is 1 already.
	EnableSrcValidMark(iface string) (*FirewallOp, error)
	// RestoreSrcValidMark plans setting the sysctl back to the recorded
	// value; nil when there is no record or another full tunnel remains.
	RestoreSrcValidMark(ctx context.Context, iface string) (*FirewallOp, error)
}

// FirewallOp is one planned firewall or sysctl change.
type FirewallOp struct {
	Line    string // the reference's command, e.g. "nft -f /dev/fd/63"
	Payload string // what the reference feeds that command
	Do      func(ctx context.Context) error
}

// Userspace starts and stops userspace devices.
type Userspace interface {
	// KernelModule reports whether /sys/module/wireguard exists.
	KernelModule() bool
	// StartEmbedded brings up the embedded userspace device name.
	StartEmbedded(name string) error
	// Watch notes the daemon serving name, if any; the returned function
	// waits (bounded) for it to exit once the interface is deleted.
	Watch(name string) (wait func(timeout time.Duration) bool)
}

// Command is a program wg-quick runs: a hook (bash), resolvconf, or the
// userspace implementation named by WG_QUICK_USERSPACE_IMPLEMENTATION.
type Command struct {
	Path   string // found with LookPath
	Args   []string
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Exec runs programs.
type Exec interface {
	// LookPath finds a program in the PATH of env, as bash's `type -P`.
	LookPath(name string, env []string) (string, error)
	// Run runs c and returns its exit status (128+N when killed by signal
	// N). When ctx is done, the program gets SIGTERM. err is set only when
	// it could not be started.
	Run(ctx context.Context, c Command) (code int, err error)
}

// Files reads the few files wg-quick looks at.
type Files interface {
	ReadFile(name string) ([]byte, error)
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	EvalSymlinks(name string) (string, error)
}

// ResolvedBus is systemd-resolved on the system bus; *dns.Bus is the real
// one.
type ResolvedBus interface {
	dns.Resolve1
	// Running reports whether resolved is on the bus (or the bus can
	// start it).
	Running(ctx context.Context) (bool, error)
}

// Sys is the machine as up, down and save see it.
type Sys struct {
	Net       Net
	Dev       Devices
	Userspace Userspace
	Exec      Exec
	Files     Files
	Firewall  Firewall
	// WriteFile writes a file atomically (save); nil means WriteAtomic.
	WriteFile func(path string, data []byte) error
	// Resolved connects to systemd-resolved's bus (once; later calls give
	// the same connection); nil means there is no bus.
	Resolved func() (ResolvedBus, error)
	// Lock takes the per-interface lock; nil means no locking (tests).
	Lock func(iface, op string) (*Lock, error)

	// Prog is the program name used in messages ("wg-quick").
	Prog string
	// Env is the environment of programs wg-quick runs (LC_ALL=C and
	// the PATH with wg-quick's directory first, as the reference gives).
	Env []string
	// LookupEnv reads wg-quick's own environment.
	LookupEnv func(string) (string, bool)
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
}

func (s *Sys) getenv(k string) string {
	if s.LookupEnv == nil {
		return ""
	}
	v, _ := s.LookupEnv(k)
	return v
}
