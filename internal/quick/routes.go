package quick

import (
	"bytes"
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gowg/wgtools/internal/conf"
)

// allowedIPPattern is the reference's filter on `wg show IF allowed-ips`
// words (it drops "(none)").
var allowedIPPattern = regexp.MustCompile(`^[0-9a-z:.]+/[0-9]+$`)

// allowedIPs lists the device's allowed IPs as `wg show IF allowed-ips`
// prints them, in the order `sort -nr -k 2 -t /` gives: longest prefix
// first; among equal lengths, the whole text in reverse byte order (which
// puts ::/0 before 0.0.0.0/0).
func allowedIPs(dev *conf.Device) []string {
	var list []string
	for i := range dev.Peers {
		for _, p := range dev.Peers[i].AllowedIPs {
			s := conf.FormatPrefix(p)
			if allowedIPPattern.MatchString(s) {
				list = append(list, s)
			}
		}
	}
	sortNR(list)
	return list
}

// sortNR sorts as `LC_ALL=C sort -nr -k 2 -t /`.
func sortNR(list []string) {
	slices.SortStableFunc(list, func(a, b string) int {
		if c := cmp.Compare(sortKey(b), sortKey(a)); c != 0 {
			return c
		}
		return bytes.Compare([]byte(b), []byte(a))
	})
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
