package main

import (
	"fmt"
	"io"

	"github.com/gowg/wgtools/internal/conf"
)

// genkeyMain is `wg genkey` and `wg genpsk`.
func genkeyMain(e *env, args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(e.stderr, "Usage: %s %s\n", e.prog, args[0])
		return 1
	}
	if e.stdoutFile != nil {
		if st, err := e.stdoutFile.Stat(); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o007 != 0 {
			fmt.Fprintf(e.stderr, "Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n")
			// The file is about to hold a secret: keep it to its owner.
			_ = e.stdoutFile.Chmod(st.Mode().Perm() & 0o700)
		}
	}
	generate := conf.GeneratePrivateKey
	if args[0] == "genpsk" {
		generate = conf.GeneratePresharedKey
	}
	k, err := generate()
	if err != nil {
		fmt.Fprintf(e.stderr, "getrandom: %s\n", conf.Strerror(err))
		return 1
	}
	defer k.Wipe()
	if err := writeKey(e.stdout, &k); err != nil {
		fmt.Fprintf(e.stderr, "%s: %s\n", args[0], conf.Strerror(err))
		return 1
	}
	return 0
}

// writeKey writes k in base64 and a newline, in one write, without fmt
// (whose first use costs a wg process more than the rest of genkey) and
// without leaving a copy of the key behind.
func writeKey(w io.Writer, k *conf.Key) error {
	var buf [45]byte
	defer clear(buf[:])
	b := k.AppendBase64(buf[:0])
	_, err := w.Write(append(b, '\n'))
	return err
}
