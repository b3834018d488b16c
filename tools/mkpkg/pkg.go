package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// compatible is the wireguard-tools release whose commands ours match; the
// package provides wireguard-tools at that version, so that packages
// depending on a recent wireguard-tools accept it.
const compatible = "1.0.20260223"

type options struct {
	format, version, arch, root, bindir, unitdir, maintainer, out string
	mtime                                                         time.Time
}

// A file the package installs: its path on the target, its mode, and
// where its content comes from (a file, or bytes made here).
type entry struct {
	dst  string
	mode os.FileMode
	src  string // a file of the source or build tree, or ""
	data []byte // content when src is ""
	dir  bool
}

const (
	binDir  = "/usr/bin"
	manDir  = "/usr/share/man/man8"
	compDir = "/usr/share/bash-completion/completions"
)

// defaultUnitDir is where the format's distributions keep system units.
func defaultUnitDir(format string) string {
	if format == "deb" {
		return "/lib/systemd/system"
	}
	return "/usr/lib/systemd/system"
}

// entries lists what the package installs, as the distributions'
// wireguard-tools packages lay it out (man pages gzipped, units with our
// /usr/bin paths).
func entries(o *options) ([]entry, error) {
	unitdir := o.unitdir
	if unitdir == "" {
		unitdir = defaultUnitDir(o.format)
	}
	read := func(rel string) ([]byte, error) { return os.ReadFile(filepath.Join(o.root, rel)) }
	var es []entry
	for _, b := range []string{"wg", "wg-quick"} {
		es = append(es, entry{dst: binDir + "/" + b, mode: 0o755, src: filepath.Join(o.bindir, b)})
	}
	for _, m := range []string{"wg.8", "wg-quick.8"} {
		page, err := read("dist/man/" + m)
		if err != nil {
			return nil, err
		}
		gz, err := gzipped(page, o.mtime)
		if err != nil {
			return nil, err
		}
		es = append(es, entry{dst: manDir + "/" + m + ".gz", mode: 0o644, data: gz})
	}
	for _, c := range []string{"wg", "wg-quick"} {
		es = append(es, entry{dst: compDir + "/" + c, mode: 0o644, src: filepath.Join(o.root, "dist/completion", c+".bash-completion")})
	}
	// The units as `make install` writes them: a template (.in) gets
	// BINDIR's paths filled in, the others are copied.
	for _, u := range []struct {
		name     string
		template bool
	}{
		{"wg-quick@.service", true},
		{"wg-quick.target", false},
		{"wg-quick-reresolve@.service", true},
		{"wg-quick-reresolve@.timer", false},
	} {
		if !u.template {
			es = append(es, entry{dst: unitdir + "/" + u.name, mode: 0o644, src: filepath.Join(o.root, "dist/systemd", u.name)})
			continue
		}
		unit, err := read("dist/systemd/" + u.name + ".in")
		if err != nil {
			return nil, err
		}
		es = append(es, entry{dst: unitdir + "/" + u.name, mode: 0o644, data: bytes.ReplaceAll(unit, []byte("@BINDIR@"), []byte(binDir))})
	}
	es = append(es, entry{dst: "/etc/wireguard", mode: 0o700, dir: true})
	if o.format == "deb" {
		es = append(es, entry{dst: "/usr/share/doc/wgtools/copyright", mode: 0o644, src: filepath.Join(o.root, "LICENSE")})
	} else {
		es = append(es, entry{dst: "/usr/share/licenses/wgtools/LICENSE", mode: 0o644, src: filepath.Join(o.root, "LICENSE")})
	}
	return es, nil
}

// gzipped compresses a man page as dh_compress does: best compression, no
// name or time in the header, so that the package is reproducible.
func gzipped(data []byte, _ time.Time) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// pkgVersion turns `git describe --tags --always --dirty` output into a
// version both dpkg and rpm order sensibly: v1.2.3 is 1.2.3; 1.2.3-4-gabc
// (4 commits after the tag) is 1.2.3+4.gabc; a bare commit (no tag yet,
// 7 to 40 hex digits, perhaps -dirty) is 0~git.abc, lower than any release.
func pkgVersion(describe string) (string, error) {
	v := strings.TrimSpace(describe)
	if regexp.MustCompile(`^[0-9a-f]{7,40}(-dirty)?$`).MatchString(v) {
		return "0~git." + strings.ReplaceAll(v, "-", "."), nil
	}
	v = strings.TrimPrefix(v, "v")
	if !regexp.MustCompile(`^[0-9][0-9A-Za-z.+~-]*$`).MatchString(v) {
		return "", fmt.Errorf("version %q: a tag like v1.2.3 or a commit hash is expected", describe)
	}
	if i := strings.IndexByte(v, '-'); i >= 0 {
		v = v[:i] + "+" + strings.ReplaceAll(v[i+1:], "-", ".")
	}
	return v, nil
}

