// Command jsoncheck runs in the VM guest (vmtest/guest/checks/kernel-json.sh):
// it checks one JSON document against a JSON Schema file and, given a
// dump, `wg show ... json` against `wg show ... dump` field by field
// (internal/jsontest, the same checks the userspace tests make).
//
//	jsoncheck -schema FILE [-dump FILE [-all] [-keys]] DOCUMENT
//
// -all: the document and the dump are of `wg show all`; -keys: secret
// keys are shown (WG_HIDE_KEYS=never), else they must read (hidden). It
// prints what disagrees and exits 1, or exits 0 silently.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gowg/wgtools/internal/jsontest"
)

func main() {
	schema := flag.String("schema", "", "the JSON Schema file")
	dump := flag.String("dump", "", "the `wg show ... dump` of the same state")
	all := flag.Bool("all", false, "the document and dump are of `wg show all`")
	keys := flag.Bool("keys", false, "secret keys are shown (WG_HIDE_KEYS=never)")
	flag.Parse()
	if *schema == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: jsoncheck -schema FILE [-dump FILE [-all] [-keys]] DOCUMENT")
		os.Exit(2)
	}
	if err := check(*schema, *dump, flag.Arg(0), *all, *keys); err != nil {
		fmt.Fprintln(os.Stderr, "jsoncheck:", err)
		os.Exit(1)
	}
}

func check(schema, dumpFile, docFile string, all, keys bool) error {
	doc, err := os.ReadFile(docFile)
	if err != nil {
		return err
	}
	if err := jsontest.ValidateFile(schema, doc); err != nil {
		return fmt.Errorf("%s does not follow %s: %v", docFile, schema, err)
	}
	if dumpFile == "" {
		return nil
	}
	dump, err := os.ReadFile(dumpFile)
	if err != nil {
		return err
	}
	if err := jsontest.AgreesWithDump(doc, string(dump), all, keys); err != nil {
		return fmt.Errorf("%s and the dump %s disagree: %v", docFile, dumpFile, err)
	}
	return nil
}
