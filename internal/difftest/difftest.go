// Package difftest shows how two texts differ, for test failure messages:
// one line diff for every test that compares a text with the one it wants
// (a golden file, a reference capture, a state snapshot).
package difftest

import (
	"fmt"
	"strings"
)

// maxCells bounds the longest-common-subsequence table (lines of a times
// lines of b); larger texts are compared line by line at the same place.
const maxCells = 1 << 22

// Lines shows the lines only in a ("- ") and only in b ("+ "), in order:
// a longest-common-subsequence diff, or for very long texts the lines
// that differ at the same line number, with that number.
func Lines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(al)*len(bl) > maxCells {
		return byPosition(al, bl)
	}
	n, m := len(al), len(bl)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && al[i] == bl[j]:
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&out, "+ %s\n", bl[j])
			j++
		default:
			fmt.Fprintf(&out, "- %s\n", al[i])
			i++
		}
	}
	return out.String()
}

func byPosition(al, bl []string) string {
	var out strings.Builder
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&out, "line %d:\n- %q\n+ %q\n", i+1, x, y)
		}
	}
	return out.String()
}
