package reports

import (
	"strings"
	"testing"
)

// TestVerdict: the verdict of every combination of expectation, failures
// found and a stop before the budget.
func TestVerdict(t *testing.T) {
	expected := FailureInfo{Summary: "the one expected", Expected: true}
	other := FailureInfo{Summary: "another"}
	yes, no := true, false
	cases := []struct {
		name     string
		p        ProgramResult
		want     string
		wantOK   bool
		junitHas string
	}{
		{"pass, clean", ProgramResult{Expect: ExpectPass}, VerdictOK, true, ""},
		{"pass, a failure", ProgramResult{Expect: ExpectPass, Failures: []FailureInfo{other}}, VerdictFail, false, "<failure"},
		{"pass, stopped", ProgramResult{Expect: ExpectPass, Stopped: StoppedInterrupted}, VerdictIncomplete, false, `<error message="incomplete: stopped (interrupted)`},
		{"pass, stopped with a failure", ProgramResult{Expect: ExpectPass, Stopped: StoppedTimeLimit, Failures: []FailureInfo{other}}, VerdictFail, false, "<failure"},
		{"find, found", ProgramResult{Expect: ExpectFind, ExpectFailure: "x", Failures: []FailureInfo{expected}}, VerdictExpected, true, ""},
		{"find, found while stopped", ProgramResult{Expect: ExpectFind, ExpectFailure: "x", Stopped: StoppedTimeLimit, Failures: []FailureInfo{expected}}, VerdictExpected, true, ""},
		{"find, another found", ProgramResult{Expect: ExpectFind, ExpectFailure: "x", Failures: []FailureInfo{other}}, VerdictFail, false, `message="another"`},
		{"find, both found", ProgramResult{Expect: ExpectFind, ExpectFailure: "x", Failures: []FailureInfo{expected, other}}, VerdictFail, false, `message="another"`},
		{"find, none", ProgramResult{Expect: ExpectFind, ExpectFailure: "x", Schedules: 7}, VerdictFail, false, "expected failure x; none found in 7 schedules"},
		{"find, none, stopped", ProgramResult{Expect: ExpectFind, ExpectFailure: "x", Stopped: StoppedMissingShards}, VerdictIncomplete, false, "<error"},
		{"find, a shard without it", ProgramResult{Expect: ExpectFind, ExpectFailure: "x", Seeds: SeedRange{Shards: 3, Done: []int{1}}}, VerdictIncomplete, false, `type="incomplete-shard"`},
		{"find, every shard, none", ProgramResult{Expect: ExpectFind, ExpectFailure: "x", Seeds: SeedRange{Shards: 2, Done: []int{0, 1}}}, VerdictFail, false, "<failure"},
		{"pass, a clean shard", ProgramResult{Expect: ExpectPass, Seeds: SeedRange{Shards: 3, Done: []int{1}}}, VerdictOK, true, ""},
		{"find any, found", ProgramResult{Expect: ExpectFind, Failures: []FailureInfo{other}}, VerdictExpected, true, ""},
		{"any", ProgramResult{Expect: ExpectAny, Failures: []FailureInfo{other}, Stopped: StoppedInterrupted}, VerdictOK, true, ""},
		{"replay reproduced", ProgramResult{Expect: ExpectAny, Failures: []FailureInfo{other}, Reproduced: &yes}, VerdictOK, true, ""},
		{"replay not reproduced", ProgramResult{Expect: ExpectAny, Reproduced: &no}, VerdictFail, false, `type="not-reproduced"`},
		{"trace differs", ProgramResult{Expect: ExpectPass, TraceGolden: "g", TraceDiff: "- a\n+ b\n"}, VerdictFail, false, "differs from the golden file g"},
	}
	for _, c := range cases {
		p := c.p
		if p.Failures == nil {
			p.Failures = []FailureInfo{}
		}
		p.Judge()
		if got := p.Verdict(); got != c.want || p.OK != c.wantOK {
			t.Errorf("%s: verdict %s ok %v, want %s %v", c.name, got, p.OK, c.want, c.wantOK)
		}
		var b strings.Builder
		if err := WriteJUnit(&b, &Result{Command: "explore", Programs: []ProgramResult{p}}); err != nil {
			t.Fatal(err)
		}
		junit := b.String()
		if c.junitHas != "" && !strings.Contains(junit, c.junitHas) || c.junitHas == "" && (strings.Contains(junit, "<failure") || strings.Contains(junit, "<error")) {
			t.Errorf("%s: junit.xml lacks %q (or fails a pass):\n%s", c.name, c.junitHas, junit)
		}
	}
}
