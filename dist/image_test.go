package dist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gowg/wgtools/internal/testnet"
)

var (
	imageOnce sync.Once
	imageErr  string
)

// buildImage runs `make image` once in the copy of the source tree and
// returns its bin directory (image/, wgtools-image.tar).
func buildImage(t *testing.T) string {
	t.Helper()
	need(t, "make")
	imageOnce.Do(func() {
		cmd := exec.Command("make", "-s", "image", "VERSION="+testVersion)
		cmd.Dir = srcCopy
		for _, kv := range os.Environ() {
			if name, _, _ := strings.Cut(kv, "="); !slices.Contains(makeVars, name) {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			imageErr = "make image: " + err.Error() + "\n" + string(out)
		}
	})
	if imageErr != "" {
		t.Fatal(imageErr)
	}
	return filepath.Join(srcCopy, "bin")
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
}

// ociImage reads an OCI image layout (its only image) by the spec, with
// the standard library: the config, and the layers' tar streams.
func ociImage(t *testing.T, dir string) (config map[string]any, layers [][]byte, ref string) {
	t.Helper()
	blob := func(d string) []byte {
		algo, hex, _ := strings.Cut(d, ":")
		data, err := os.ReadFile(filepath.Join(dir, "blobs", algo, hex))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if data, err := os.ReadFile(filepath.Join(dir, "oci-layout")); err != nil || !strings.Contains(string(data), `"imageLayoutVersion"`) {
		t.Fatalf("oci-layout: %v %s", err, data)
	}
	var index struct{ Manifests []ociDescriptor }
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %v, %d manifests", err, len(index.Manifests))
	}
	var manifest struct {
		Config ociDescriptor
		Layers []ociDescriptor
	}
	if err := json.Unmarshal(blob(index.Manifests[0].Digest), &manifest); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(blob(manifest.Config.Digest), &config); err != nil {
		t.Fatal(err)
	}
	for _, l := range manifest.Layers {
		if l.MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
			t.Fatalf("layer media type %q", l.MediaType)
		}
		zr, err := gzip.NewReader(bytes.NewReader(blob(l.Digest)))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, raw)
	}
	return config, layers, index.Manifests[0].Annotations["org.opencontainers.image.ref.name"]
}

// imageListing lists a layer: "mode name" per member, "-> target" for links.
func imageListing(t *testing.T, layer []byte) []string {
	t.Helper()
	var list []string
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%s %s", h.FileInfo().Mode(), h.Name)
		if h.Typeflag == tar.TypeSymlink {
			line += " -> " + h.Linkname
		}
		if h.Uid != 0 || h.Gid != 0 {
			line += fmt.Sprintf(" (owner %d:%d)", h.Uid, h.Gid)
		}
		list = append(list, line)
	}
	return list
}

