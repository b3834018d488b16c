package firewall

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/gowg/wgtools/internal/osys"
)

// SrcValidMarkKey is the sysctl the full tunnel needs: with it, rp_filter
// takes the packet's fwmark into account, so the replies to the tunnel's
// own (marked) UDP packets, whose mark conntrack restores, pass.
const SrcValidMarkKey = "net.ipv4.conf.all.src_valid_mark"

// SrcValidMark reads and sets net.ipv4.conf.all.src_valid_mark in one
// network namespace and keeps the record that lets a later `down`, in
// another process, set it back.
//
// The reference sets it to 1 when it is not 1 and never sets it back. We
// set it back when the last full tunnel of the namespace goes away: the
// record (a file StateDir/src_valid_mark.NETNS, NETNS being the
// namespace's inode number, written before the change) holds the former
// value, and a full tunnel is any interface with wg-quick's IPv4 rules,
// made by us or by the reference, of either firewall kind. So a second
// tunnel that found the value already 1 keeps it at 1 while it is up,
// and the last one down restores it.
type SrcValidMark struct {
	// NetNS is an open file descriptor of the network namespace; 0 is
	// the caller's.
	NetNS int
	// ProcSys is where sysctls are ("" means /proc/sys).
	ProcSys string
	// StateDir holds the record ("" means /run/wireguard, which the
	// reference's userspace devices use too, and which goes away at
	// reboot, as the sysctl does).
	StateDir string
	// Warn, if not nil, receives a line when a record that no longer
	// matches the system is dropped (see PlanRestore).
	Warn func(string)
}

func (s SrcValidMark) procSys() string {
	if s.ProcSys == "" {
		return "/proc/sys"
	}
	return s.ProcSys
}

func (s SrcValidMark) path() string {
	return filepath.Join(s.procSys(), strings.ReplaceAll(SrcValidMarkKey, ".", "/"))
}

func (s SrcValidMark) stateDir() string {
	if s.StateDir == "" {
		return "/run/wireguard"
	}
	return s.StateDir
}

