package main

import "fmt"

// These subcommands talk to devices; they arrive with the device backend.

func showMain(e *env, args []string) int     { return notYet(e, args) }
func showconfMain(e *env, args []string) int { return notYet(e, args) }
func setMain(e *env, args []string) int      { return notYet(e, args) }
func setconfMain(e *env, args []string) int  { return notYet(e, args) }

func notYet(e *env, args []string) int {
	fmt.Fprintf(e.stderr, "%s %s: not implemented yet\n", e.prog, args[0])
	return 1
}
