package quick

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
)

// allowedIPText is the reference's filter on `wg show IF allowed-ips`
// words (it drops "(none)"): the regular expression ^[0-9a-z:.]+/[0-9]+$,
// written out (it runs for every allowed IP of the device).
func allowedIPText(s string) bool {
	slash := strings.IndexByte(s, '/')
	if slash < 1 || slash == len(s)-1 {
		return false
	}
	for i := 0; i < slash; i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == ':' || c == '.') {
			return false
		}
	}
	for i := slash + 1; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// allowedIPs lists the device's allowed IPs as `wg show IF allowed-ips`
// prints them, in the order `sort -nr -k 2 -t /` gives: longest prefix
// first; among equal lengths, the whole text in reverse byte order (which
// puts ::/0 before 0.0.0.0/0).
func allowedIPs(dev *conf.Device) []string {
	var list []string
	for i := range dev.Peers {
		for _, p := range dev.Peers[i].AllowedIPs {
			s := conf.FormatPrefix(p)
			if allowedIPText(s) {
				list = append(list, s)
			}
		}
	}
	sortNR(list)
	return list
}

// sortNR sorts as `LC_ALL=C sort -nr -k 2 -t /` (each line's key computed
// once).
func sortNR(list []string) {
	type line struct {
		key  int
		text string
	}
	lines := make([]line, len(list))
	for i, s := range list {
		lines[i] = line{sortKey(s), s}
	}
	// Unstable is enough: lines that compare equal are the same text.
	slices.SortFunc(lines, func(a, b line) int {
		if c := cmp.Compare(b.key, a.key); c != 0 {
			return c
		}
		return strings.Compare(b.text, a.text)
	})
	for i, l := range lines {
		list[i] = l.text
	}
}

// sortKey is sort -n's number for the text after the first '/': its
// leading digits, 0 when there are none.
func sortKey(s string) int {
	_, after, ok := strings.Cut(s, "/")
	if !ok {
		return 0
	}
	end := 0
	for end < len(after) && after[end] >= '0' && after[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(after[:end])
	return n
}
