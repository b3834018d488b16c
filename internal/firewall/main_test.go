package firewall

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the helper process of TestSrcValidMarkAcrossProcesses
// when asked to, the tests otherwise.
func TestMain(m *testing.M) {
	if ns := os.Getenv("FW_HELPER_NETNS"); ns != "" {
		if err := srcValidMarkHelper(ns, os.Getenv("FW_HELPER_STATE")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