// Get reads the value, as the kernel prints it ("0", "1").
func (s SrcValidMark) Get() (string, error) {
	var v []byte
	err := inNetNS(s.NetNS, func() error {
		var err error
		v, err = os.ReadFile(s.path())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("reading %s (%s): %w", SrcValidMarkKey, s.path(), err)
	}
	return strings.TrimSpace(string(v)), nil
}

func (s SrcValidMark) set(value string) error {
	err := inNetNS(s.NetNS, func() error {
		f, err := os.OpenFile(s.path(), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString(value + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("setting %s=%s: %s is mounted read-only (as in many containers): %w; "+
			"set it where the container is made (docker run --sysctl %s=1)",
			SrcValidMarkKey, value, s.procSys(), err, SrcValidMarkKey)
	}
	if err != nil {
		return fmt.Errorf("setting %s=%s (%s): %w", SrcValidMarkKey, value, s.path(), err)
	}
	return nil
}

// PlanEnable returns the step "sysctl -q net.ipv4.conf.all.src_valid_mark=1"
// when the value is not 1, nil when it is (the reference then prints and
// does nothing). Its Do records the former value for iface, then sets 1;
// a failure to set removes the record again.
func (s SrcValidMark) PlanEnable(iface string) (*Op, error) {
	v, err := s.Get()
	if err != nil || v == "1" {
		return nil, err
	}
	return &Op{line: "sysctl -q " + SrcValidMarkKey + "=1", kind: KindSysctl, do: func() error {
		id, err := s.netnsID()
		if err != nil {
			return err
		}
		rec := record{netns: id, previous: v, iface: iface}
		if err := s.writeRecord(rec); err != nil {
			return err
		}
		if err := s.set("1"); err != nil {
			os.Remove(s.recordPath(id))
			return err
		}
		return nil
	}}, nil
}

// PlanRestore returns the step that sets the value back to what it was
// before we set it ("sysctl -q net.ipv4.conf.all.src_valid_mark=0"), or
// nil when there is nothing to do: no record for this namespace (we did
// not change it), or another interface still has full-tunnel IPv4 rules
// (found through fw; the record stays for the last one). Do writes the
// former value only if the value is still 1, and removes the record.
//
// A record that no longer matches the system is never applied: one left
// by a namespace that is gone (another cookie with this inode number), or
// one whose value is no longer the 1 we set (someone set it since: the
// reference's down leaves it at 1, but a user or another tool may not).
// Then the step has no line, and its Do removes the record and says so
// through s.Warn.
func (s SrcValidMark) PlanRestore(ctx context.Context, iface string, fw *Firewall) (*Op, error) {
	id, err := s.netnsID()
	if err != nil {
		return nil, err
	}
	rec, ok, err := s.readRecord(id)
	if err != nil || !ok {
		return nil, err
	}
	if !rec.netns.Same(id) {
		return s.dropOp(id, fmt.Sprintf("dropping the record of %s left by a network namespace that is gone (%s)", SrcValidMarkKey, s.recordPath(id))), nil
	}
	v, err := s.Get()
	if err != nil {
		return nil, err
	}
	if v != "1" {
		return s.dropOp(id, fmt.Sprintf("%s is %s, not the 1 wg-quick set for %s: leaving it, and dropping the record of its former value %s",
			SrcValidMarkKey, v, rec.iface, rec.previous)), nil
	}
	others, err := fw.Others(ctx, iface, IPv4)
	if err != nil {
		return nil, fmt.Errorf("deciding whether to restore %s: %w", SrcValidMarkKey, err)
	}
	if len(others) > 0 {
		return nil, nil
	}
	return &Op{line: "sysctl -q " + SrcValidMarkKey + "=" + rec.previous, kind: KindSysctl, do: func() error {
		v, err := s.Get()
		if err != nil {
			return err
		}
		if v == "1" {
			if err := s.set(rec.previous); err != nil {
				return err
			}
		}
		if err := os.Remove(s.recordPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the record of %s: %w", SrcValidMarkKey, err)
		}
		return nil
	}}, nil
}

// dropOp removes a record that no longer matches the system, saying why.
func (s SrcValidMark) dropOp(id osys.NetNS, why string) *Op {
	return &Op{kind: KindSysctl, do: func() error {
		if s.Warn != nil {
			s.Warn(why)
		}
		if err := os.Remove(s.recordPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the record of %s: %w", SrcValidMarkKey, err)
		}
		return nil
	}}
}

func (s SrcValidMark) netnsID() (osys.NetNS, error) {
	var id osys.NetNS
	err := inNetNS(s.NetNS, func() error {
		var err error
		id, err = osys.CurrentNetNS()
		return err
	})
	return id, err
}

// record is what PlanEnable leaves for PlanRestore.
type record struct {
	netns    osys.NetNS
	previous string
	iface    string
}

func (s SrcValidMark) recordPath(id osys.NetNS) string {
	return filepath.Join(s.stateDir(), fmt.Sprintf("src_valid_mark.%d", id.Inode))
}

func (s SrcValidMark) writeRecord(r record) error {
	path := s.recordPath(r.netns)
	text := fmt.Sprintf("# wg-quick set %s from %s to 1 for %s; the last full tunnel's down sets it back\n"+
		"netns %d %d\nprevious %s\ninterface %s\n", SrcValidMarkKey, r.previous, r.iface, r.netns.Inode, r.netns.Cookie, r.previous, r.iface)
	if err := os.MkdirAll(s.stateDir(), 0o755); err != nil {
		return fmt.Errorf("recording the former %s: %w", SrcValidMarkKey, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return fmt.Errorf("recording the former %s: %w", SrcValidMarkKey, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("recording the former %s: %w", SrcValidMarkKey, err)
	}
	return nil
}

func (s SrcValidMark) readRecord(id osys.NetNS) (record, bool, error) {
	path := s.recordPath(id)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, fmt.Errorf("reading the record of %s: %w", SrcValidMarkKey, err)
	}
	defer f.Close()
	var r record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "netns":
			r.netns.Inode, _ = strconv.ParseUint(f[1], 10, 64)
			r.netns.Cookie, _ = strconv.ParseUint(f[2], 10, 64)
		case len(f) == 2 && f[0] == "previous":
			r.previous = f[1]
		case len(f) == 2 && f[0] == "interface":
			r.iface = f[1]
		}
	}
	if err := sc.Err(); err != nil {
		return record{}, false, fmt.Errorf("reading %s: %w", path, err)
	}
	if _, err := strconv.Atoi(r.previous); err != nil || r.netns.Inode != id.Inode {
		return record{}, false, fmt.Errorf("%s: not a record of %s for this namespace", path, SrcValidMarkKey)
	}
	return r, true, nil
}
