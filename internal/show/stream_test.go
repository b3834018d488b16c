package show

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/gowg/wgtools/internal/conf"
)

// TestStreamIsWholeForm: writing a device through Stream, one peer at a
// time (each a copy in the same reused variable, as a streaming reader
// hands them), prints what the whole-device functions print.
func TestStreamIsWholeForm(t *testing.T) {
	forms := append([]string{"json", "showconf"}, Fields...)
	for _, d := range jsonDevices() {
		for _, form := range forms {
			for _, withName := range []bool{false, true} {
				if withName && (form == "json" || form == "showconf") {
					continue
				}
				st := Style{Now: now}
				whole := render(func(w *bufio.Writer) {
					switch form {
					case "json":
						writeJSON(w, st, d)
					case "showconf":
						Showconf(w, d)
					default:
						Field(w, d, form, withName)
					}
				})
				streamed := render(func(w *bufio.Writer) {
					var doc *JSON
					if form == "json" {
						doc = BeginJSON(w, st)
					}
					s, ok := NewStream(w, form, withName, doc)
					if !ok {
						t.Fatalf("NewStream refuses %q", form)
					}
					head := *d
					head.Peers = nil
					s.Header(&head)
					var cur conf.DevicePeer
					for _, p := range d.Peers {
						cur = p
						s.Peer(&cur)
						cur = conf.DevicePeer{PublicKey: conf.Key{0xff}} // reused
					}
					s.End()
					if doc != nil {
						doc.End()
					}
				})
				if !bytes.Equal(whole, streamed) {
					t.Errorf("%s %s (name %v): streamed\n%s\nwhole\n%s", d.Name, form, withName, streamed, whole)
				}
			}
		}
	}
	if _, ok := NewStream(nil, "pretty", false, nil); ok {
		t.Error("NewStream takes the pretty form, which sorts its peers")
	}
}