// TestImageFiles: the image is our two binaries (those of the build) and
// the empty directories they write to, nothing else; PATH=/usr/bin; the
// docker tarball holds the same layer under the tag wgtools:VERSION; the
// Dockerfile builds the same file list (its build stage runs mkimage
// -rootfs) on scratch.
func TestImageFiles(t *testing.T) {
	bin := buildImage(t)
	config, layers, ref := ociImage(t, filepath.Join(bin, "image"))
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	want := []string{
		"drwxr-xr-x etc/",
		"drwx------ etc/wireguard/",
		"drwxr-xr-x run/",
		"dtrwxrwxrwx tmp/",
		"drwxr-xr-x usr/",
		"drwxr-xr-x usr/bin/",
		"-rwxr-xr-x usr/bin/wg",
		"-rwxr-xr-x usr/bin/wg-quick",
		"drwxr-xr-x var/",
		"Lrwxrwxrwx var/run -> ../run",
	}
	if got := imageListing(t, layers[0]); !slices.Equal(got, want) {
		t.Errorf("the image's files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tr := tar.NewReader(bytes.NewReader(layers[0]))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		got, _ := io.ReadAll(tr)
		built, err := os.ReadFile(filepath.Join(bin, filepath.Base(h.Name)))
		if err != nil || !bytes.Equal(got, built) {
			t.Errorf("%s is not bin/%s (%v)", h.Name, filepath.Base(h.Name), err)
		}
	}
	if ref != "wgtools:"+testVersion {
		t.Errorf("ref name %q", ref)
	}
	cfg, _ := config["config"].(map[string]any)
	if fmt.Sprint(cfg["Env"]) != "[PATH=/usr/bin]" || config["os"] != "linux" || config["architecture"] == "" {
		t.Errorf("config: %v", config)
	}

	// docker load's tarball: the same layer, tagged.
	f, err := os.Open(filepath.Join(bin, "wgtools-image.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	members := map[string][]byte{}
	dtr := tar.NewReader(f)
	for {
		h, err := dtr.Next()
		if err != nil {
			break
		}
		members[h.Name], _ = io.ReadAll(dtr)
	}
	var manifest []struct {
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("docker tarball manifest.json: %v %s", err, members["manifest.json"])
	}
	if !slices.Equal(manifest[0].RepoTags, []string{"wgtools:" + testVersion}) || len(manifest[0].Layers) != 1 {
		t.Errorf("docker tarball: %+v", manifest[0])
	}
	if zr, err := gzip.NewReader(bytes.NewReader(members[manifest[0].Layers[0]])); err != nil {
		t.Errorf("docker tarball layer: %v", err)
	} else if raw, _ := io.ReadAll(zr); !bytes.Equal(raw, layers[0]) {
		t.Error("the docker tarball's layer differs from the OCI layout's")
	}

	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"FROM scratch\n", "COPY --from=build /rootfs/ /\n", "go run ./mkimage -bin ../bin -version \"$VERSION\" -rootfs /rootfs\n", "ENV PATH=/usr/bin\n"} {
		if !strings.Contains(string(dockerfile), line) {
			t.Errorf("Dockerfile lacks %q", line)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test
// reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// unpackLayer writes a layer's members under dir, as a container engine
// unpacks an image.
func unpackLayer(t *testing.T, layer []byte, dir string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, h.FileInfo().Mode()&(os.ModePerm|os.ModeSticky)); err != nil {
				t.Fatal(err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, p); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			data, _ := io.ReadAll(tr)
			if err := os.WriteFile(p, data, h.FileInfo().Mode().Perm()); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("%s: unexpected member type %c", h.Name, h.Typeflag)
		}
	}
}

// TestImageFullTunnel runs the image as `docker run --cap-add NET_ADMIN
// --device /dev/net/tun --sysctl net.ipv4.conf.all.src_valid_mark=1 -v
// wg0.conf:/etc/wireguard/wg0.conf wgtools wg-quick up
// /etc/wireguard/wg0.conf` would, without an engine: in a test host (its
// own network namespace), a new PID and mount namespace whose root is the
// unpacked image plus what a runtime adds (/proc with /proc/sys read-only,
// a read-only /sys, /dev's basic nodes and /dev/net/tun), wg-quick as PID
// 1 with PATH=/usr/bin. No other program exists in there. A full tunnel
// (0.0.0.0/0, ::/0) comes up with the embedded device and nftables over
// netlink, an address behind the server answers through it, `wg show`
// runs inside (docker exec), and SIGTERM (docker stop) takes it down,
// leaving the host as it was.
func TestImageFullTunnel(t *testing.T) {
	testnet.Require(t)
	need(t, "unshare", "nsenter", "chroot", "mount", "go")
	bin := buildImage(t)
	_, layers, _ := ociImage(t, filepath.Join(bin, "image"))
	nettool := filepath.Join(t.TempDir(), "nettool")
	if out, err := exec.Command("go", "build", "-o", nettool, "../scripts/nettool").CombinedOutput(); err != nil {
		t.Fatalf("building nettool: %v\n%s", err, out)
	}

	srv := testnet.NewHost(t, "wgimg-s")
	ctr := testnet.NewHost(t, "wgimg-c")
	testnet.Connect(t, srv, ctr, "eth0")
	srv.MustRun("ip", "addr", "add", "192.0.2.1/24", "dev", "eth0")
	srv.MustRun("ip", "addr", "add", "198.51.100.1/32", "dev", "lo")
	ctr.MustRun("ip", "addr", "add", "192.0.2.2/24", "dev", "eth0")
	ctr.MustRun("ip", "route", "add", "default", "via", "192.0.2.1")

	key := func() (string, string) {
		priv := strings.TrimSpace(run(t, "", nil, wgBin, "genkey"))
		cmd := exec.Command(wgBin, "pubkey")
		cmd.Stdin = strings.NewReader(priv + "\n")
		pub, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return priv, strings.TrimSpace(string(pub))
	}
	srvPriv, srvPub := key()
	ctrPriv, ctrPub := key()
	srv.WriteFile("/etc/wireguard/wg0.conf", []byte(fmt.Sprintf(
		"[Interface]\nAddress = 10.0.0.1/24\nListenPort = 51820\nPrivateKey = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.2/32\n", srvPriv, ctrPub)), 0o600)
	if r := srv.Run(wgQuickBin, "up", "wg0"); r.Code != 0 {
		t.Fatalf("server up: %d\n%s", r.Code, r.Stderr)
	}
	t.Cleanup(func() { srv.Run(wgQuickBin, "down", "wg0") })

	// The container's root, in the host's private /run.
	const root = "/run/ctr/rootfs"
	if err := os.MkdirAll(ctr.Path(root), 0o755); err != nil {
		t.Fatal(err)
	}
	unpackLayer(t, layers[0], ctr.Path(root))
	ctr.WriteFile(root+"/etc/wireguard/wg0.conf", []byte(fmt.Sprintf(
		"[Interface]\nAddress = 10.0.0.2/24\nPrivateKey = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 192.0.2.1:51820\nPersistentKeepalive = 25\n", ctrPriv, srvPub)), 0o600)
	// docker run --sysctl net.ipv4.conf.all.src_valid_mark=1: /proc/sys
	// is read-only inside, so it is set where the container is made.
	ctr.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=1")
	before := ctr.Snapshot()

	setup := `set -e
R=` + root + `
mkdir -p $R/proc $R/sys $R/dev
mount -t tmpfs -o mode=0755,nosuid dev $R/dev
mkdir -p $R/dev/net
for n in null zero full random urandom tty net/tun; do touch $R/dev/$n; mount --bind /dev/$n $R/dev/$n; done
mount -t sysfs -o ro sysfs $R/sys
mount -t proc proc $R/proc
mount --bind $R/proc/sys $R/proc/sys && mount -o remount,bind,ro $R/proc/sys
exec env -i PATH=/usr/bin HOME=/root "$(command -v chroot)" $R /usr/bin/wg-quick up /etc/wireguard/wg0.conf
`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := ctr.Command(ctx, "unshare", "--pid", "--fork", "--mount", "--propagation", "private", "sh", "-c", setup)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "[!] wg-quick is PID 1") {
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("wg-quick up in the container ended (%v) instead of staying:\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("wg-quick up in the container did not finish:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("wg-quick up in the container:\n%s", stderr.String())
	for _, want := range []string{"[#] wireguard-go wg0", "[#] ip -4 rule add not fwmark 51820 table 51820", "[#] nft -f /dev/fd/63"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("up's trace lacks %q", want)
		}
	}

	// PID 1 of the container: unshare's only child (nsenter executed unshare).
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
	if err != nil || len(strings.Fields(string(children))) != 1 {
		t.Fatalf("the container's init: %v %q", err, children)
	}
	init, _ := strconv.Atoi(strings.Fields(string(children))[0])
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", init)); !strings.HasSuffix(exe, "/usr/bin/wg-quick") {
		t.Fatalf("the container's PID 1 is %s, not wg-quick", exe)
	}

	answered := false
	for range 20 {
		if ctr.Run(nettool, "ping", "198.51.100.1").Code == 0 {
			answered = true
			break
		}
	}
	if !answered {
		t.Error("198.51.100.1 (behind the server) does not answer through the full tunnel")
	}
	if r := ctr.Run("ip", "route", "get", "198.51.100.1"); !strings.Contains(r.Stdout, "dev wg0 table 51820") {
		t.Errorf("198.51.100.1 is not routed into the tunnel:\n%s", r.Stdout)
	}
	// docker exec: the container's namespaces and root.
	exec := exec.Command("nsenter", "-t", strconv.Itoa(init), "-m", "-n", "-p", "-r", "-w", "/usr/bin/wg", "show", "wg0", "latest-handshakes")
	exec.Env = []string{"PATH=/usr/bin"}
	if out, err := exec.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), srvPub+"\t") || strings.HasSuffix(strings.TrimSpace(string(out)), "\t0") {
		t.Errorf("wg show wg0 latest-handshakes in the container: %v %q", err, out)
	}

	// docker stop.
	if err := syscall.Kill(init, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("the container ended with %v:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("SIGTERM did not end the container:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "[#] ip link delete dev wg0") {
		t.Errorf("no down after SIGTERM:\n%s", stderr.String())
	}
	if after := ctr.Snapshot(); after != before {
		t.Errorf("the host differs after the container stopped:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
