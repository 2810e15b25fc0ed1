package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []int
		want float64
	}{{nil, 0}, {[]int{7}, 7}, {[]int{9, 1, 4}, 4}, {[]int{10, 1, 4, 2}, 3}}
	for _, tt := range tests {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %g, want %g", tt.xs, got, tt.want)
		}
	}
}

func TestSummarise(t *testing.T) {
	got := summarise("pct-d2", []cellResult{{found: 5}, {}, {found: 1}, {found: 12}})
	want := StrategyResult{Strategy: "pct-d2", Found: 3, Median: 5, Schedules: []int{5, 0, 1, 12}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summarise (-want +got):\n%s", diff)
	}
}

func TestStudyTable(t *testing.T) {
	st := &Study{Seeds: 4, Strategies: []string{"random", "pct-d2"}, Bugs: []BugStudy{{
		ID: "b", Version: "3.x", Invariant: "page-ref", Budget: 50, Strategy: "pct-d2",
		Results: []StrategyResult{{Strategy: "random"}, {Strategy: "pct-d2", Found: 3, Median: 2.5}},
		Shrink:  &ShrinkResult{PreemptionsBefore: 9, PreemptionsAfter: 2, Seconds: 0.0123},
	}}}
	var b strings.Builder
	writeStudyTable(&b, st)
	lines := strings.Split(b.String(), "\n")
	want := []string{
		"| bug seed | version | invariant | budget | random | pct-d2 | preemptions, shrunk | shrink time |",
		"|---|---|---|---:|---:|---:|---:|---:|",
		"| `b` | 3.x | page-ref | 50 | — (0/4) | 2.5* (3/4) | 9 → 2 | 12.3 ms |",
	}
	if diff := cmp.Diff(want, lines[:3]); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

// TestStudy runs the study for real on one cheap bug seed: every
// strategy finds it, the result does not depend on the worker count, and
// shrinking does not add preemptions.
func TestStudy(t *testing.T) {
	o := studyOptions{seeds: 3, dfsBound: 2, id: "mpage-cyclic-wrap", workers: 2}
	st, err := runStudy(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Bugs) != 1 || len(st.Bugs[0].Results) != 5 {
		t.Fatalf("study: %+v", st)
	}
	b := st.Bugs[0]
	for _, r := range b.Results {
		if r.Found != 3 || r.Median < 1 || r.Median > float64(b.Budget) {
			t.Errorf("%s: found %d/3, median %g; the catalogue finds it at once", r.Strategy, r.Found, r.Median)
		}
	}
	if s := b.Shrink; s == nil || s.Strategy != b.Strategy || s.PreemptionsAfter > s.PreemptionsBefore {
		t.Errorf("shrink: %+v", b.Shrink)
	}

	o.workers = 1
	again, err := runStudy(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	timings := cmpopts.IgnoreFields(StrategyResult{}, "Seconds")
	if diff := cmp.Diff(st, again, timings, cmpopts.IgnoreFields(ShrinkResult{}, "Seconds")); diff != "" {
		t.Errorf("2 workers vs 1 (-2 +1):\n%s", diff)
	}
}

func TestStrategiesCommand(t *testing.T) {
	tests := []struct {
		args      []string
		code      int
		stderrHas string
	}{
		{[]string{"strategies", "-seeds", "0"}, 2, "wbbench strategies: -seeds must be at least 1"},
		{[]string{"strategies", "-dfs-bound", "99"}, 2, "-dfs-bound must be in 0..16"},
		{[]string{"strategies", "-id", "no-such-bug", "-out", ""}, 2, `wbbench strategies: no bug seed "no-such-bug"`},
		{[]string{"strategies", "extra"}, 2, "want 0 argument(s), got 1"},
		{[]string{"nonsense"}, 2, `wbbench: unknown command "nonsense"`},
		{nil, 2, "Usage: wbbench COMMAND"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.stderrHas) {
			t.Errorf("wbbench %v: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.code, stderr.String(), tt.stderrHas)
		}
	}
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &stdout, io.Discard); code != 0 || !strings.Contains(stdout.String(), "regen") {
		t.Errorf("wbbench --help: exit %d, %s", code, stdout.String())
	}
}

// TestShrinkCyclicWrapDeadlock holds issue 18's shrinking target: the
// cyclic-wrap deadlock's first failure (34 preemptions) shrinks to at
// most 8 (index replay alone stopped at 28).
func TestShrinkCyclicWrapDeadlock(t *testing.T) {
	o := studyOptions{seeds: 1, dfsBound: 2, id: "mpage-cyclic-wrap-deadlock", workers: 2}
	st, err := runStudy(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Bugs[0].Shrink
	if s == nil || s.PreemptionsAfter > 8 {
		t.Fatalf("shrink: %+v, want at most 8 preemptions left", s)
	}
	t.Logf("%d -> %d preemptions in %.3fs", s.PreemptionsBefore, s.PreemptionsAfter, s.Seconds)
}
