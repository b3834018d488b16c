// Command testrun runs `go test -json` with the given arguments, prints
// what go test prints (everything with -v), and ends with the tests run,
// passed, failed and skipped per package and every skip with its message.
//
//	go run ./scripts/testrun [-strict] [-v] [-allow FILE] [-save SAVED.json] [--] GO-TEST-ARGS...
//	go run ./scripts/testrun [-strict] [-allow FILE] -from SAVED.json [-from ...]
//
// The second form prints one summary of saved runs (make test: the unit
// pass and the VM tests).
//
// With -strict, a skip fails the run unless the list of allowed skips
// (allowed-skips.txt beside this file, built in; -allow to read another)
// names it. `make test` runs the tests through it, strict unless STRICT=0.
// The environment variable GO names the go command (default "go").
// Exit status: 0 when the run passed, 1 when it did not, 2 on a usage
// error.
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/gowg/wgtools/internal/testrun"
)

//go:embed allowed-skips.txt
var allowedSkips string

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "a skip not on the allowed list fails the run")
	verbose := fs.Bool("v", false, "print every test's output as it comes (go test -v)")
	allowFile := fs.String("allow", "", "the list of allowed skips (default: the built-in allowed-skips.txt)")
	var from []string
	fs.Func("from", "summarize a saved stream of go test -json in `FILE` (repeatable: one summary for all) instead of running go test", func(f string) error {
		from = append(from, f)
		return nil
	})
	save := fs.String("save", "", "save the stream of go test -json in `FILE`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	name, text := "allowed-skips.txt", allowedSkips
	if *allowFile != "" {
		data, err := os.ReadFile(*allowFile)
		if err != nil {
			fmt.Fprintf(stderr, "testrun: %v\n", err)
			return 2
		}
		name, text = *allowFile, string(data)
	}
	allow, err := testrun.ParseAllowlist(name, text)
	if err != nil {
		fmt.Fprintf(stderr, "testrun: %v\n", err)
		return 2
	}
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	module, err := modulePath(goTool)
	if err != nil {
		fmt.Fprintf(stderr, "testrun: %v\n", err)
		return 2
	}
	r := &testrun.Reader{Module: module, Verbose: *verbose, Allow: allow, Strict: *strict, Out: stdout}
	if len(from) > 0 {
		// Quietly: the streams' output was shown when they ran.
		r.Out, r.Verbose = io.Discard, false
		for _, name := range from {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(stderr, "testrun: %v\n", err)
				return 2
			}
			err = r.Read(f)
			f.Close()
			if err != nil {
				fmt.Fprintf(stderr, "testrun: reading %s: %v\n", name, err)
				return 1
			}
		}
		if !r.Report().Print(stdout, false) {
			return 1
		}
		return 0
	}
	var saved *os.File
	if *save != "" {
		if saved, err = os.Create(*save); err != nil {
			fmt.Fprintf(stderr, "testrun: %v\n", err)
			return 2
		}
		defer saved.Close()
	}
	cmd := exec.Command(goTool, append([]string{"test", "-json"}, fs.Args()...)...)
	cmd.Stderr = stderr
	events, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(stderr, "testrun: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "testrun: %s test -json %s\n", goTool, strings.Join(fs.Args(), " "))
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "testrun: %v\n", err)
		return 2
	}
	var in io.Reader = events
	if saved != nil {
		in = io.TeeReader(events, saved)
	}
	readErr := r.Read(in)
	if readErr != nil {
		io.Copy(io.Discard, events)
	}
	waitErr := cmd.Wait()
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		fmt.Fprintf(stderr, "testrun: %v\n", waitErr)
		return 1
	}
	if readErr != nil {
		fmt.Fprintf(stderr, "testrun: reading go test's events: %v\n", readErr)
		return 1
	}
	if !r.Report().Print(stdout, waitErr != nil) {
		return 1
	}
	return 0
}

// modulePath is the main module's path, to show packages relative to it.
func modulePath(goTool string) (string, error) {
	out, err := exec.Command(goTool, "list", "-m").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s list -m: %v: %s", goTool, err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("%s list -m: %v", goTool, err)
	}
	return strings.TrimSpace(string(out)), nil
}