// info is the package's metadata and contents, for nfpm.
func info(o *options, stage string) (*nfpm.Info, error) {
	version, err := pkgVersion(o.version)
	if err != nil {
		return nil, err
	}
	es, err := entries(o)
	if err != nil {
		return nil, err
	}
	var contents files.Contents
	for _, e := range es {
		c := &files.Content{Destination: e.dst, FileInfo: &files.ContentFileInfo{Mode: e.mode, MTime: o.mtime, Owner: "root", Group: "root"}}
		switch {
		case e.dir:
			c.Type = files.TypeDir
		case e.src != "":
			if _, err := os.Stat(e.src); err != nil {
				return nil, err
			}
			c.Source = e.src
		default:
			p := filepath.Join(stage, strings.ReplaceAll(strings.TrimPrefix(e.dst, "/"), "/", "_"))
			if err := os.WriteFile(p, e.data, 0o644); err != nil {
				return nil, err
			}
			c.Source = p
		}
		contents = append(contents, c)
	}
	reload := filepath.Join(stage, "daemon-reload")
	if err := os.WriteFile(reload, []byte(daemonReload), 0o755); err != nil {
		return nil, err
	}
	scripts := nfpm.Scripts{PostInstall: reload, PostRemove: reload}
	provides := "wireguard-tools (= " + compatible + ")"
	if o.format == "rpm" {
		provides = "wireguard-tools = " + compatible
	}
	in := &nfpm.Info{
		Name:          "wgtools",
		Arch:          o.arch,
		Platform:      "linux",
		Version:       version,
		VersionSchema: "none",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    o.maintainer,
		Homepage:      "https://github.com/gowg/wgtools",
		License:       "MIT",
		Description: "WireGuard's wg and wg-quick, in Go, as drop-in replacements\n" +
			"The same commands, output, messages and exit codes as wireguard-tools " + compatible + ",\n" +
			"with every change made through netlink and an embedded userspace WireGuard\n" +
			"device where the kernel has no module. Static binaries: no run-time\n" +
			"dependencies (bash runs PreUp/PostUp/PreDown/PostDown hooks).",
		MTime: o.mtime,
		Overridables: nfpm.Overridables{
			Provides:   []string{provides},
			Replaces:   []string{"wireguard-tools"},
			Conflicts:  []string{"wireguard-tools"},
			Recommends: []string{"bash"},
			Suggests:   []string{"openresolv | resolvconf"},
			Contents:   contents,
			Scripts:    scripts,
			Umask:      0o022,
			RPM:        nfpm.RPM{Summary: "WireGuard's wg and wg-quick, in Go, as drop-in replacements", Packager: o.maintainer},
		},
	}
	if o.format == "rpm" {
		// rpm has no "or" in Suggests, and names the resolver package openresolv.
		in.Suggests = []string{"openresolv"}
	}
	return in, nil
}

// daemonReload is the post-install and post-remove script: it makes
// systemd see the units come or go (as the distribution's package does);
// it neither starts nor stops a tunnel.
const daemonReload = "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then\n\tsystemctl --system daemon-reload >/dev/null || true\nfi\n"

func build(o *options) error {
	if o.format != "deb" && o.format != "rpm" {
		return fmt.Errorf("-format %q: deb or rpm", o.format)
	}
	stage, err := os.MkdirTemp("", "mkpkg")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	in, err := info(o, stage)
	if err != nil {
		return err
	}
	packager, err := nfpm.Get(o.format)
	if err != nil {
		return err
	}
	in = nfpm.WithDefaults(in)
	if err := nfpm.PrepareForPackager(in, o.format); err != nil {
		return err
	}
	tmp := o.out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := packager.Package(in, f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("building the %s package: %w", o.format, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, o.out)
}
