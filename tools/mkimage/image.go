package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type options struct {
	bindir, version, arch, layout, tar, rootfs string
	mtime                                      time.Time
}

// A member of the image's only layer.
type member struct {
	name string // relative to /
	mode int64
	kind byte   // tar.TypeReg, TypeDir, TypeSymlink
	src  string // regular files: where the content comes from
	link string // symlinks: the target
}

// members is the whole file system of the image: the two binaries, and
// the directories wg-quick writes to (its configurations, the lock and UAPI
// sockets under /var/run/wireguard), as on a host.
func members(bindir string) []member {
	return []member{
		{name: "etc/", mode: 0o755, kind: tar.TypeDir},
		{name: "etc/wireguard/", mode: 0o700, kind: tar.TypeDir},
		{name: "run/", mode: 0o755, kind: tar.TypeDir},
		{name: "tmp/", mode: 0o1777, kind: tar.TypeDir},
		{name: "usr/", mode: 0o755, kind: tar.TypeDir},
		{name: "usr/bin/", mode: 0o755, kind: tar.TypeDir},
		{name: "usr/bin/wg", mode: 0o755, kind: tar.TypeReg, src: filepath.Join(bindir, "wg")},
		{name: "usr/bin/wg-quick", mode: 0o755, kind: tar.TypeReg, src: filepath.Join(bindir, "wg-quick")},
		{name: "var/", mode: 0o755, kind: tar.TypeDir},
		{name: "var/run", mode: 0o777, kind: tar.TypeSymlink, link: "../run"},
	}
}

// layerTar is the layer's uncompressed tar.
func layerTar(ms []member, mtime time.Time) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Mode: m.mode, Typeflag: m.kind, Linkname: m.link, ModTime: mtime, Format: tar.FormatPAX}
		var data []byte
		if m.kind == tar.TypeReg {
			var err error
			if data, err = os.ReadFile(m.src); err != nil {
				return nil, err
			}
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// image builds the OCI image: scratch, one layer, PATH=/usr/bin, and
// `wg --version` when run without a command.
func image(o *options) (v1.Image, error) {
	data, err := layerTar(members(o.bindir), o.mtime)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created:   v1.Time{Time: o.mtime},
		CreatedBy: "wgtools mkimage: /usr/bin/wg, /usr/bin/wg-quick",
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.arch
	cf.Created = v1.Time{Time: o.mtime}
	cf.Config = v1.Config{
		Env:        []string{"PATH=/usr/bin"},
		Cmd:        []string{"wg", "--version"},
		StopSignal: "SIGTERM",
		Labels: map[string]string{
			"org.opencontainers.image.title":    "wgtools",
			"org.opencontainers.image.version":  o.version,
			"org.opencontainers.image.source":   "https://github.com/gowg/wgtools",
			"org.opencontainers.image.licenses": "MIT",
		},
	}
	return mutate.ConfigFile(img, cf)
}

// writeRootfs lays the members out under dir, as a container engine
// unpacks the image.
func writeRootfs(ms []member, dir string) error {
	for _, m := range ms {
		p := filepath.Join(dir, filepath.FromSlash(m.name))
		switch m.kind {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(p, os.FileMode(m.mode&0o777)|modeBits(m.mode)); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(m.link, p); err != nil {
				return err
			}
		default:
			data, err := os.ReadFile(m.src)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, data, os.FileMode(m.mode)); err != nil {
				return err
			}
		}
	}
	return nil
}

// modeBits turns tar's sticky bit into Go's.
func modeBits(mode int64) os.FileMode {
	if mode&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

func write(o *options) error {
	if o.rootfs != "" {
		if err := writeRootfs(members(o.bindir), o.rootfs); err != nil {
			return fmt.Errorf("laying out %s: %w", o.rootfs, err)
		}
	}
	if o.layout == "" && o.tar == "" {
		return nil
	}
	img, err := image(o)
	if err != nil {
		return err
	}
	ref := "wgtools:" + o.version
	if o.layout != "" {
		if err := os.RemoveAll(o.layout); err != nil {
			return err
		}
		p, err := layout.Write(o.layout, empty.Index)
		if err != nil {
			return err
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
			return fmt.Errorf("writing the OCI layout %s: %w", o.layout, err)
		}
	}
	if o.tar != "" {
		tag, err := name.NewTag(ref)
		if err != nil {
			return err
		}
		if err := tarball.WriteToFile(o.tar, tag, img); err != nil {
			return fmt.Errorf("writing %s: %w", o.tar, err)
		}
	}
	return nil
}
