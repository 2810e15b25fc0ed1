package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// benchLines is synthetic go test -bench output: one line per value, each
// "name unit value" triple a run of that benchmark, with the -2
// GOMAXPROCS suffix go test adds.
func benchLines(runs ...string) string {
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: amd64\npkg: example\n")
	for _, r := range runs {
		f := strings.Fields(r)
		fmt.Fprintf(&b, "Benchmark%s-2   \t 1000\t %s %s\n", f[0], f[2], f[1])
	}
	b.WriteString("PASS\nok  \texample\t1.0s\n")
	return b.String()
}

// healthy is a run in which every fixed ratio is 2 (a point that does not
// switch: 0.4) and the one reference
// scenario's overhead is 1.5 (serial 3000 schedules/s, random 2000). The
// first three benchmarks ran three times: the ratios of the runs are
// decision/coro 2, 0.67, 2 (the ratio of the medians would be 0.67) and
// disk/decision 2, 2, 2.
var healthy = []string{
	"RawCoroSwitch ns/op 100", "RawCoroSwitch ns/op 300", "RawCoroSwitch ns/op 300",
	"SchedulerDecision ns/op 200", "SchedulerDecision ns/op 200", "SchedulerDecision ns/op 600",
	"PointNoSwitch/untraced ns/op 40", "PointNoSwitch/untraced ns/op 120", "PointNoSwitch/untraced ns/op 120",
	"DiskWrite4K ns/op 400", "DiskWrite4K ns/op 400", "DiskWrite4K ns/op 1200",
	"WriteCachePages64k/2.6.2x ns/page 1000",
	"WriteCachePages64k/3.x ns/page 1500",
	"MpageWritepages64k/2.6.12 ns/page 2000",
	"MpageWritepages64k/2.6.2x ns/page 2000",
	"MpageWritepages64k/3.x ns/page 3000",
	"Reference/scenario=s/version=3.x/strategy=random/workers=1 schedules/s 2000",
	"Reference/scenario=s/version=3.x/strategy=serial/workers=1 schedules/s 3000",
	// other sub-benchmarks and units are ignored
	"Reference/scenario=s/version=3.x/strategy=serial/workers=all schedules/s 5000",
	"Scale/pages=1024 ns/page 7",
}

// replace returns runs with the first run equal to from replaced by to, or
// dropped if to is "".
func replace(runs []string, from, to string) []string {
	i := slices.Index(runs, from)
	if i < 0 {
		panic("no run " + from)
	}
	out := slices.Clone(runs)
	if to == "" {
		return slices.Delete(out, i, i+1)
	}
	out[i] = to
	return out
}

const baseline2 = `# a comment
decision-per-coro-switch 2
point-no-switch-per-coro-switch 0.4
disk-write-per-decision 2
mpage-per-wcp/2.6.12 2
mpage-per-wcp/2.6.2x 2
mpage-per-wcp/3.x 2

overhead/scenario=s/version=3.x 1.5
`

