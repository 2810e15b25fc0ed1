package sim

// Shrink looks for a schedule with fewer preemptions that fails the same
// way as log (same Failure.Signature), by delta debugging (Zeller and
// Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", 2002)
// over the preemption points. It returns the log of the smallest failing
// run found, which replays exactly, and that run's result. maxRuns bounds
// the work (0 = 2,000 runs).
//
// A schedule is shrunk as a set of hints, not as a list of choice
// indexes: each decision is named by the task that reached it and how
// many scheduling points that task had passed (its own program position),
// and says which task ran next. Removing one preemption shifts every
// later decision's index and changes later candidate lists, so index
// replay loses the rest of the schedule; a hint keyed by program position
// still applies wherever that task reaches that point. A decision with no
// hint, or whose hinted task cannot run, takes choice 0 (the current task
// goes on, or the next task round-robin): the replay tolerates divergence.
func Shrink(setup func(w *World), cfg Config, log *DecisionLog, maxRuns int) (*DecisionLog, *Result) {
	if maxRuns <= 0 {
		maxRuns = 2000
	}
	run := func(s Strategy) (*Result, []hint) {
		c := cfg
		c.Seed = log.Seed
		rec := &hintRecorder{inner: s}
		c.Strategy = rec
		w := New(c)
		setup(w)
		return w.Run(), rec.hints
	}
	choices := make([]int, 0, log.Len())
	for _, c := range log.Choices() {
		choices = append(choices, int(c.C))
	}
	best, hints := run(&Fixed{Prefix: choices})
	if best.Failure == nil {
		return log, best
	}
	sig := best.Failure.Signature()
	runs := 1
	// try runs s and keeps its run if it fails the same way with fewer
	// preemptions.
	try := func(s Strategy) bool {
		if runs >= maxRuns {
			return false
		}
		runs++
		r, rh := run(s)
		if r.Failure == nil || r.Failure.Signature() != sig || r.Log.Preemptions() >= best.Log.Preemptions() {
			return false
		}
		best, hints = r, rh
		return true
	}
	// byHints drops the hints the set names; byIndex replays the best log
	// by index with the set's choices made 0, the classic form, which
	// sometimes keeps a later preemption that hints lose.
	byHints := func(drop map[int]bool) Strategy {
		kept := make(map[hintKey]int32, len(hints))
		for i, h := range hints {
			if !drop[i] {
				kept[h.key] = h.next
			}
		}
		return &hinted{hints: kept}
	}
	byIndex := func(drop map[int]bool) Strategy {
		prefix := make([]int, best.Log.Len())
		for i, c := range best.Log.Choices() {
			if !drop[i] {
				prefix[i] = int(c.C)
			}
		}
		return &Fixed{Prefix: prefix}
	}
	for runs < maxRuns {
		if !ddmin(hintPreemptions(hints), byHints, try) && !ddmin(preemptionPoints(best.Log), byIndex, try) {
			break
		}
	}
	return best.Log, best
}

// ddmin tries dropping chunks of points, the whole set first, then
// halving the chunk size until single points are tried; it stops at the
// first try that succeeds and reports whether one did.
func ddmin(points []int, strategy func(drop map[int]bool) Strategy, try func(Strategy) bool) bool {
	for n := 1; n <= 2*len(points); n *= 2 {
		chunk := max(1, (len(points)+n-1)/n)
		for start := 0; start < len(points); start += chunk {
			drop := make(map[int]bool, chunk)
			for _, p := range points[start:min(start+chunk, len(points))] {
				drop[p] = true
			}
			if try(strategy(drop)) {
				return true
			}
		}
		if chunk == 1 {
			break
		}
	}
	return false
}

func preemptionPoints(l *DecisionLog) []int {
	var out []int
	for i, c := range l.Choices() {
		if c.C != 0 && c.Preemptible {
			out = append(out, i)
		}
	}
	return out
}

// hintKey names a decision by program position: the task that reached it
// (-1 before any ran) and how many scheduling points that task had passed.
type hintKey struct {
	task   int32
	points int64
}

// hint is one decision of a run: where it was, which task ran next, and
// whether that was a preemption.
type hint struct {
	key     hintKey
	next    int32
	preempt bool
}

func hintPreemptions(hints []hint) []int {
	var out []int
	for i, h := range hints {
		if h.preempt {
			out = append(out, i)
		}
	}
	return out
}

func decisionKey(d *Decision) hintKey {
	if d.cur == nil {
		return hintKey{task: -1}
	}
	return hintKey{task: d.cur.id, points: d.cur.points}
}

// hintRecorder asks inner and records each decision as a hint.
type hintRecorder struct {
	inner Strategy
	hints []hint
}

func (r *hintRecorder) Choose(d *Decision) int {
	i := r.inner.Choose(d)
	if i >= 0 && i < len(d.Candidates) {
		r.hints = append(r.hints, hint{key: decisionKey(d), next: d.Candidates[i].id, preempt: d.CurrentRunnable && i != 0})
	}
	return i
}

// hinted follows hints by program position, and takes choice 0 where it
// has none or the hinted task cannot run.
type hinted struct{ hints map[hintKey]int32 }

func (h *hinted) Choose(d *Decision) int {
	next, ok := h.hints[decisionKey(d)]
	if !ok {
		return 0
	}
	for i, t := range d.Candidates {
		if t.id == next {
			return i
		}
	}
	return 0
}
