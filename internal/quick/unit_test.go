package quick

import (
	"slices"
	"testing"
)

func TestSortNR(t *testing.T) {
	in := []string{"0.0.0.0/0", "10.0.0.2/32", "fd00::2/128", "192.168.1.0/24", "::/0", "10.0.0.0/24", "fd00:1::/48"}
	want := []string{"fd00::2/128", "fd00:1::/48", "10.0.0.2/32", "192.168.1.0/24", "10.0.0.0/24", "::/0", "0.0.0.0/0"}
	sortNR(in)
	if !slices.Equal(in, want) {
		t.Fatalf("got %v, want %v", in, want)
	}
}
