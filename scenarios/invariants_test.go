package scenarios

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// The registry is the one list of invariants: its ids are unique, the
// check section of the scenario language's docs carries it as a table
// (id, meaning, package, in its order), and every entry's docs anchor is
// a heading of its page.
func TestInvariantRegistryDocs(t *testing.T) {
	seen := map[Invariant]bool{}
	var want [][3]string
	for _, e := range Invariants() {
		if seen[e.ID] {
			t.Errorf("invariant %s registered twice", e.ID)
		}
		seen[e.ID] = true
		if e.Meaning == "" || e.Package == "" || e.Doc == "" {
			t.Errorf("invariant %s: meaning, package and doc are required: %+v", e.ID, e)
		}
		want = append(want, [3]string{string(e.ID), e.Meaning, e.Package})
	}
	doc := readRepoFile(t, scenarioDoc)
	section := markdownSection(doc, "### check and fsync-contract")
	if d := cmp.Diff(want, invariantTable(section)); d != "" {
		t.Errorf("%s's invariant table differs from the registry (-registry +doc):\n%s", scenarioDoc, d)
	}
	for _, e := range Invariants() {
		file, anchor, ok := strings.Cut(e.Doc, "#")
		if !ok {
			t.Errorf("invariant %s: doc %q has no #anchor", e.ID, e.Doc)
			continue
		}
		if !headingAnchors(readRepoFile(t, file))[anchor] {
			t.Errorf("invariant %s: %s has no heading with anchor #%s", e.ID, file, anchor)
		}
	}
}

func TestInvariantLookup(t *testing.T) {
	if e, ok := LookupInvariant(InvDirtyExpire); !ok || e.Package != "check" {
		t.Errorf("LookupInvariant(dirty-expire) = %+v, %v", e, ok)
	}
	if _, ok := LookupInvariant("no-such"); ok {
		t.Errorf("LookupInvariant found an unknown id")
	}
	// expect is registered, but a check statement cannot name it.
	if InvExpect.Known() || !InvPageState.Known() {
		t.Errorf("Known: expect %v, page-state %v", InvExpect.Known(), InvPageState.Known())
	}
	Invariants()[0].Meaning = "x"
	if e, _ := LookupInvariant(InvPageState); e.Meaning == "x" {
		t.Errorf("Invariants shares the registry")
	}
}

func TestHeadingAnchors(t *testing.T) {
	doc := "# The ->writepages checks\n```\n# not a heading\n```\n## `no-lost-write`\n### crash\n#### crash\n"
	got := headingAnchors(doc)
	for _, a := range []string{"the--writepages-checks", "no-lost-write", "crash", "crash-1"} {
		if !got[a] {
			t.Errorf("anchor %q missing from %v", a, got)
		}
	}
	if got["not-a-heading"] {
		t.Errorf("a comment in a code block made an anchor")
	}
}

// readRepoFile reads a file by its path from the repository's root.
func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// markdownSection returns the lines from heading to the next heading of
// the same or a higher level.
func markdownSection(doc, heading string) string {
	level := strings.Index(heading, " ")
	var b strings.Builder
	in := false
	for line := range strings.Lines(doc) {
		if strings.TrimSpace(line) == heading {
			in = true
		} else if in && strings.HasPrefix(line, "#") {
			if n := len(line) - len(strings.TrimLeft(line, "#")); n <= level && strings.HasPrefix(line[n:], " ") {
				break
			}
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}

var invariantRow = regexp.MustCompile("^\\| `([a-z-]+)` \\| (.*) \\| `([a-z/]+)` \\|$")

// invariantTable returns the rows of the "| id | what must hold | checked
// in |" table in section.
func invariantTable(section string) [][3]string {
	var rows [][3]string
	for line := range strings.Lines(section) {
		if m := invariantRow.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			rows = append(rows, [3]string{m[1], m[2], m[3]})
		}
	}
	return rows
}

// headingAnchors returns the anchors GitHub gives the headings of a
// markdown page: lower case, punctuation but '-' and '_' dropped, spaces
// as '-', "-1", "-2", ... after repeats; lines in fenced code blocks are
// no headings.
func headingAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	count := map[string]int{}
	fenced := false
	for line := range strings.Lines(doc) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		text := strings.TrimLeft(line, "#")
		if fenced || text == line || !strings.HasPrefix(text, " ") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(text)) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := count[a]; n > 0 {
			count[a]++
			a += "-" + strconv.Itoa(n)
		} else {
			count[a] = 1
		}
		anchors[a] = true
	}
	return anchors
}
