package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// tolerance is how far a ratio may exceed its baseline before the guard
// fails: the "regresses by more than 50%".
const tolerance = 1.5

// A ratio compares the costs of two benchmarks within one run: num's cost
// over den's. A cost is a benchmark's value in its unit, or its inverse
// for a rate (a unit ending in "/s"), so that a ratio above 1 says num is
// that many times dearer, and a rising ratio is a regression.
type ratio struct {
	name     string
	num, den benchKey
}

type benchKey struct{ name, unit string }

func (k benchKey) String() string { return k.name + " (" + k.unit + ")" }

// fixedRatios are the ratio targets of BENCHMARKS.md that hold for any
// run: the scheduler (a switching decision, and a point that keeps its
// task) against the coroutine floor, the disk against the
// scheduler, and mpage_writepages against write_cache_pages alone in
// each version (2.6.12 has no write_cache_pages: BENCHMARKS.md compares
// it with 2.6.2x's).
var fixedRatios = []ratio{
	{"decision-per-coro-switch", benchKey{"SchedulerDecision", "ns/op"}, benchKey{"RawCoroSwitch", "ns/op"}},
	{"point-no-switch-per-coro-switch", benchKey{"PointNoSwitch/untraced", "ns/op"}, benchKey{"RawCoroSwitch", "ns/op"}},
	{"disk-write-per-decision", benchKey{"DiskWrite4K", "ns/op"}, benchKey{"SchedulerDecision", "ns/op"}},
	{"mpage-per-wcp/2.6.12", benchKey{"MpageWritepages64k/2.6.12", "ns/page"}, benchKey{"WriteCachePages64k/2.6.2x", "ns/page"}},
	{"mpage-per-wcp/2.6.2x", benchKey{"MpageWritepages64k/2.6.2x", "ns/page"}, benchKey{"WriteCachePages64k/2.6.2x", "ns/page"}},
	{"mpage-per-wcp/3.x", benchKey{"MpageWritepages64k/3.x", "ns/page"}, benchKey{"WriteCachePages64k/3.x", "ns/page"}},
}

// The instrumentation overhead of a reference scenario: one schedule under
// Random against one whose scheduling points never switch (serial), both
// on one worker, from scenarios/run's BenchmarkReference sub-benchmarks
// "scenario=S/version=V/strategy=random|serial/workers=1". Its ratio is
// named overheadPrefix + "scenario=S/version=V".
const (
	overheadPrefix = "overhead/"
	referenceBench = "Reference/"
	referenceUnit  = "schedules/s"
	serialSuffix   = "/strategy=serial/workers=1"
	randomSuffix   = "/strategy=random/workers=1"
)

// ratioNamed returns the definition of the ratio called name.
func ratioNamed(name string) (ratio, bool) {
	if i := slices.IndexFunc(fixedRatios, func(r ratio) bool { return r.name == name }); i >= 0 {
		return fixedRatios[i], true
	}
	sv, ok := strings.CutPrefix(name, overheadPrefix)
	if !ok || sv == "" {
		return ratio{}, false
	}
	return ratio{name, benchKey{referenceBench + sv + randomSuffix, referenceUnit},
		benchKey{referenceBench + sv + serialSuffix, referenceUnit}}, true
}

// ratioNames lists the ratios b can give: the fixed ones, and an overhead
// ratio for each reference scenario it ran serially, sorted.
func ratioNames(b benchSet) []string {
	var l []string
	for _, r := range fixedRatios {
		l = append(l, r.name)
	}
	var over []string
	for name := range b { // sorted below
		if sv, ok := strings.CutPrefix(name, referenceBench); ok {
			if sv, ok := strings.CutSuffix(sv, serialSuffix); ok {
				over = append(over, overheadPrefix+sv)
			}
		}
	}
	slices.Sort(over)
	return append(l, over...)
}

// cost is a run's value v of k as a cost.
func cost(k benchKey, v float64) (float64, error) {
	if v <= 0 {
		return 0, fmt.Errorf("benchmark %s has a run of %g: not a cost", k, v)
	}
	if strings.HasSuffix(k.unit, "/s") {
		return 1 / v, nil
	}
	return v, nil
}

// value computes r from b: the median over runs of Num's cost over Den's
// in the same run (the i-th value of each), so that a burst of load on a
// shared machine, which slows both benchmarks of a run, cancels out.
func (r ratio) value(b benchSet) (float64, error) {
	num, den := b.values(r.num.name, r.num.unit), b.values(r.den.name, r.den.unit)
	switch {
	case len(num) == 0:
		return 0, &missingError{r.num.name, r.num.unit}
	case len(den) == 0:
		return 0, &missingError{r.den.name, r.den.unit}
	case len(num) != len(den):
		return 0, fmt.Errorf("%s has %d runs and %s %d: a ratio needs one of each per run", r.num, len(num), r.den, len(den))
	}
	ratios := make([]float64, len(num))
	for i := range num {
		n, err := cost(r.num, num[i])
		if err != nil {
			return 0, err
		}
		d, err := cost(r.den, den[i])
		if err != nil {
			return 0, err
		}
		ratios[i] = n / d
	}
	return medianOf(ratios), nil
}

// baseline is a baseline file: ratio name to value, in file order.
type baseline struct {
	names  []string
	values map[string]float64
}

