package mm

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// eraTableDiffs compares the era table of docs/versions.md (md, the page's
// text) with Eras, field by field, and returns every disagreement.
func eraTableDiffs(md string) []string {
	var header []string
	rows := map[string][]string{}
	var order []string
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			if header != nil {
				break // the table ended
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		switch {
		case header == nil && cells[0] == "capability":
			header = cells
		case header == nil || strings.HasPrefix(cells[0], "--"):
		default:
			if _, dup := rows[cells[0]]; dup {
				return []string{fmt.Sprintf("capability %s appears twice", cells[0])}
			}
			rows[cells[0]] = cells
			order = append(order, cells[0])
		}
	}
	if header == nil {
		return []string{"no table with a \"capability\" column"}
	}
	var diffs []string
	if len(header) != len(Eras)+2 {
		return []string{fmt.Sprintf("%d columns, want capability, %d eras and where", len(header), len(Eras))}
	}
	for i, r := range Eras {
		if header[i+1] != string(r.Version) {
			diffs = append(diffs, fmt.Sprintf("column %d is %q, want %q", i+1, header[i+1], r.Version))
		}
	}
	typ := reflect.TypeOf(Era{})
	for f := range typ.NumField() {
		name := typ.Field(f).Name
		cells, ok := rows[name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("capability %s is missing from the docs", name))
			continue
		}
		delete(rows, name)
		if len(cells) != len(header) {
			diffs = append(diffs, fmt.Sprintf("capability %s: %d cells, want %d", name, len(cells), len(header)))
			continue
		}
		for i, r := range Eras {
			want := "no"
			if reflect.ValueOf(r.Era).Field(f).Bool() {
				want = "yes"
			}
			if cells[i+1] != want {
				diffs = append(diffs, fmt.Sprintf("capability %s, %s: docs say %q, code %q", name, r.Version, cells[i+1], want))
			}
		}
	}
	for _, name := range order {
		if _, left := rows[name]; left {
			diffs = append(diffs, fmt.Sprintf("capability %s is in the docs but not in mm.Era", name))
		}
	}
	return diffs
}

func TestEraTableMatchesDocs(t *testing.T) {
	md, err := os.ReadFile("../../docs/versions.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range eraTableDiffs(string(md)) {
		t.Error("docs/versions.md era table: " + d)
	}
}

// TestEraTableDiffsFindDrift plants drift in the docs' table and shows the
// comparison reports it.
func TestEraTableDiffsFindDrift(t *testing.T) {
	raw, err := os.ReadFile("../../docs/versions.md")
	if err != nil {
		t.Fatal(err)
	}
	md := string(raw)
	for _, tc := range []struct{ name, from, to, want string }{
		{"flipped cell", "| `TagToWrite` | no |", "| `TagToWrite` | yes |", "TagToWrite, 2.6.12"},
		{"missing row", "| `WriteFlush` |", "| `WriteFlushed` |", "WriteFlush is missing"},
		{"extra row", "| `WriteFlush` |", "| `Bogus` | no | no | no | no | x |\n| `WriteFlush` |", "Bogus is in the docs"},
	} {
		planted := strings.Replace(md, tc.from, tc.to, 1)
		if planted == md {
			t.Fatalf("%s: %q not in the docs", tc.name, tc.from)
		}
		diffs := strings.Join(eraTableDiffs(planted), "\n")
		if !strings.Contains(diffs, tc.want) {
			t.Errorf("%s: diffs %q do not mention %q", tc.name, diffs, tc.want)
		}
	}
}

// TestEraTableEveryVersion: every modelled version has exactly one row.
func TestEraTableEveryVersion(t *testing.T) {
	seen := map[Version]bool{}
	for _, r := range Eras {
		if seen[r.Version] {
			t.Errorf("two rows for %s", r.Version)
		}
		seen[r.Version] = true
	}
	for _, v := range []Version{V2_6_12, V2_6_2x, V3x, VAFS} {
		if !seen[v] {
			t.Errorf("no row for %s", v)
		}
	}
}
