package reports

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func shardResult(shard, shards int, keepGoing bool, failSeeds []uint64, schedules int) *Result {
	r := NewResult("explore")
	p := ProgramResult{Program: "p", Strategy: StrategyInfo{Name: "random", Text: "random"}, Expect: ExpectPass,
		Seeds: SeedRange{First: 10, Count: 30, Shards: shards, Done: []int{shard}}, KeepGoing: keepGoing,
		Schedules: schedules, Failures: []FailureInfo{}}
	for _, s := range failSeeds {
		p.Failures = append(p.Failures, FailureInfo{Kind: "bug", Seed: s, Replay: "replays/p-seed" + strconv.FormatUint(s, 10) + ".replay"})
	}
	p.FailuresFound = len(failSeeds)
	if len(failSeeds) > 0 {
		p.Minimal = &Minimal{Seed: failSeeds[0], Replay: "replays/p-seed" + strconv.FormatUint(failSeeds[0], 10) + ".min.replay"}
	}
	p.Judge()
	r.Programs = append(r.Programs, p)
	return r
}

func TestMergeKeepGoing(t *testing.T) {
	in := []MergeInput{
		{"s0", shardResult(0, 3, true, []uint64{13, 22}, 10)},
		{"s1", shardResult(1, 3, true, []uint64{11}, 10)},
		{"s2", shardResult(2, 3, true, nil, 10)},
	}
	m, copies, warns, err := Merge(in)
	if err != nil || len(warns) != 0 {
		t.Fatalf("merge: %v %v", err, warns)
	}
	p := m.Programs[0]
	var seeds []uint64
	for _, f := range p.Failures {
		seeds = append(seeds, f.Seed)
	}
	if d := cmp.Diff([]uint64{11, 13, 22}, seeds); d != "" || p.Schedules != 30 || p.OK {
		t.Fatalf("merged: seeds diff %s, schedules %d, ok %v", d, p.Schedules, p.OK)
	}
	if p.Minimal == nil || p.Minimal.Seed != 11 || p.Minimal.Replay != "replays/p-seed11.min.replay" {
		t.Fatalf("minimal: %+v", p.Minimal)
	}
	if d := cmp.Diff([]int{0, 1, 2}, p.Seeds.Done); d != "" {
		t.Fatal(d)
	}
	if len(copies) != 4 {
		t.Fatalf("copies: %+v", copies)
	}
}

func TestMergeFirstFailureOnly(t *testing.T) {
	// Without keep-going each shard stops at its own first failure; the
	// merged result is the unsharded run's: the lowest failing seed, and
	// the schedules up to it.
	in := []MergeInput{
		{"s0", shardResult(0, 2, false, []uint64{16}, 4)},
		{"s1", shardResult(1, 2, false, []uint64{13}, 2)},
	}
	m, _, _, err := Merge(in)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Programs[0]
	if len(p.Failures) != 1 || p.Failures[0].Seed != 13 || p.Schedules != 4 || p.Minimal.Seed != 13 {
		t.Fatalf("merged: %+v", p)
	}
}

func TestMergeErrorsAndWarnings(t *testing.T) {
	_, _, _, err := Merge([]MergeInput{{"a", shardResult(0, 2, true, nil, 1)}, {"b", shardResult(0, 2, true, nil, 1)}})
	if err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("duplicate shard: %v", err)
	}
	m, _, warns, err := Merge([]MergeInput{{"a", shardResult(0, 3, true, nil, 1)}})
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "[1 2]") {
		t.Errorf("missing shards: %v %v", err, warns)
	}
	if p := m.Programs[0]; p.OK || p.Stopped != StoppedMissingShards {
		t.Errorf("missing shards: ok %v, stopped %q; want incomplete", p.OK, p.Stopped)
	}
	for _, bad := range []string{"../../../etc/passwd", "/etc/passwd", "replays/../../x.replay"} {
		r := shardResult(0, 1, true, []uint64{12}, 3)
		r.Programs[0].Failures[0].Replay = bad
		if _, _, _, err := Merge([]MergeInput{{"a", r}}); err == nil || !strings.Contains(err.Error(), "outside its shard directory") {
			t.Errorf("replay %q: %v, want a refusal", bad, err)
		}
	}
	other := shardResult(1, 2, true, nil, 1)
	other.Programs[0].Strategy.Text = "pct depth=2 k=4"
	m, _, _, err = Merge([]MergeInput{{"a", shardResult(0, 2, true, nil, 1)}, {"b", other}})
	if err != nil || len(m.Programs) != 2 {
		t.Errorf("different strategies stay apart: %v, %d programs", err, len(m.Programs))
	}
}

func TestParseResult(t *testing.T) {
	b, _ := MarshalResult(shardResult(0, 1, false, []uint64{3}, 3))
	r, err := ParseResult(b)
	if err != nil || r.Programs[0].Failures[0].Seed != 3 {
		t.Fatalf("round trip: %v", err)
	}
	for text, want := range map[string]string{
		`{`:                                     "line 1:2",
		`{"schema":"x","version":1}`:            `schema is "x"`,
		`{"schema":"wbsim-result","version":2}`: "version 2 not supported",
		"{\"schema\":\"wbsim-result\",\n\"version\":1,\"extra\":1}":    "unknown field",
		"{\"schema\":\"wbsim-result\",\"version\":1,\n\"programs\":7}": "line 2:",
	} {
		if _, err := ParseResult([]byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want ...%s...", text, err, want)
		}
	}
}

func TestMergeCapsFailures(t *testing.T) {
	a := shardResult(0, 2, true, []uint64{10, 12, 14}, 15)
	b := shardResult(1, 2, true, []uint64{11, 13, 15}, 15)
	for _, r := range []*Result{a, b} {
		r.Programs[0].MaxFailures = 3
		r.Programs[0].FailuresFound = 7
	}
	m, copies, _, err := Merge([]MergeInput{{"a", a}, {"b", b}})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Programs[0]
	var seeds []uint64
	for _, f := range p.Failures {
		seeds = append(seeds, f.Seed)
	}
	if d := cmp.Diff([]uint64{10, 11, 12}, seeds); d != "" || p.FailuresFound != 14 || len(copies) != 4 {
		t.Fatalf("capped merge: %s, found %d, %d copies", d, p.FailuresFound, len(copies))
	}
}
