package scenarios

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden: testdata/canonical/X.wbs prints as X.golden (and that text is
// canonical); testdata/errors/X.wbs fails with the errors in X.err.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.wbs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.ToSlash(f)
			s, err := Parse(name, src)
			var got, golden string
			switch filepath.Base(filepath.Dir(f)) {
			case "canonical":
				if err != nil {
					t.Fatal(err)
				}
				got, golden = s.String(), strings.TrimSuffix(f, ".wbs")+".golden"
				again, err := Parse(name, []byte(got))
				if err != nil || again.String() != got {
					t.Errorf("the golden text is not canonical: %v", err)
				}
			case "errors":
				if err == nil {
					t.Fatalf("no error; parsed:\n%s", s)
				}
				got, golden = err.Error()+"\n", strings.TrimSuffix(f, ".wbs")+".err"
			default:
				t.Fatalf("unknown testdata directory")
			}
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant (%s):\n%s", got, golden, want)
			}
		})
	}
}