func readBaseline(r io.Reader, fileName string) (*baseline, error) {
	bl := &baseline{values: map[string]float64{}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"RATIO VALUE\", got %q", fileName, line, text)
		}
		if _, ok := ratioNamed(f[0]); !ok {
			return nil, fmt.Errorf("%s:%d: unknown ratio %q", fileName, line, f[0])
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%s:%d: bad ratio value %q", fileName, line, f[1])
		}
		if _, dup := bl.values[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: ratio %s given twice", fileName, line, f[0])
		}
		bl.names = append(bl.names, f[0])
		bl.values[f[0]] = v
	}
	return bl, sc.Err()
}

// guardRow is one checked ratio.
type guardRow struct {
	Name     string
	Value    float64 // 0 when missing
	Baseline float64 // 0 when the ratio has no baseline
	Err      string  // why it fails; "" if it passes
}

// checkRatios checks every ratio that b gives or bl expects: each must be
// computable (its benchmarks present) and at most tolerance × its
// baseline. A ratio without a baseline is computed and shown but cannot
// fail. Rows come in ratioNames order, then the baseline's others.
func checkRatios(b benchSet, bl *baseline) []guardRow {
	names := ratioNames(b)
	for _, n := range bl.names {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var rows []guardRow
	for _, n := range names {
		r, _ := ratioNamed(n)
		row := guardRow{Name: n, Baseline: bl.values[n]}
		v, err := r.value(b)
		switch {
		case err != nil:
			row.Err = fmt.Sprintf("ratio %s (%s ÷ %s): %v", n, r.num, r.den, err)
		case row.Baseline > 0 && v > tolerance*row.Baseline:
			row.Err = fmt.Sprintf("ratio %s (%s ÷ %s) is %.3g, over %.3g = %g × its baseline %.3g",
				n, r.num, r.den, v, tolerance*row.Baseline, tolerance, row.Baseline)
		}
		row.Value = v
		rows = append(rows, row)
	}
	return rows
}

func cmdGuard(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("guard", "[-baseline FILE] [-write-baseline] BENCH-OUTPUT",
		"Reads `go test -bench` output and computes the benchmark ratio targets, each\n"+
			"the median over runs of one benchmark's cost over another's in the same run\n"+
			"(the i-th result of each; a rate counts as its inverse): SchedulerDecision and\n"+
			"PointNoSwitch/untraced / RawCoroSwitch, DiskWrite4K / SchedulerDecision,\n"+
			"MpageWritepages64k /\n"+
			"WriteCachePages64k per version, and each reference scenario's instrumentation\n"+
			"overhead (BenchmarkReference, strategy=random against strategy=serial, one worker).\n"+
			"Fails (exit 1) if a ratio is over 1.5 × its baseline, or if a benchmark that a\n"+
			"fixed ratio or a baseline needs is missing. With -write-baseline, writes the\n"+
			"ratios of BENCH-OUTPUT as the new baseline instead.")
	blPath := fs.String("baseline", "docs/bench/guard-baseline.txt", "the baseline file")
	write := fs.Bool("write-baseline", false, "write the ratios of BENCH-OUTPUT to the baseline file")
	if code, ok := parseFlags(fs, args, 1, stdout, stderr); !ok {
		return code
	}
	b, err := readBenchFile(fs.Arg(0))
	if err != nil {
		return fail(stderr, "guard", err)
	}
	bl := &baseline{values: map[string]float64{}}
	if !*write {
		f, err := os.Open(*blPath)
		if err != nil {
			return fail(stderr, "guard", err)
		}
		bl, err = readBaseline(f, *blPath)
		f.Close()
		if err != nil {
			return fail(stderr, "guard", err)
		}
	}
	rows := checkRatios(b, bl)
	printGuard(stdout, rows)
	failed := false
	for _, r := range rows {
		if r.Err != "" {
			fmt.Fprintf(stderr, "wbbench guard: %s\n", r.Err)
			failed = true
		}
	}
	if failed {
		return exitFailed
	}
	if *write {
		if err := writeBaseline(*blPath, rows); err != nil {
			return fail(stderr, "guard", err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", *blPath)
	}
	return exitOK
}

func printGuard(w io.Writer, rows []guardRow) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ratio\tvalue\tbaseline\tlimit\tverdict")
	for _, r := range rows {
		value, base, limit, verdict := "missing", "-", "-", "ok"
		if r.Value > 0 {
			value = fmt.Sprintf("%.3g", r.Value)
		}
		if r.Baseline > 0 {
			base, limit = fmt.Sprintf("%.3g", r.Baseline), fmt.Sprintf("%.3g", tolerance*r.Baseline)
		} else {
			verdict = "no baseline"
		}
		if r.Err != "" {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, value, base, limit, verdict)
	}
	tw.Flush()
}

const baselineHeader = `# Baselines of the benchmark ratios that "wbbench guard" checks: each is the
# cost of one benchmark over another's, measured within one go test run on
# the project's machine. The guard (a step of .ci/run) fails when a ratio
# is over 1.5 × its baseline. After a deliberate change, refresh it on a
# quiet machine: run the go test loop of the "== benchmark ratio guard"
# step of .ci/run into a file, then
#   go run ./cmd/wbbench guard -write-baseline FILE
`

func writeBaseline(path string, rows []guardRow) error {
	if len(rows) == 0 {
		return errors.New("no ratios to write")
	}
	var b strings.Builder
	b.WriteString(baselineHeader)
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %.4g\n", r.Name, r.Value)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
