package mpage

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// seedsDir is where the seeds live: /work/shared/seeds beside the
// repository (docs/versions.md).
const seedsDir = "../../../shared/seeds"

// seedLines reads a seed as line number -> text. mpage-2.6.12.numbered.c
// gives its original numbers at the left ("  42| code"); the other seeds'
// file lines are the lines.
func seedLines(t *testing.T, file string) map[int]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedsDir, file))
	if err != nil {
		t.Skipf("seed not available: %v", err)
	}
	lines := map[int]string{}
	for i, l := range strings.Split(strings.ReplaceAll(string(b), "\u00a0", " "), "\n") {
		n := i + 1
		if strings.HasSuffix(file, ".numbered.c") {
			num, code, ok := strings.Cut(l, "|")
			if !ok {
				continue
			}
			if n, err = strconv.Atoi(strings.TrimSpace(num)); err != nil {
				continue
			}
			l = code
		}
		lines[n] = l
	}
	return lines
}

// checkCite checks that cite ("file:line") is where the definition of fn
// starts: the line names fn, or holds only its return type and the next
// line names fn.
func checkCite(t *testing.T, fn, cite string) {
	t.Helper()
	file, num, ok := strings.Cut(cite, ":")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		t.Errorf("%s: cite %q is not file:line", fn, cite)
		return
	}
	lines := seedLines(t, file)
	l, ok := lines[n]
	if !ok {
		t.Errorf("%s: %s: no line %d", fn, file, n)
		return
	}
	def := regexp.MustCompile(`^\s*(static\s+)?[a-z_ ]+[ *]` + regexp.QuoteMeta(fn) + `\(`)
	if def.MatchString(l) && isDefinition(lines, n) {
		return
	}
	if regexp.MustCompile(`^\s*(static\s+)?[a-z_ ]+\s*\*?\s*$`).MatchString(l) {
		next := n + 1
		for ; next < n+3 && lines[next] == ""; next++ {
		}
		if strings.HasPrefix(strings.TrimSpace(lines[next]), fn+"(") && isDefinition(lines, next) {
			return
		}
	}
	if _, prev := lines[n-1]; !prev && strings.HasPrefix(strings.TrimSpace(l), fn+"(") && isDefinition(lines, n) {
		return // the return type's line is not in the copy
	}
	t.Errorf("%s: %s is %q, not the start of %s", fn, cite, strings.TrimSpace(l), fn)
}

// isDefinition reports whether the declaration starting at line n has a
// body ("{" before ";"), not a prototype.
func isDefinition(lines map[int]string, n int) bool {
	for end := n + 40; n < end; n++ {
		if i := strings.IndexAny(lines[n], "{;"); i >= 0 {
			return lines[n][i] == '{'
		}
		if strings.HasSuffix(strings.TrimSpace(lines[n]), ")") {
			return true // the parameters end with no ";" (the copy dropped the lone "{")
		}
	}
	return false
}

// TestSeedCites checks every Task.EnterAt citation of the package against
// the seeds, and that every seed function is cited in each era.
func TestSeedCites(t *testing.T) {
	type cite struct{ fn, cite string }
	var cites []cite
	for _, c := range []*seedCite{&citeMpageAlloc, &citeMapBufferToPage, &citeMpageWritepageInner,
		&citeMpageWritepage, &citeDoMpageReadpage, &citeMpageReadpages, &citeMpageReadpage} {
		for _, s := range []string{c.v2612, c.v2x, c.v3x} {
			if s != "" {
				cites = append(cites, cite{c.fn, s})
			}
		}
	}
	srcs, _ := filepath.Glob("*.go")
	lit := regexp.MustCompile(`EnterAt\("(\w+)", "([\w.-]+:\d+)"\)`)
	for _, src := range srcs {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			cites = append(cites, cite{m[1], m[2]})
		}
	}
	cited := map[string]bool{} // "file fn"
	for _, c := range cites {
		checkCite(t, c.fn, c.cite)
		file, _, _ := strings.Cut(c.cite, ":")
		cited[file+" "+c.fn] = true
	}
	common := []string{"mpage_bio_submit", "mpage_alloc", "map_buffer_to_page", "do_mpage_readpage",
		"mpage_readpages", "mpage_readpage", "__mpage_writepage", "mpage_writepages", "mpage_writepage"}
	want := map[string][]string{
		"mpage-2.6.12.numbered.c": append([]string{"mpage_end_io_read", "mpage_end_io_write", "__mpage_writepages"}, common...),
		"mpage-2.6.2x.c":          append([]string{"mpage_end_io_read", "mpage_end_io_write"}, common...),
		"mpage-3.x.c":             append([]string{"mpage_end_io"}, common...),
	}
	for file, fns := range want {
		for _, fn := range fns {
			if !cited[file+" "+fn] {
				t.Errorf("%s of %s is not cited", fn, file)
			}
		}
	}
}
