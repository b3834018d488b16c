// Package dist holds what `make install` puts next to the binaries, and
// the tests that check it: the man pages wg(8) and wg-quick(8) (man/), the
// bash completions (completion/), the systemd units (systemd/; BINDIR is
// filled into wg-quick@.service.in at install time). The package has no
// code: its tests lint the man pages, drive the completion functions in
// bash, verify the units with systemd-analyze, and install into (and
// uninstall from) a temporary DESTDIR, and `go install` the commands from
// a module proxy on disk.
package dist
