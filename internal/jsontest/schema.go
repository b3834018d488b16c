// Package jsontest checks our JSON documents (docs/json.md) in tests: it
// validates them against the JSON Schema files shipped in dist/schema, and
// compares `wg show ... json` with `wg show ... dump` field by field. It is
// internal test support: only _test files and the VM guest's checker
// (vmtest/cmd/jsoncheck) import it.
package jsontest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Dir is dist/schema in this source tree.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("jsontest: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "dist", "schema")
}

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Load compiles dist/schema/NAME.schema.json, with formats (date-time)
// asserted, not only annotated.
func Load(name string) (*jsonschema.Schema, error) {
	return LoadFile(filepath.Join(Dir(), name+".schema.json"))
}

// LoadFile compiles the schema in file (as Load; for a program that
// carries the schema elsewhere, as the VM guest's checker does).
func LoadFile(file string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[file]; ok {
		return s, nil
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(file)
	if err != nil {
		return nil, fmt.Errorf("compiling the schema %s: %w", file, err)
	}
	compiled[file] = s
	return s, nil
}

// Validate checks doc, one JSON document, against the schema NAME.
func Validate(name string, doc []byte) error {
	return ValidateFile(filepath.Join(Dir(), name+".schema.json"), doc)
}

// ValidateFile checks doc, one JSON document, against the schema in file.
func ValidateFile(file string, doc []byte) error {
	s, err := LoadFile(file)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(inst)
}

// Check fails t when doc does not validate against the schema NAME.
func Check(t testing.TB, name string, doc []byte) {
	t.Helper()
	if err := Validate(name, doc); err != nil {
		t.Fatalf("the document does not follow dist/schema/%s.schema.json: %v\n%.2000s", name, err, doc)
	}
}
