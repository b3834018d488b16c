package show

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/jsontest"
)

// jsonDevices are the fixtures with every kind of value, and names that
// need escaping in JSON.
func jsonDevices() []*conf.Device {
	return []*conf.Device{
		fmt0(), clocks(), units(), endpoints(),
		{Name: "empty0"},
		{Name: "a\x1b[31mb\"\\", ListenPort: 2},
		{Name: "bad\xffutf8\tü", FwMark: 1},
	}
}

func writeJSON(w *bufio.Writer, st Style, devs ...*conf.Device) {
	doc := BeginJSON(w, st)
	for _, d := range devs {
		doc.Device(d)
	}
	doc.End()
}

func render(f func(w *bufio.Writer)) []byte {
	var out bytes.Buffer
	w := bufio.NewWriterSize(&out, 4096)
	f(w)
	w.Flush()
	return out.Bytes()
}

// TestJSONAgreesWithDump: the JSON of every fixture follows the schema and
// says what dump says, field by field, with keys hidden and shown, for one
// interface and for all of them.
func TestJSONAgreesWithDump(t *testing.T) {
	devs := jsonDevices()
	for _, showKeys := range []bool{false, true} {
		st := Style{ShowKeys: showKeys, Now: now}
		for _, d := range devs {
			doc := render(func(w *bufio.Writer) { writeJSON(w, st, d) })
			jsontest.Check(t, "wg-show", doc)
			dump := render(func(w *bufio.Writer) { Dump(w, d, false) })
			if !utf8.ValidString(d.Name) {
				// JSON carries the name as U+FFFD; dump the same name
				// that way to compare the rest.
				dump = bytes.ReplaceAll(dump, []byte(d.Name), []byte(strings.ToValidUTF8(d.Name, "\ufffd")))
			}
			if err := jsontest.AgreesWithDump(doc, string(dump), false, showKeys); err != nil {
				t.Errorf("%q (show keys %v): %v\n%s", d.Name, showKeys, err, doc)
			}
		}
		all := render(func(w *bufio.Writer) { writeJSON(w, st, devs[:5]...) })
		jsontest.Check(t, "wg-show", all)
		dump := render(func(w *bufio.Writer) {
			for _, d := range devs[:5] {
				Dump(w, d, true)
			}
		})
		if err := jsontest.AgreesWithDump(all, string(dump), true, showKeys); err != nil {
			t.Errorf("all (show keys %v): %v", showKeys, err)
		}
	}
}

// TestJSONHidesKeys: no secret key appears in the default document, and
// both do with WG_HIDE_KEYS=never.
func TestJSONHidesKeys(t *testing.T) {
	secrets := []string{privA.String(), psk.String()}
	hidden := render(func(w *bufio.Writer) { writeJSON(w, Style{Now: now}, fmt0()) })
	shown := render(func(w *bufio.Writer) { writeJSON(w, Style{ShowKeys: true, Now: now}, fmt0()) })
	for _, s := range secrets {
		if bytes.Contains(hidden, []byte(s)) {
			t.Errorf("the default document holds the secret key %s", s)
		}
		if !bytes.Contains(shown, []byte(s)) {
			t.Errorf("the WG_HIDE_KEYS=never document lacks the key %s", s)
		}
	}
	if n := bytes.Count(hidden, []byte(`"(hidden)"`)); n != 2 {
		t.Errorf("%d keys hidden, want 2 (the private key and one preshared key)", n)
	}
}

// TestJSONIsIndentedAsJq: the document is what json.Indent (jq's layout,
// two spaces) makes of it, so the layout is the documented one.
func TestJSONIsIndentedAsJq(t *testing.T) {
	for _, devs := range [][]*conf.Device{nil, {{Name: "e"}}, jsonDevices()} {
		doc := render(func(w *bufio.Writer) { writeJSON(w, Style{Now: now}, devs...) })
		var compact, indented bytes.Buffer
		if err := json.Compact(&compact, doc); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		json.Indent(&indented, compact.Bytes(), "", "  ")
		indented.WriteByte('\n')
		if indented.String() != string(doc) {
			t.Errorf("layout differs from json.Indent's:\n--- got\n%s--- want\n%s", doc, indented.String())
		}
	}
}

// TestJSONStreams: a device with many peers is written through a small
// buffer as it goes: the writer never holds more than its buffer.
func TestJSONStreams(t *testing.T) {
	d := &conf.Device{Name: "big"}
	for i := 0; i < 5000; i++ {
		d.Peers = append(d.Peers, fmt0().Peers[1])
	}
	var sink countingWriter
	w := bufio.NewWriterSize(&sink, 4096)
	writeJSON(w, Style{Now: now}, d)
	w.Flush()
	if sink.writes < 100 || sink.max > 4096 {
		t.Errorf("%d writes of at most %d bytes for %d bytes: not streamed through the 4 KiB buffer", sink.writes, sink.max, sink.n)
	}
}

type countingWriter struct{ n, max, writes int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	c.max = max(c.max, len(p))
	c.writes++
	return len(p), nil
}
