package wbsimtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
)

// Outcome is what a scenario's exploration ends with, in a form to compare
// with cmp.Diff: the id of the failure found (srun.FailureID: an
// invariant, or deadlock, livelock, time-budget), "" when every schedule
// passed.
type Outcome struct {
	Failure string
}

// Check explores a scenario built with the scenarios package's builder
// API (scenarios.New(...).AddFile(...)...) and judges it against its
// expectation (none means ExpectOK), as Run does a file, with the same
// flags, saved failures and replay files: a failing built scenario is
// written to testdata/wbsim/NAME.wbs for the replay file to name. A failed
// expectation reports a cmp.Diff of the expected against the found
// Outcome. It returns the verdict.
func Check(t testing.TB, s *scenarios.Scenario) srun.Verdict {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatalf("wbsimtest: %v", err)
	}
	return check(t, s, "")
}

// Explore explores s (with the flags' seed and budget, as Check) and
// returns what it found, for a test to compare with cmp.Diff; it does not
// judge s's expectation.
func Explore(t testing.TB, s *scenarios.Scenario) Outcome {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatalf("wbsimtest: %v", err)
	}
	s, o := forTest(s, repetition(t.Name()+"\x00"+s.Name))
	s.Expect = scenarios.Expect{Outcome: scenarios.OutcomeOK}
	v := srun.CheckWith(s, o)
	if v.Schedules == 0 && v.Msg != "" {
		t.Fatalf("wbsimtest: %s", v.Msg)
	}
	return Outcome{Failure: v.Found}
}

// Expected is the Outcome s's expect line asks for.
func Expected(s *scenarios.Scenario) Outcome {
	if s.Expect.Outcome == scenarios.OutcomeFailure {
		return Outcome{Failure: s.Expect.Failure}
	}
	return Outcome{}
}

// outcomeDiff shows, as a cmp.Diff, what the verdict found against what s
// expected.
func outcomeDiff(s *scenarios.Scenario, v srun.Verdict) string {
	return "expected and found outcome (-expected +found):\n" + cmp.Diff(Expected(s), Outcome{Failure: v.Found})
}
