package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// compressions are the payload formats a bzImage may carry, by magic.
var compressions = []struct {
	magic []byte
	tool  []string
}{
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, []string{"zstd", "-dcq"}},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, []string{"xz", "-dcq"}},
	{[]byte{0x1f, 0x8b, 0x08}, []string{"gzip", "-dcq"}},
	{[]byte{0x02, 0x21, 0x4c, 0x18}, []string{"lz4", "-dcq"}},
}

var elfMagic = []byte{0x7f, 'E', 'L', 'F'}

// vmlinux returns the uncompressed kernel (an ELF with a PVH entry note)
// taken out of the bzImage at image, extracting it into cacheDir once per
// image (keyed by release, size and modification time).
func vmlinux(ctx context.Context, image, release, cacheDir string) (string, error) {
	st, err := os.Stat(image)
	if err != nil {
		return "", err
	}
	out := filepath.Join(cacheDir, fmt.Sprintf("vmlinux-%s-%d-%d", release, st.Size(), st.ModTime().Unix()))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	data, err := os.ReadFile(image)
	if err != nil {
		return "", err
	}
	elf, err := extractVmlinux(ctx, data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", image, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cacheDir, ".vmlinux-")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(elf); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	tmp.Close()
	return out, os.Rename(tmp.Name(), out)
}

// extractVmlinux finds the compressed payload in a bzImage: at each offset
// where a known magic appears, it decompresses from there and keeps the
// first result that is an ELF file. The decompressors stop at the end of
// the stream and complain about what follows; that complaint is ignored
// when the output is an ELF.
func extractVmlinux(ctx context.Context, data []byte) ([]byte, error) {
	if bytes.HasPrefix(data, elfMagic) {
		return data, nil
	}
	for _, c := range compressions {
		if _, err := exec.LookPath(c.tool[0]); err != nil {
			continue
		}
		for off := 0; ; {
			i := bytes.Index(data[off:], c.magic)
			if i < 0 {
				break
			}
			off += i
			cmd := exec.CommandContext(ctx, c.tool[0], c.tool[1:]...)
			cmd.Stdin = bytes.NewReader(data[off:])
			out, _ := cmd.Output()
			if bytes.HasPrefix(out, elfMagic) {
				return out, nil
			}
			off++
		}
	}
	return nil, fmt.Errorf("no zstd, xz, gzip or lz4 payload that decompresses to an ELF kernel")
}
