package conf

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// TestLineReader cuts texts into lines as strings.Split at '\n' does (a
// last line without a newline counts, a final newline ends no empty line),
// whatever sizes the reads come in, for lines shorter and longer than its
// buffer.
func TestLineReader(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	texts := []string{"", "\n", "a", "a\n", "\n\n", "a\nb", "a\nb\n", strings.Repeat("x", lineBufferSize), strings.Repeat("x", lineBufferSize) + "\n", strings.Repeat("x", lineBufferSize-1) + "\ny"}
	for range 200 {
		var b strings.Builder
		for range r.Intn(20) {
			b.WriteString(strings.Repeat("ab", r.Intn(3*lineBufferSize)/(1+r.Intn(200))))
			if r.Intn(8) > 0 {
				b.WriteByte('\n')
			}
		}
		texts = append(texts, b.String())
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
	}
	for _, text := range texts {
		want := strings.Split(text, "\n")
		if want[len(want)-1] == "" {
			want = want[:len(want)-1]
		}
		for name, wrap := range readers {
			lr := newLineReader(wrap(strings.NewReader(text)))
			var got []string
			for {
				line, ok := lr.next()
				if !ok {
					break
				}
				got = append(got, string(line))
			}
			if lr.err != nil || lr.size != int64(len(text)) || lr.n != len(want) || strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
				t.Fatalf("%s, %d bytes: %d lines (err %v, size %d), want %d", name, len(text), len(got), lr.err, lr.size, len(want))
			}
		}
	}
}

// TestParseReaderLimits checks the limits are found wherever they are
// in the stream, in Parse's order, and a read error is returned as it is.
func TestParseReaderLimits(t *testing.T) {
	long := strings.Repeat("#", MaxLineLen+1)
	cases := []struct{ name, text, want string }{
		{"NUL after a bad line", "junk\n[Peer]\n\x00\n", "f:3: Line contains a NUL byte; not a configuration file"},
		{"long line after a bad line", "junk\n" + long + "\n", "f:2: Line is longer than 8 MiB"},
		{"NUL after a long line", long + "\n\x00", "f:2: Line contains a NUL byte; not a configuration file"},
		{"NUL in a long line's end", strings.Repeat("#", MaxLineLen+100) + "\x00\n", "f:1: Line contains a NUL byte; not a configuration file"},
		{"bad line", "[Peer]\nPublicKey = x\n", "f:2: Key is not the correct length or format"},
		{"peer without a key, after the lines", "[Peer]\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n", "f:1: A peer is missing a public key"},
	}
	for _, c := range cases {
		_, err := ParseReader("f", iotest.HalfReader(strings.NewReader(c.text)), &Options{}, nil)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	big := io.MultiReader(strings.NewReader("junk\n"), io.LimitReader(zeros{}, MaxFileSize))
	if _, err := ParseReader("f", big, &Options{}, nil); err == nil || err.Error() != "f: File is larger than 64 MiB; not a configuration file" {
		t.Errorf("too large: %v", err)
	}
	// A read error part way wins over a bad line before it.
	if _, err := ParseReader("f", iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader([]byte("junk\n")))), &Options{}, nil); !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("read error: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
