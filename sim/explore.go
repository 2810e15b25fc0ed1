package sim

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// StrategyFactory makes the strategy for one schedule. k is the step count
// of a calibration run (for PCT), or 0 when none was made.
type StrategyFactory func(seed uint64, k int64) Strategy

// ExploreOptions configures Explore.
type ExploreOptions struct {
	Config    Config // per-world budgets; Seed and Strategy are set per schedule
	Strategy  StrategyFactory
	FirstSeed uint64
	// Schedules is how many seeds to run: FirstSeed, FirstSeed+1, ...
	Schedules int
	// Shard, Shards split the seed range: this run takes the seeds whose
	// position i in the range has i%Shards == Shard. Shards 0 means 1.
	Shard, Shards int
	Workers       int // worker goroutines; 0 means 1
	KeepGoing     bool
	// CalibrateK runs FirstSeed once under RoundRobin first and passes its
	// step count to Strategy (PCT's k).
	CalibrateK bool
	// CheckDeterminism runs every seed twice and fails on different hashes.
	CheckDeterminism bool
	// Progress, if set, is called from worker goroutines (serialised) about
	// every ProgressEvery schedules.
	Progress      func(Progress)
	ProgressEvery int
	// OnFailure, if set, is called (serialised) as each failure is found,
	// so a caller can write a replay file at once.
	OnFailure func(*Result)
}

// Progress is a snapshot of a running exploration.
type Progress struct {
	Done, Total int
	Failures    int
	Elapsed     time.Duration
}

// Rate is schedules per second so far.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// ExploreResult is the outcome of Explore. Failures are sorted by seed.
// Without KeepGoing it holds the failure with the lowest seed, and
// Schedules counts the seeds up to it, whatever the worker count.
type ExploreResult struct {
	Schedules int
	Failures  []*Result
	Steps     int64
	K         int64
	Stopped   bool // the context ended the run early
	Elapsed   time.Duration
}

// Explore runs one world per seed from setup on worker goroutines. Each
// world is single-threaded and independent, so the set of failures found
// for a seed range does not depend on the number of workers.
func Explore(ctx context.Context, setup func(w *World), opts ExploreOptions) ExploreResult {
	start := time.Now()
	shards := max(opts.Shards, 1)
	// Position p of this shard is seed FirstSeed + p*shards + Shard. Nothing
	// is kept per position, so a range of 10^9 seeds costs no memory.
	n := 0
	if opts.Shard < opts.Schedules {
		n = (opts.Schedules - opts.Shard + shards - 1) / shards
	}
	seedAt := func(p int) uint64 { return opts.FirstSeed + uint64(p*shards+opts.Shard) }
	var k int64
	if opts.CalibrateK {
		cfg := opts.Config
		cfg.Seed = opts.FirstSeed
		w := New(cfg)
		setup(w)
		k = w.Run().Steps
	}
	// Only a failure's trace is ever read (its decision log names the
	// hash), and tracing is a fifth of a run's work: a passing run skips
	// it, and a failing one is replayed from its log traced. Once a run
	// has failed, more failures are likely (KeepGoing), so every later run
	// is traced as it goes rather than run twice.
	var failed atomic.Bool
	runOne := func(seed uint64) *Result {
		cfg := opts.Config
		cfg.Seed = seed
		cfg.Strategy = opts.Strategy(seed, k)
		retrace := !cfg.Untraced && !opts.CheckDeterminism && !failed.Load()
		cfg.Untraced = cfg.Untraced || retrace
		w := New(cfg)
		setup(w)
		r := w.Run()
		if r.Failure != nil && retrace {
			failed.Store(true)
			cfg.Untraced = false
			cfg.Strategy = NewReplay(r.Log)
			w := New(cfg)
			setup(w)
			div := r.Divergence // of a replaying strategy's own log
			r = w.Run()
			r.Divergence = cmp.Or(div, r.Divergence)
		}
		if opts.CheckDeterminism && r.Failure == nil {
			cfg.Strategy = NewReplay(r.Log)
			w2 := New(cfg)
			setup(w2)
			if r2 := w2.Run(); r2.Hash != r.Hash {
				r.Failure = &Failure{Kind: FailNondeterminism, Seed: seed, TaskID: -1,
					Msg: fmt.Sprintf("seed %d gave trace hash %016x, then %016x", seed, r.Hash, r2.Hash),
					Log: r.Log}
			}
		}
		return r
	}

	type found struct {
		pos int
		r   *Result
	}
	var (
		mu       sync.Mutex
		next     atomic.Int64
		stopAt   = n // positions >= stopAt are not needed: one below it failed
		all      []found
		done     doneSet
		failures int
		steps    int64
	)
	every := max(opts.ProgressEvery, 1)
	workers := max(opts.Workers, 1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				mu.Lock()
				limit := stopAt
				mu.Unlock()
				if i >= limit {
					return
				}
				r := runOne(seedAt(i))
				mu.Lock()
				done.add(i)
				steps += r.Steps
				if r.Failure != nil {
					failures++
					all = append(all, found{i, r})
					if !opts.KeepGoing && i < stopAt {
						stopAt = i
					}
					if opts.OnFailure != nil {
						opts.OnFailure(r)
					}
				}
				if opts.Progress != nil && done.n%every == 0 {
					opts.Progress(Progress{Done: done.n, Total: n, Failures: failures, Elapsed: time.Since(start)})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	// Without KeepGoing, only positions up to the lowest failure count,
	// whatever else the workers had finished: the result does not depend
	// on the worker count.
	last := n - 1
	if !opts.KeepGoing && stopAt < n {
		last = stopAt
	}
	res := ExploreResult{K: k, Stopped: ctx.Err() != nil, Steps: steps, Schedules: done.upTo(last)}
	for _, f := range all {
		if f.pos <= last {
			res.Failures = append(res.Failures, f.r)
		}
	}
	slices.SortFunc(res.Failures, func(a, b *Result) int { return cmp.Compare(a.Seed, b.Seed) })
	res.Elapsed = time.Since(start)
	if opts.Progress != nil {
		opts.Progress(Progress{Done: done.n, Total: n, Failures: failures, Elapsed: res.Elapsed})
	}
	return res
}

// doneSet counts finished positions in constant memory for in-order work:
// every position below low is done, and the few finished out of order
// above it (at most one per worker in flight) are in above.
type doneSet struct {
	low   int
	above map[int]bool
	n     int
}

func (d *doneSet) add(p int) {
	d.n++
	if p != d.low {
		if d.above == nil {
			d.above = map[int]bool{}
		}
		d.above[p] = true
		return
	}
	d.low++
	for d.above[d.low] {
		delete(d.above, d.low)
		d.low++
	}
}

// upTo counts the finished positions <= last.
func (d *doneSet) upTo(last int) int {
	c := min(d.low, last+1)
	for p := range d.above { // a count: iteration order does not matter
		if p <= last {
			c++
		}
	}
	return c
}
