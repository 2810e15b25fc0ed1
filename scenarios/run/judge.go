package run

import (
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// Unexpected says whether failure f, found in one run of s, goes against
// s's expectation: it counts against s (see counted: not an invariant s
// leaves unchecked) and is not the failure s expects. A replayed schedule
// "still fails" when its failure is Unexpected.
func Unexpected(s *scenarios.Scenario, f *sim.Failure) bool {
	if f == nil || !counted(s, f) {
		return false
	}
	return s.Expect.Outcome != scenarios.OutcomeFailure || !matches(f, s.Expect.Failure)
}
