package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// benchSet is `go test -bench` output: for each benchmark and unit, the
// values of its runs in file order. A benchmark is named as go test prints
// it, without "Benchmark" and without the -GOMAXPROCS suffix
// ("MpageWritepages64k/3.x"); packages are not part of the name, so the
// same name in two packages would be merged (no two are alike in wbsim).
type benchSet map[string]map[string][]float64

// values returns the runs of benchmark name in unit.
func (b benchSet) values(name, unit string) []float64 { return b[name][unit] }

// readBenchFile reads go test -bench output from path.
func readBenchFile(path string) (benchSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readBench(f, path)
}

// readBench parses go test -bench output with benchfmt. Values keep the
// units the benchmark printed (benchfmt would turn ns/op into sec/op).
func readBench(r io.Reader, fileName string) (benchSet, error) {
	set := benchSet{}
	br := benchfmt.NewReader(r, fileName)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			name := benchName(rec.Name)
			if set[name] == nil {
				set[name] = map[string][]float64{}
			}
			for _, v := range rec.Values {
				val, unit := v.Value, v.Unit
				if v.OrigUnit != "" {
					val, unit = v.OrigValue, v.OrigUnit
				}
				set[name][unit] = append(set[name][unit], val)
			}
		}
	}
	return set, br.Err()
}

// benchName is a benchmark's full name without the -GOMAXPROCS suffix.
func benchName(n benchfmt.Name) string {
	base, parts := n.Parts()
	var b strings.Builder
	b.Write(base)
	for _, p := range parts {
		if p[0] != '-' {
			b.Write(p)
		}
	}
	return b.String()
}

// medianOf returns the median of xs (the mean of the middle two for an
// even count); xs must not be empty.
func medianOf(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// missingError says a benchmark the caller needs is not in the output.
type missingError struct{ name, unit string }

func (e *missingError) Error() string {
	return fmt.Sprintf("benchmark %s (%s) is missing", e.name, e.unit)
}

// median is the median of benchmark name's runs in unit.
func (b benchSet) median(name, unit string) (float64, error) {
	v := b.values(name, unit)
	if len(v) == 0 {
		return 0, &missingError{name, unit}
	}
	return medianOf(v), nil
}
