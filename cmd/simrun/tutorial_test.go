package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The tutorial (docs/tutorial/*.md) is tested as it is written: every
// "```console" block holds "$ simrun ..." lines, each followed by what the
// command prints on standard output. TestTutorial runs each lesson's
// commands in order, in-process (run), from a fresh temporary directory,
// and compares. The markers the text may use (docs/tutorial/README.md
// explains them to readers):
//
//   - a line "..." stands for any number of lines, none included;
//   - "..." inside a line stands for any text within that line;
//   - a last line "[exit N]" says the command exited with status N (a
//     block without one expects 0);
//   - the temporary directory's path is printed as "...".
//
// Trailing blanks are dropped from every output line. With -update a
// block whose output no longer matches is rewritten with the new output
// (markers are kept only in blocks that still match: re-elide by hand).

const tutorialDir = "../../docs/tutorial"

func TestTutorial(t *testing.T) {
	dir, err := filepath.Abs(tutorialDir) // the lessons run from temporary directories
	if err != nil {
		t.Fatal(err)
	}
	lessons, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil || len(lessons) == 0 {
		t.Fatalf("no lessons in %s: %v", tutorialDir, err)
	}
	for _, path := range lessons {
		t.Run(filepath.Base(path), func(t *testing.T) { testLesson(t, path) })
	}
}

func testLesson(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	blocks, err := consoleBlocks(lines)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	var out [][]string
	for _, b := range blocks {
		var got []string
		for _, c := range b.cmds {
			got = append(got, runTutorialCommand(t, path, c, dir)...)
		}
		out = append(out, got)
	}
	// Rewrite from the last block up, so earlier line numbers stay valid.
	changed := false
	for i := len(blocks) - 1; i >= 0; i-- {
		b := blocks[i]
		if matchLines(b.lines, out[i]) {
			continue
		}
		if *update {
			lines = append(lines[:b.start], append(out[i], lines[b.end:]...)...)
			changed = true
			continue
		}
		t.Errorf("%s:%d: the block's output differs; got:\n%s", path, b.start+1, strings.Join(out[i], "\n"))
	}
	if changed {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// consoleBlock is one "```console" block: lines [start, end) of the file
// are its commands and their outputs.
type consoleBlock struct {
	start, end int
	cmds       []tutorialCommand
	lines      []string // as written: each command line, then its expected output
}

type tutorialCommand struct {
	line int    // 1-based line in the file
	args string // what follows "$ "
}

// consoleBlocks finds the console blocks of a Markdown file.
func consoleBlocks(lines []string) ([]consoleBlock, error) {
	var blocks []consoleBlock
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```console" {
			continue
		}
		b := consoleBlock{start: i + 1}
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			l := lines[j]
			if rest, ok := strings.CutPrefix(l, "$ "); ok {
				b.cmds = append(b.cmds, tutorialCommand{line: j + 1, args: rest})
			} else if len(b.cmds) == 0 {
				return nil, fmt.Errorf("line %d: a console block must start with a \"$ \" command line", j+1)
			}
			b.lines = append(b.lines, l)
		}
		if j == len(lines) {
			return nil, fmt.Errorf("line %d: console block not closed", i+1)
		}
		if len(b.cmds) == 0 {
			return nil, fmt.Errorf("line %d: empty console block", i+1)
		}
		b.end = j
		blocks = append(blocks, b)
		i = j
	}
	return blocks, nil
}

// runTutorialCommand runs one "$ simrun ..." line and returns the lines a
// block shows for it: the command line, then its normalised output.
func runTutorialCommand(t *testing.T, path string, c tutorialCommand, dir string) []string {
	t.Helper()
	words, err := shellWords(c.args)
	if err != nil || len(words) == 0 || words[0] != "simrun" {
		t.Fatalf("%s:%d: want \"$ simrun ARGS\" (quotes allowed): %q %v", path, c.line, c.args, err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), words[1:], &stdout, &stderr)
	if code == exitUsage {
		t.Errorf("%s:%d: %s: usage error: %s", path, c.line, c.args, stderr.String())
	}
	text := stdout.String()
	for _, d := range []string{dir, evalSymlinks(dir)} {
		text = strings.ReplaceAll(text, d, "...")
	}
	out := []string{"$ " + c.args}
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		out = append(out, strings.TrimRight(l, " \t"))
	}
	if text == "" {
		out = out[:1]
	}
	if code != exitOK {
		out = append(out, fmt.Sprintf("[exit %d]", code))
	}
	return out
}

func evalSymlinks(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// shellWords splits a command line as a POSIX shell would for the simple
// cases the tutorial uses: blanks separate words, '...' and "..." quote.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case '\'', '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unclosed %c", c)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// matchLines reports whether got matches want, where a want line "..."
// matches any run of lines (none included) and "..." inside a line
// matches any text.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "..." {
		for k := 0; k <= len(got); k++ {
			if matchLines(want[1:], got[k:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && matchLine(want[0], got[0]) && matchLines(want[1:], got[1:])
}

func matchLine(want, got string) bool {
	want = strings.TrimRight(want, " \t")
	if !strings.Contains(want, "...") {
		return want == got
	}
	parts := strings.Split(want, "...")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

// TestTutorialMarkers: the matcher honours the markers, and only them.
func TestTutorialMarkers(t *testing.T) {
	for _, c := range []struct {
		want, got []string
		ok        bool
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, true},
		{[]string{"a", "b"}, []string{"a", "c"}, false},
		{[]string{"a", "..."}, []string{"a"}, true},
		{[]string{"a", "...", "z"}, []string{"a", "b", "c", "z"}, true},
		{[]string{"a", "...", "z"}, []string{"a", "b", "c"}, false},
		{[]string{"report: .../index.html"}, []string{"report: /tmp/x/out/index.html"}, true},
		{[]string{"report: .../index.html"}, []string{"report: /tmp/x/out/index.json"}, false},
		{[]string{"x (1.5)"}, []string{"x (105)"}, false}, // no regexp leaks
		{[]string{"a"}, []string{"a", "b"}, false},
	} {
		if matchLines(c.want, c.got) != c.ok {
			t.Errorf("matchLines(%q, %q) = %v", c.want, c.got, !c.ok)
		}
	}
	for _, bad := range []string{"```console\n$ simrun list\n", "```console\nout\n```\n", "```console\n```\n"} {
		if _, err := consoleBlocks(strings.Split(bad, "\n")); err == nil {
			t.Errorf("consoleBlocks(%q): no error", bad)
		}
	}
	bs, err := consoleBlocks(strings.Split("text\n```console\n$ simrun a\nx\n$ simrun b\n```\n```go\n$ no\n```\n", "\n"))
	if err != nil || len(bs) != 1 || len(bs[0].cmds) != 2 || bs[0].cmds[1].line != 5 || len(bs[0].lines) != 3 {
		t.Errorf("consoleBlocks: %+v %v", bs, err)
	}
	w, err := shellWords(`simrun explain x --follow "page 11:0" 'a b'c`)
	if err != nil || strings.Join(w, "|") != "simrun|explain|x|--follow|page 11:0|a bc" {
		t.Errorf("shellWords: %q %v", w, err)
	}
}
