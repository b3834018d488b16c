package conf

import (
	"time"
)

// Options carries what parsing needs from outside: where warnings go, how
// names are resolved, and the environment. The zero Options is usable: host
// names are resolved by the system resolver, services come from
// /etc/services, table names from the iproute2 rt_tables files, and
// warnings are dropped.
type Options struct {
	// Warn receives non-fatal messages (host bits in an allowed IP, endpoint
	// resolution retries), one line each, without a newline.
	Warn func(string)
	// Resolver resolves endpoint host names; nil means the system resolver.
	Resolver Resolver
	// LookupEnv reads the environment (WG_ENDPOINT_RESOLUTION_RETRIES); nil
	// means an empty environment.
	LookupEnv func(string) (string, bool)
	// Services maps a UDP service name to its port; nil means /etc/services.
	Services func(string) (uint16, bool)
	// Tables maps a routing table name to its number; nil means the iproute2
	// rt_tables files.
	Tables func(string) (uint32, bool)
	// Sleep waits between resolution retries; nil means time.Sleep.
	Sleep func(time.Duration)
	// StripOnly parses a wg-quick file only as far as `wg-quick strip` needs:
	// the wg part and the wg-quick values are not checked (the reference's
	// strip does not check them either), except SaveConfig.
	StripOnly bool
	// Lenient, with StripOnly, is how `wg-quick down` reads a file: a
	// SaveConfig that is neither true nor false, or a Table that starts
	// like a number and is not one, is reported through Warn (with its file
	// and line) and read as unset, instead of failing: down must take the
	// interface away whatever the file has become.
	Lenient bool
}

func (o *Options) warn(s string) {
	if o != nil && o.Warn != nil {
		o.Warn(s)
	}
}

func (o *Options) resolver() Resolver {
	if o != nil && o.Resolver != nil {
		return o.Resolver
	}
	return SystemResolver{}
}

func (o *Options) lookupEnv() func(string) (string, bool) {
	if o == nil {
		return nil
	}
	return o.LookupEnv
}

func (o *Options) service(name string) (uint16, bool) {
	if o != nil && o.Services != nil {
		return o.Services(name)
	}
	return LookupService(name)
}

func (o *Options) table(name string) (uint32, bool) {
	if o != nil && o.Tables != nil {
		return o.Tables(name)
	}
	return LookupTable(name)
}

func (o *Options) sleep(d time.Duration) {
	if o != nil && o.Sleep != nil {
		o.Sleep(d)
		return
	}
	time.Sleep(d)
}
