// Command gostart does nothing: make bench times it to show what starting
// the Go runtime costs a process (against /bin/true).
package main

func main() {}
