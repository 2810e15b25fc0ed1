package sim

import (
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
	seeds := make([]uint64, 0, opts.Schedules/shards+1)
	for i := range opts.Schedules {
		if i%shards == opts.Shard {
			seeds = append(seeds, opts.FirstSeed+uint64(i))
		}
	}
	var k int64
	if opts.CalibrateK {
		cfg := opts.Config
		cfg.Seed = opts.FirstSeed
		w := New(cfg)
		setup(w)
		k = w.Run().Steps
	}
	runOne := func(seed uint64) *Result {
		cfg := opts.Config
		cfg.Seed = seed
		cfg.Strategy = opts.Strategy(seed, k)
		w := New(cfg)
		setup(w)
		r := w.Run()
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

	var (
		mu       sync.Mutex
		next     atomic.Int64
		stopAt   = int64(len(seeds)) // lowest failing position; positions >= it are not needed
		results  = make([]*Result, len(seeds))
		done     int
		failures int
		steps    int64
	)
	every := max(opts.ProgressEvery, 1)
	workers := max(opts.Workers, 1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				mu.Lock()
				limit := stopAt
				mu.Unlock()
				if i >= limit {
					return
				}
				r := runOne(seeds[i])
				mu.Lock()
				results[i] = r
				done++
				steps += r.Steps
				if r.Failure != nil {
					failures++
					if !opts.KeepGoing && i < stopAt {
						stopAt = i
					}
					if opts.OnFailure != nil {
						opts.OnFailure(r)
					}
				}
				if opts.Progress != nil && done%every == 0 {
					opts.Progress(Progress{Done: done, Total: len(seeds), Failures: failures, Elapsed: time.Since(start)})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	res := ExploreResult{K: k, Stopped: ctx.Err() != nil, Steps: steps}
	for i, r := range results {
		if int64(i) > stopAt {
			break
		}
		if r == nil {
			continue
		}
		res.Schedules++
		if r.Failure != nil {
			res.Failures = append(res.Failures, r)
		}
	}
	slices.SortFunc(res.Failures, func(a, b *Result) int {
		switch {
		case a.Seed < b.Seed:
			return -1
		case a.Seed > b.Seed:
			return 1
		}
		return 0
	})
	res.Elapsed = time.Since(start)
	if opts.Progress != nil {
		opts.Progress(Progress{Done: done, Total: len(seeds), Failures: failures, Elapsed: res.Elapsed})
	}
	return res
}
