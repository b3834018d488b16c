package main

// These verbs change the host; they arrive with the netlink backend.

func upMain(e *env, arg string) int   { return e.die("up: not implemented yet") }
func downMain(e *env, arg string) int { return e.die("down: not implemented yet") }
func saveMain(e *env, arg string) int { return e.die("save: not implemented yet") }
