// Package testrun reads the event stream of `go test -json`, prints what
// `go test` prints (the output of failed tests, the package lines; with
// Verbose everything, as `go test -v`), and ends with the number of tests
// run, passed, failed and skipped per package and the list of every skip
// with its reason.
//
// In strict mode a skipped test is a failure unless an entry of an
// Allowlist names it: its package, its name and the words of its skip
// message, with the reason that skip is correct on the machine the tests
// run on. So a tool that failed to install cannot turn the tests that need
// it into green skips.
//
// It is internal to wgtools' test run (scripts/testrun, `make test`) and
// not part of wg or wg-quick.
package testrun