func TestCheckRatios(t *testing.T) {
	tests := []struct {
		name     string
		runs     []string
		baseline string
		want     []guardRow
	}{
		{
			name: "healthy", runs: healthy, baseline: baseline2,
			want: []guardRow{
				{Name: "decision-per-coro-switch", Value: 2, Baseline: 2},
				{Name: "point-no-switch-per-coro-switch", Value: 0.4, Baseline: 0.4},
				{Name: "disk-write-per-decision", Value: 2, Baseline: 2},
				{Name: "mpage-per-wcp/2.6.12", Value: 2, Baseline: 2},
				{Name: "mpage-per-wcp/2.6.2x", Value: 2, Baseline: 2},
				{Name: "mpage-per-wcp/3.x", Value: 2, Baseline: 2},
				{Name: "overhead/scenario=s/version=3.x", Value: 1.5, Baseline: 1.5},
			},
		},
		{
			// 2.9 is within 1.5 × 2; 3.1 is not. Decision's runs become
			// 290, 200, 870: ratios 2.9, 0.67, 2.9 to the coroutine.
			name: "regressions",
			runs: replace(replace(replace(healthy, "SchedulerDecision ns/op 600", "SchedulerDecision ns/op 870"),
				"SchedulerDecision ns/op 200", "SchedulerDecision ns/op 290"),
				"MpageWritepages64k/3.x ns/page 3000", "MpageWritepages64k/3.x ns/page 4650"),
			baseline: baseline2,
			want: []guardRow{
				{Name: "decision-per-coro-switch", Value: 2.9, Baseline: 2},
				{Name: "point-no-switch-per-coro-switch", Value: 0.4, Baseline: 0.4},
				{Name: "disk-write-per-decision", Value: 400.0 / 290, Baseline: 2},
				{Name: "mpage-per-wcp/2.6.12", Value: 2, Baseline: 2},
				{Name: "mpage-per-wcp/2.6.2x", Value: 2, Baseline: 2},
				{Name: "mpage-per-wcp/3.x", Value: 3.1, Baseline: 2,
					Err: "ratio mpage-per-wcp/3.x (MpageWritepages64k/3.x (ns/page) ÷ WriteCachePages64k/3.x (ns/page)) is 3.1, over 3 = 1.5 × its baseline 2"},
				{Name: "overhead/scenario=s/version=3.x", Value: 1.5, Baseline: 1.5},
			},
		},
		{
			// A rate: the random walk slowing down raises the overhead.
			name:     "overhead regression",
			runs:     replace(healthy, "Reference/scenario=s/version=3.x/strategy=random/workers=1 schedules/s 2000", "Reference/scenario=s/version=3.x/strategy=random/workers=1 schedules/s 1000"),
			baseline: "overhead/scenario=s/version=3.x 1.5\n",
			want: []guardRow{
				{Name: "decision-per-coro-switch", Value: 2},
				{Name: "point-no-switch-per-coro-switch", Value: 0.4},
				{Name: "disk-write-per-decision", Value: 2},
				{Name: "mpage-per-wcp/2.6.12", Value: 2},
				{Name: "mpage-per-wcp/2.6.2x", Value: 2},
				{Name: "mpage-per-wcp/3.x", Value: 2},
				{Name: "overhead/scenario=s/version=3.x", Value: 3, Baseline: 1.5,
					Err: "ratio overhead/scenario=s/version=3.x (Reference/scenario=s/version=3.x/strategy=random/workers=1 (schedules/s) ÷ Reference/scenario=s/version=3.x/strategy=serial/workers=1 (schedules/s)) is 3, over 2.25 = 1.5 × its baseline 1.5"},
			},
		},
		{
			// A fixed ratio's benchmark is always expected; a reference
			// scenario is expected when the baseline names it.
			name: "missing",
			runs: replace(replace(healthy, "DiskWrite4K ns/op 1200", ""),
				"Reference/scenario=s/version=3.x/strategy=serial/workers=1 schedules/s 3000", ""),
			baseline: baseline2,
			want: []guardRow{
				{Name: "decision-per-coro-switch", Value: 2, Baseline: 2},
				{Name: "point-no-switch-per-coro-switch", Value: 0.4, Baseline: 0.4},
				{Name: "disk-write-per-decision", Baseline: 2,
					Err: "ratio disk-write-per-decision (DiskWrite4K (ns/op) ÷ SchedulerDecision (ns/op)): DiskWrite4K (ns/op) has 2 runs and SchedulerDecision (ns/op) 3: a ratio needs one of each per run"},
				{Name: "mpage-per-wcp/2.6.12", Value: 2, Baseline: 2},
				{Name: "mpage-per-wcp/2.6.2x", Value: 2, Baseline: 2},
				{Name: "mpage-per-wcp/3.x", Value: 2, Baseline: 2},
				{Name: "overhead/scenario=s/version=3.x", Baseline: 1.5,
					Err: "ratio overhead/scenario=s/version=3.x (Reference/scenario=s/version=3.x/strategy=random/workers=1 (schedules/s) ÷ Reference/scenario=s/version=3.x/strategy=serial/workers=1 (schedules/s)): benchmark Reference/scenario=s/version=3.x/strategy=serial/workers=1 (schedules/s) is missing"},
			},
		},
		{
			name: "wrong unit",
			runs: replace(healthy, "WriteCachePages64k/2.6.2x ns/page 1000", "WriteCachePages64k/2.6.2x ns/op 1000"),
			want: []guardRow{
				{Name: "decision-per-coro-switch", Value: 2},
				{Name: "point-no-switch-per-coro-switch", Value: 0.4},
				{Name: "disk-write-per-decision", Value: 2},
				{Name: "mpage-per-wcp/2.6.12",
					Err: "ratio mpage-per-wcp/2.6.12 (MpageWritepages64k/2.6.12 (ns/page) ÷ WriteCachePages64k/2.6.2x (ns/page)): benchmark WriteCachePages64k/2.6.2x (ns/page) is missing"},
				{Name: "mpage-per-wcp/2.6.2x",
					Err: "ratio mpage-per-wcp/2.6.2x (MpageWritepages64k/2.6.2x (ns/page) ÷ WriteCachePages64k/2.6.2x (ns/page)): benchmark WriteCachePages64k/2.6.2x (ns/page) is missing"},
				{Name: "mpage-per-wcp/3.x", Value: 2},
				{Name: "overhead/scenario=s/version=3.x", Value: 1.5},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := readBench(strings.NewReader(benchLines(tt.runs...)), "bench.txt")
			if err != nil {
				t.Fatal(err)
			}
			bl, err := readBaseline(strings.NewReader(tt.baseline), "baseline.txt")
			if err != nil {
				t.Fatal(err)
			}
			got := checkRatios(b, bl)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(1e-9, 0)); diff != "" {
				t.Errorf("checkRatios (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadBaselineErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"decision-per-coro-switch", `b.txt:1: want "RATIO VALUE", got "decision-per-coro-switch"`},
		{"# c\nno-such-ratio 2", `b.txt:2: unknown ratio "no-such-ratio"`},
		{"overhead/ 2", `b.txt:1: unknown ratio "overhead/"`},
		{"disk-write-per-decision x", `b.txt:1: bad ratio value "x"`},
		{"disk-write-per-decision 0", `b.txt:1: bad ratio value "0"`},
		{"disk-write-per-decision 2\ndisk-write-per-decision 3", `b.txt:2: ratio disk-write-per-decision given twice`},
	}
	for _, tt := range tests {
		_, err := readBaseline(strings.NewReader(tt.text), "b.txt")
		if err == nil || err.Error() != tt.want {
			t.Errorf("readBaseline(%q) = %v, want %s", tt.text, err, tt.want)
		}
	}
}

// TestGuardCommand checks the exit codes and messages, and that a
// written baseline passes on the run it came from.
func TestGuardCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.txt", benchLines(healthy...))
	// The coroutine switch's runs become 50, 150, 150: ratios 4, 1.3, 4.
	slow := replace(replace(replace(healthy, "RawCoroSwitch ns/op 100", "RawCoroSwitch ns/op 50"),
		"RawCoroSwitch ns/op 300", "RawCoroSwitch ns/op 150"), "RawCoroSwitch ns/op 300", "RawCoroSwitch ns/op 150")
	bad := write("bad.txt", benchLines(slow...))
	bl := filepath.Join(dir, "baseline.txt")
	tests := []struct {
		args      []string
		code      int
		stderrHas string
		stdoutHas string
	}{
		{args: []string{"guard", "-baseline", bl, good}, code: 2, stderrHas: "wbbench guard: open " + bl},
		{args: []string{"guard", "-baseline", bl, "-write-baseline", good}, code: 0, stdoutHas: "wrote " + bl},
		{args: []string{"guard", "-baseline", bl, good}, code: 0, stdoutHas: "decision-per-coro-switch"},
		{args: []string{"guard", "-baseline", bl, bad}, code: 1,
			stderrHas: "wbbench guard: ratio decision-per-coro-switch (SchedulerDecision (ns/op) ÷ RawCoroSwitch (ns/op)) is 4, over 3 = 1.5 × its baseline 2\n"},
		{args: []string{"guard", "-baseline", bl}, code: 2, stderrHas: "wbbench guard: want 1 argument(s), got 0"},
		{args: []string{"guard", "-no-such-flag", good}, code: 2, stderrHas: "flag provided but not defined"},
		{args: []string{"guard", "-baseline", bl, write("junk.txt", "BenchmarkX-2 notanumber 1 ns/op\n")}, code: 2,
			stderrHas: "junk.txt:1: parsing iteration count"},
		{args: []string{"guard", "--help"}, code: 0, stdoutHas: "Usage: wbbench guard"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.stderrHas) || !strings.Contains(stdout.String(), tt.stdoutHas) {
			t.Errorf("wbbench %s: exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q",
				strings.Join(tt.args, " "), code, tt.code, stdout.String(), stderr.String(), tt.stdoutHas, tt.stderrHas)
		}
	}
}
