package sim

// Shrink looks for a schedule with fewer preemptions that fails the same
// way as log (same Failure.Signature), by delta debugging (Zeller and
// Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", 2002)
// over the preemption points: a removed preemption becomes choice 0 ("the
// current task goes on"), and decisions after a removed one follow the
// original log while it still fits, then choice 0. It returns the log of
// the smallest failing run found, which replays exactly, and that run's
// result. maxRuns bounds the work (0 = 2,000 runs).
func Shrink(setup func(w *World), cfg Config, log *DecisionLog, maxRuns int) (*DecisionLog, *Result) {
	if maxRuns <= 0 {
		maxRuns = 2000
	}
	run := func(choices []int) *Result {
		c := cfg
		c.Seed = log.Seed
		c.Strategy = &Fixed{Prefix: choices}
		w := New(c)
		setup(w)
		return w.Run()
	}
	toInts := func(l *DecisionLog) []int {
		out := make([]int, len(l.Choices))
		for i, c := range l.Choices {
			out[i] = int(c.C)
		}
		return out
	}
	best := run(toInts(log))
	sig := best.Failure.Signature()
	if best.Failure == nil {
		return log, best
	}
	runs := 1
	for runs < maxRuns {
		points := preemptionPoints(best.Log)
		if len(points) == 0 {
			break
		}
		improved := false
		// ddmin: try dropping chunks of the preemption set, halving the
		// chunk size until single preemptions are tried.
		for n := 2; n <= 2*len(points) && !improved && runs < maxRuns; n *= 2 {
			chunk := max(1, (len(points)+n-1)/n)
			for start := 0; start < len(points) && runs < maxRuns; start += chunk {
				choices := toInts(best.Log)
				for _, p := range points[start:min(start+chunk, len(points))] {
					choices[p] = 0
				}
				r := run(choices)
				runs++
				if r.Failure != nil && r.Failure.Signature() == sig && r.Log.Preemptions() < best.Log.Preemptions() {
					best, improved = r, true
					break
				}
			}
			if chunk == 1 {
				break
			}
		}
		if !improved {
			break
		}
	}
	return best.Log, best
}

func preemptionPoints(l *DecisionLog) []int {
	var out []int
	for i, c := range l.Choices {
		if c.C != 0 && c.Preemptible {
			out = append(out, i)
		}
	}
	return out
}
