package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// autoSu re-runs wg-quick under sudo when not root, as the reference's
// auto_su does. done is true when this process should exit with code.
func autoSu(e *env) (code int, done bool) {
	if e.uid == 0 {
		return 0, false
	}
	sudo, err := exec.LookPath("sudo")
	if err != nil {
		return e.die("must be run as root"), true
	}
	argv := append([]string{"sudo", "-p", fmt.Sprintf("%s must be run as root. Please enter the password for %%u to continue: ", e.prog), "--", e.self}, e.args...)
	err = syscall.Exec(sudo, argv, os.Environ())
	return e.die("unable to run sudo: %v", err), true
}
