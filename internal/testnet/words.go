package testnet

import "strings"

// ShellWords splits a captured command line the way sh does for the
// commands the reference's captures hold: blanks separate words, single
// quotes group (no other quoting). ok is false for an unclosed quote.
func ShellWords(s string) (words []string, ok bool) {
	var cur strings.Builder
	inWord, inQuote := false, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case inQuote && ch == '\'':
			inQuote = false
		case inQuote:
			cur.WriteByte(ch)
		case ch == '\'':
			inQuote, inWord = true, true
		case ch == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, !inQuote
}
