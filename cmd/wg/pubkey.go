package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/gowg/wgtools/internal/conf"
)

// pubkeyMain is `wg pubkey`: exactly 44 base64 characters on stdin, then
// nothing but whitespace or NUL bytes.
func pubkeyMain(e *env, args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(e.stderr, "Usage: %s %s\n", e.prog, args[0])
		return 1
	}
	in := bufio.NewReader(e.stdin)
	var buf [44]byte
	defer clear(buf[:])
	if _, err := io.ReadFull(in, buf[:]); err != nil {
		fmt.Fprintf(e.stderr, "%s: Key is not the correct length or format\n", e.prog)
		return 1
	}
	for {
		c, err := in.ReadByte()
		if err != nil {
			break
		}
		if c != 0 && c != ' ' && !(c >= '\t' && c <= '\r') {
			fmt.Fprintf(e.stderr, "%s: Trailing characters found after key\n", e.prog)
			return 1
		}
	}
	priv, err := conf.ParseKey(string(buf[:]))
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: Key is not the correct length or format\n", e.prog)
		return 1
	}
	defer priv.Wipe()
	pub := priv.PublicKey()
	writeKey(e.stdout, &pub)
	return 0
}
