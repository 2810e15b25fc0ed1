package sim

import "pgregory.net/rapid"

// Rapid draws every choice from a *rapid.T, so that rapid shrinks a
// failing schedule together with the rest of a generated test case.
// Shrinking lowers draws toward 0, and choice 0 is "the current task goes
// on": a shrunk schedule has fewer preemptions.
type Rapid struct{ T *rapid.T }

// Choose implements Strategy.
func (r Rapid) Choose(d *Decision) int {
	return rapid.IntRange(0, len(d.Candidates)-1).Draw(r.T, "sched")
}
