package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/gowg/wgtools/internal/conf"
	"github.com/gowg/wgtools/internal/doctor"
	"github.com/gowg/wgtools/internal/osys"
	"github.com/gowg/wgtools/internal/quick"
)

// doctorMain finds out why a tunnel does not carry traffic:
// `wg-quick doctor [--json] [--watch SECONDS] [--to ADDRESS]... CONFIG_FILE|INTERFACE`.
// It changes nothing. Exit status: 0 nothing wrong, 1 something wrong, 2
// it could not look (bad usage included).
func doctorMain(e *env, args []string) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "")
	watch := fs.Float64("watch", 3, "")
	var targets []netip.Prefix
	fs.Func("to", "", func(v string) error {
		p, err := parseTarget(v)
		if err == nil {
			targets = append(targets, p)
		}
		return err
	})
	usage := func(msg string) int {
		if msg != "" {
			fmt.Fprintf(e.stderr, "%s: doctor: %s\n", e.prog, msg)
		}
		fmt.Fprintf(e.stderr, "Usage: %s doctor [ --json ] [ --watch SECONDS ] [ --to ADDRESS[/CIDR] ]... [ CONFIG_FILE | INTERFACE ]\n", e.prog)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usage(err.Error())
	}
	if fs.NArg() != 1 {
		return usage("")
	}
	if *watch < 0 || *watch > 3600 {
		return usage(fmt.Sprintf("--watch %g: give 0 to 3600 seconds", *watch))
	}
	l, err := quick.Load(fs.Arg(0), &conf.Options{Warn: e.warn, LookupEnv: e.lookupEnv}, e.warn)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %s\n", e.prog, err)
		return 2
	}
	defer l.File.Config.Wipe()
	ctx, stop := osys.WithSignals(context.Background())
	defer stop()
	sys, hd, closeSys := newOSSys(osOptions{
		Prog: e.prog, Self: e.self, Environ: os.Environ(), LookupEnv: e.lookupEnv,
		Stdin: os.Stdin, Stdout: os.Stderr, Stderr: os.Stderr,
	})
	defer closeSys()
	d := time.Duration(*watch * float64(time.Second))
	if d > 0 && !*asJSON {
		fmt.Fprintf(e.stderr, "%s: doctor: watching %s for %g s\n", e.prog, l.Interface, *watch)
	}
	s, err := doctor.Read(ctx, l, doctor.Options{Watch: d, Targets: targets, Sys: sys, DNS: hd})
	if err != nil {
		// No document: it could not say anything (docs/json.md).
		fmt.Fprintf(e.stderr, "%s: doctor: %s\n", e.prog, err)
		return 2
	}
	r := doctor.Diagnose(s)
	if *asJSON {
		err = r.WriteJSON(e.stdout)
	} else {
		err = r.WriteText(e.stdout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: doctor: %v\n", e.prog, err)
		return 2
	}
	return r.ExitCode()
}

// parseTarget reads --to's ADDRESS or ADDRESS/CIDR.
func parseTarget(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return p, fmt.Errorf("--to %q: not an address or a network", v)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("--to %q: not an address or a network", v)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
