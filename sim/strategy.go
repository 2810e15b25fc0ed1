package sim

import (
	"math/rand/v2"
	"slices"
)

// Decision is what a strategy sees at a scheduling point with more than
// one candidate.
type Decision struct {
	World *World
	Step  int64
	// Candidates are the runnable tasks. When CurrentRunnable, candidate 0
	// is the task that reached the point: choosing 0 lets it go on, any
	// other choice is a preemption. Otherwise the current task blocked or
	// ended, and every choice is free. The rest follow in cyclic id order.
	Candidates      []*Task
	CurrentRunnable bool
	cur             *Task // the task that reached the point, for Shrink's hints
}

// Strategy picks the next task at each scheduling point. A strategy may
// also implement Begin(*World), called once before the run starts.
// Strategies are single-use: make a new one for each run.
type Strategy interface {
	Choose(d *Decision) int
}

// strategySeed derives a strategy's random source from the world seed, on
// a stream apart from the model's.
func strategyRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x51a7e6f0c3d2b1a9))
}

// RoundRobin is the deterministic baseline. With Quantum 0 it never
// preempts: a task runs until it blocks or ends. With Quantum q it switches
// to the next task in id order after every q scheduling points.
type RoundRobin struct {
	Quantum int
	n       int
}

// Choose implements Strategy.
func (r *RoundRobin) Choose(d *Decision) int {
	if !d.CurrentRunnable {
		return 0
	}
	if r.Quantum <= 0 {
		return 0
	}
	r.n++
	if r.n < r.Quantum {
		return 0
	}
	r.n = 0
	return 1
}

// Random is a random walk: every candidate equally likely at every point.
type Random struct{ rng *rand.Rand }

// NewRandom makes a random walk seeded from seed.
func NewRandom(seed uint64) *Random { return &Random{rng: strategyRand(seed)} }

// Choose implements Strategy.
func (r *Random) Choose(d *Decision) int { return r.rng.IntN(len(d.Candidates)) }

// PCT is probabilistic concurrency testing with depth D (Burckhardt,
// Kothari, Musuvathi, Nagarakatte: "A Randomized Scheduler with
// Probabilistic Guarantees of Finding Bugs", ASPLOS 2010). Each task gets a
// random priority when first seen, all at least D; D-1 change points are
// drawn uniformly from the first K steps; at the i-th change point the
// running task's priority drops to D-i. The highest-priority runnable task
// always runs. For a bug of depth d, n tasks and k steps, one run finds it
// with probability at least 1/(n·k^(d-1)).
type PCT struct {
	D      int
	K      int64 // estimated steps per run; from a previous run or a guess
	rng    *rand.Rand
	prio   []int64 // by task id; 0 = not yet assigned
	change []int64 // sorted change-point steps
	next   int
}

// NewPCT makes a PCT strategy of depth d for runs of about k steps.
func NewPCT(seed uint64, d int, k int64) *PCT {
	p := &PCT{D: max(d, 1), K: max(k, 1), rng: strategyRand(seed)}
	for range p.D - 1 {
		p.change = append(p.change, 1+p.rng.Int64N(p.K))
	}
	slices.Sort(p.change)
	return p
}

func (p *PCT) priority(t *Task) int64 {
	for int(t.id) >= len(p.prio) {
		p.prio = append(p.prio, 0)
	}
	if p.prio[t.id] == 0 {
		// Initial priorities are above every change-point priority (<= D-1);
		// a wide random range keeps ties (broken by id) rare.
		p.prio[t.id] = int64(p.D) + 1 + p.rng.Int64N(1<<40)
	}
	return p.prio[t.id]
}

// Choose implements Strategy.
func (p *PCT) Choose(d *Decision) int {
	for p.next < len(p.change) && p.change[p.next] <= d.Step {
		if d.CurrentRunnable {
			p.priority(d.Candidates[0])
			p.prio[d.Candidates[0].id] = int64(p.D - 1 - p.next)
		}
		p.next++
	}
	best, bestPrio := 0, int64(-1)
	for i, t := range d.Candidates {
		if pr := p.priority(t); pr > bestPrio {
			best, bestPrio = i, pr
		}
	}
	return best
}

// Divergence says where a replayed log stopped fitting the run.
type Divergence struct {
	Decision int   // index into the log
	Step     int64 // scheduling point where it happened
	Want     int   // candidates the log recorded
	Got      int   // candidates the run offered
	Reason   string
}

// Replay follows a decision log. Where the log no longer fits (the model
// changed: a different number of candidates, or the log ran out while the
// run went on) it records the first divergence and continues with its
// fallback instead of failing.
type Replay struct {
	log      *DecisionLog
	i        int // decisions made
	run, rep int // the next choice: repeat rep of log.Runs[run]
	div      *Divergence
	fallback Strategy
}

// NewReplay replays log; after a divergence it continues with a random
// walk seeded from the log's seed.
func NewReplay(log *DecisionLog) *Replay {
	return &Replay{log: log, fallback: NewRandom(log.Seed)}
}

// NewReplayThen replays log and continues with fallback after it.
func NewReplayThen(log *DecisionLog, fallback Strategy) *Replay {
	return &Replay{log: log, fallback: fallback}
}

// Choose implements Strategy.
func (r *Replay) Choose(d *Decision) int {
	i := r.i
	r.i++
	if r.div == nil {
		if r.run >= len(r.log.Runs) {
			r.div = &Divergence{Decision: i, Step: d.Step, Got: len(d.Candidates), Reason: "log ended while the run went on"}
		} else if c := r.log.Runs[r.run].Choice; int(c.N) != len(d.Candidates) || c.Preemptible != d.CurrentRunnable {
			r.div = &Divergence{Decision: i, Step: d.Step, Want: int(c.N), Got: len(d.Candidates),
				Reason: "the run offered different candidates than the log recorded"}
		} else {
			if r.rep++; r.rep == int(r.log.Runs[r.run].Reps) {
				r.run, r.rep = r.run+1, 0
			}
			return int(c.C)
		}
	}
	return r.fallback.Choose(d)
}

// Divergence is the first place the log did not fit, or nil.
func (r *Replay) Divergence() *Divergence { return r.div }

// Fixed always makes choice 0 once a prefix is used up: the strategy of
// exhaustive search and shrinking, where "no more preemptions" is wanted.
type Fixed struct {
	Prefix []int
	i      int
}

// Choose implements Strategy.
func (f *Fixed) Choose(d *Decision) int {
	i := f.i
	f.i++
	if i < len(f.Prefix) && f.Prefix[i] < len(d.Candidates) {
		return f.Prefix[i]
	}
	return 0
}
