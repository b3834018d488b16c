package dist

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// The pages are linted as a reader sees them, not only as source: each is
// rendered by man (groff) and by mandoc at many widths, so that every line
// break and hyphenation the page can get is met, and the text is checked
// for what a renderer makes of a source mistake.

// renderWidths are the terminal widths the pages are rendered at: 60 to
// 160 columns (below 60, groff rightly warns that it cannot break the
// longest command lines).
var renderWidths = func() []int {
	var ws []int
	for w := 60; w <= 160; w += 5 {
		ws = append(ws, w)
	}
	return ws
}()

// renderers render a page at a width into text with the overstrike of
// bold and underline removed.
var renderers = []struct {
	name   string
	needs  string
	render func(page string, width int) *exec.Cmd
}{
	{"man", "man", func(page string, width int) *exec.Cmd {
		cmd := exec.Command("man", "--warnings", "-l", page)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", fmt.Sprintf("MANWIDTH=%d", width), "LC_ALL=C.UTF-8")
		return cmd
	}},
	{"mandoc", "mandoc", func(page string, width int) *exec.Cmd {
		cmd := exec.Command("mandoc", "-T", "utf8", "-O", fmt.Sprintf("width=%d", width), page)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		return cmd
	}},
}

var overstrike = regexp.MustCompile(".\b")

// render runs a renderer; anything on its standard error is an error.
func render(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		return "", fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return overstrike.ReplaceAllString(stdout.String(), ""), nil
}

const hyphen = '\u2010' // what groff and mandoc print where they break a word

// leakedEscape is a roff escape that should have been rendered: a font
// (\fB, \f(CW, \f[R]), a named character (\(em, \[rq]), a string (\*),
// or \%, \&, \-. (A backslash an example needs, such as jq's "\($i)",
// is none of these.)
var leakedEscape = regexp.MustCompile(`\\(f[A-Z(\[]|\([a-z][a-z]|\[[a-z]+\]|[*%&-])`)

// renderedProblems lists what is wrong in a rendered page: a hyphen that
// is not a word broken between two letters (groff's hyphenation of a
// word that starts with punctuation, as "(‐ [wgtools]"), a roff escape
// shown as text, and brackets or quotes that do not pair up within a
// paragraph.
func renderedProblems(text string) []string {
	var probs []string
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		rs := []rune(l)
		for j, r := range rs {
			if r != hyphen {
				continue
			}
			before := j > 0 && (unicode.IsLetter(rs[j-1]) || unicode.IsDigit(rs[j-1]))
			atEnd := j == len(rs)-1
			next := ""
			if i+1 < len(lines) {
				next = strings.TrimLeft(lines[i+1], " ")
			}
			after := next != "" && unicode.IsLetter([]rune(next)[0])
			if !before || !atEnd || !after {
				probs = append(probs, fmt.Sprintf("line %d: a stray hyphen: %q / %q", i+1, strings.TrimSpace(l), strings.TrimSpace(next)))
			}
		}
		if m := leakedEscape.FindString(l); m != "" {
			probs = append(probs, fmt.Sprintf("line %d: a roff escape shown as text (%s): %q", i+1, m, strings.TrimSpace(l)))
		}
	}
	// Paragraphs, their lines joined, words broken at a line end mended.
	mended := regexp.MustCompile(`(\pL)`+string(hyphen)+`\n\s*`).ReplaceAllString(text, "$1")
	for _, para := range regexp.MustCompile(`\n\s*\n`).Split(mended, -1) {
		p := strings.Join(strings.Fields(para), " ")
		for _, pair := range []string{"()", "[]", "{}", "“”"} {
			o, c := string([]rune(pair)[0]), string([]rune(pair)[1])
			if strings.Count(p, o) != strings.Count(p, c) {
				probs = append(probs, fmt.Sprintf("%d %s and %d %s in the paragraph %.120q", strings.Count(p, o), o, strings.Count(p, c), c, p))
			}
		}
	}
	return probs
}

// TestManPagesRendered renders both pages with man and mandoc at every
// width of renderWidths: no renderer warns, and the text has none of the
// problems renderedProblems looks for.
func TestManPagesRendered(t *testing.T) {
	for _, r := range renderers {
		t.Run(r.name, func(t *testing.T) {
			need(t, r.needs)
			for _, page := range manPages {
				// The renders wait more than they compute: they run
				// side by side.
				texts := make([]string, len(renderWidths))
				errs := make([]error, len(renderWidths))
				var wg sync.WaitGroup
				for i, w := range renderWidths {
					wg.Add(1)
					go func() {
						defer wg.Done()
						texts[i], errs[i] = render(r.render(page, w))
					}()
				}
				wg.Wait()
				seen := map[string]bool{}
				for i, w := range renderWidths {
					if errs[i] != nil {
						t.Fatalf("%s at width %d: %v", page, w, errs[i])
					}
					if len(texts[i]) < 5000 {
						t.Fatalf("%s at width %d rendered only %d bytes", page, w, len(texts[i]))
					}
					for _, p := range renderedProblems(texts[i]) {
						if !seen[p] {
							seen[p] = true
							t.Errorf("%s, %s at width %d: %s", page, r.name, w, p)
						}
					}
				}
			}
		})
	}
}

// TestManPagesRenderedHasTeeth: a page with the faults above (a word
// starting with "(\%[", which groff may break after the parenthesis; an
// unclosed parenthesis; an escape typed wrong) is reported, so a clean
// result above means something.
func TestManPagesRenderedHasTeeth(t *testing.T) {
	need(t, "man", "mandoc")
	var body strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&body, "word%d (\\%%[tag] more text%d)\n", i, i)
	}
	page := t.TempDir() + "/bad.8"
	src := ".TH BAD 8 2026-02-23 x y\n.SH NAME\nbad \\- bad\n.SH DESCRIPTION\n" + body.String() +
		".PP\nan (unclosed parenthesis\n.PP\na wrong escape \\\\fBbold\n"
	if err := os.WriteFile(page, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, w := range []int{60, 70, 80, 90, 100} {
		out, err := renderers[0].render(page, w).Output()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, renderedProblems(overstrike.ReplaceAllString(string(out), ""))...)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{"a stray hyphen: \"", "1 ( and 0 ) in the paragraph \"an (unclosed parenthesis\"", "a roff escape shown as text (\\fB)"} {
		if !strings.Contains(text, want) {
			t.Errorf("not reported: %q; the reports:\n%s", want, text)
		}
	}
}
