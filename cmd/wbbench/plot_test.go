package main

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScalePoints(t *testing.T) {
	b, err := readBench(strings.NewReader(benchLines(
		"Scale/pages=16384 ns/page 30", "Scale/pages=16384 ns/page 10", "Scale/pages=16384 ns/page 20",
		"Scale/pages=1024 ns/page 40", "Scale/pages=1024 ns/page 60",
		"Scale/pages=1024 B/page 999",
		"Scale/pages=1048576 ns/page 25",
		"ScaleOther ns/page 1",
	)), "scale.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := scalePoints(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []scalePoint{{1024, 50}, {16384, 20}, {1 << 20, 25}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(scalePoint{})); diff != "" {
		t.Errorf("scalePoints (-want +got):\n%s", diff)
	}

	for _, text := range []string{benchLines("Other ns/op 1"), benchLines("Scale/pages=x ns/page 1"),
		benchLines("Scale/pages=8 B/page 1")} {
		b, _ := readBench(strings.NewReader(text), "scale.txt")
		if _, err := scalePoints(b); err == nil {
			t.Errorf("scalePoints(%q) did not fail", text)
		}
	}
}

// svgTexts parses an SVG file and returns its text elements' contents.
func svgTexts(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var texts []string
	d := xml.NewDecoder(f)
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return texts
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", path, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			inText = false
		}
	}
}

func TestPlotAll(t *testing.T) {
	dir := t.TempDir()
	bench := filepath.Join(dir, "scale.txt")
	if err := os.WriteFile(bench, []byte(benchLines("Scale/pages=1024 ns/page 900", "Scale/pages=1048576 ns/page 1200")), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &Study{Seeds: 2, DFSBound: 2, Strategies: []string{"random", "pct-d2"}, Bugs: []BugStudy{
		{ID: "bug-one", Results: []StrategyResult{{Strategy: "random", Found: 2, Median: 1}, {Strategy: "pct-d2", Found: 1, Median: 300}}},
		{ID: "bug-two", Results: []StrategyResult{{Strategy: "random"}, {Strategy: "pct-d2", Found: 2, Median: 12.5}}},
	}}
	strat := filepath.Join(dir, "strategies.json")
	if err := writeJSON(strat, st); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := plotAll(bench, strat, dir, &out); err != nil {
		t.Fatal(err)
	}
	scale := strings.Join(svgTexts(t, filepath.Join(dir, "scale.svg")), "|")
	for _, want := range []string{"BenchmarkScale", "ns per page", "1000"} {
		if !strings.Contains(scale, want) {
			t.Errorf("scale.svg has no text %q: %s", want, scale)
		}
	}
	strats := strings.Join(svgTexts(t, filepath.Join(dir, "strategies.svg")), "|")
	for _, want := range []string{"bug-one", "bug-two", "random", "pct-d2", "of 2"} {
		if !strings.Contains(strats, want) {
			t.Errorf("strategies.svg has no text %q: %s", want, strats)
		}
	}

	// Results that do not follow the study's strategies are an error.
	st.Bugs[1].Results[0].Strategy = "pct-d1"
	if err := writeJSON(strat, st); err != nil {
		t.Fatal(err)
	}
	if err := plotAll("", strat, dir, io.Discard); err == nil || !strings.Contains(err.Error(), "bug bug-two: results do not follow") {
		t.Errorf("plotAll with mismatched results: %v", err)
	}
}
