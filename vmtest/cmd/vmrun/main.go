// Command vmrun boots the test VM and runs one shell command line in it,
// for poking at the kernel path by hand:
//
//	go run ./vmtest/cmd/vmrun 'uname -r; lsmod'
//	go run ./vmtest/cmd/vmrun -wireguard 'ip link add wg0 type wireguard && ip -d link'
//	go run ./vmtest/cmd/vmrun -out /tmp/res 'wg show all dump > $OUT/dump.txt'
//
// The VMTEST_* variables apply (see the README's "VM tests" section). The
// exit status is the command's.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gowg/wgtools/vmtest"
)

func main() {
	wireguard := flag.Bool("wireguard", true, "load the wireguard module at boot (false: carried but held back, as in the no-module phase)")
	out := flag.String("out", "", "copy the guest's /out to this directory")
	files := fileFlags{}
	flag.Var(files, "file", "GUEST=HOST: carry a host file into the guest (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: vmrun [-wireguard=false] [-out DIR] [-file GUEST=HOST]... 'shell command line'\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	cfg, err := vmtest.ConfigFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmrun:", err)
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "vmrun-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmrun:", err)
		os.Exit(2)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "cmd.sh")
	if err := os.WriteFile(script, []byte("#!/bin/bash\n"+flag.Arg(0)+"\n"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "vmrun:", err)
		os.Exit(2)
	}
	cfg.Modules = vmtest.DefaultModules
	if *wireguard {
		cfg.Modules = append(cfg.Modules, "wireguard")
	} else {
		cfg.Held = []string{"wireguard"}
	}
	cfg.Programs = vmtest.DefaultPrograms
	cfg.Files = files
	cfg.Files["/opt/vmrun/cmd.sh"] = script
	cfg.Command = "/opt/vmrun/cmd.sh"
	cfg.Console = os.Stdout
	cfg.Logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, "vmrun: "+f+"\n", a...) }
	res, err := vmtest.Run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmrun:", err)
		os.Exit(125)
	}
	fmt.Fprintf(os.Stderr, "vmrun: exit %d, boot-to-result %.1fs, setup %.1fs\n", res.ExitCode, res.Boot.Seconds(), res.Setup.Seconds())
	if *out != "" {
		if err := exec.Command("cp", "-a", res.OutDir+"/.", *out).Run(); err != nil {
			fmt.Fprintln(os.Stderr, "vmrun: copying the results:", err)
		}
	}
	res.Remove()
	os.Exit(res.ExitCode)
}

// fileFlags collects -file GUEST=HOST.
type fileFlags map[string]string

func (f fileFlags) String() string { return "" }

func (f fileFlags) Set(v string) error {
	guest, host, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(guest, "/") {
		return fmt.Errorf("want /GUEST/PATH=HOST/PATH, got %q", v)
	}
	f[guest] = host
	return nil
}
