package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// strategySpec is a strategy as the command line names it.
type strategySpec struct {
	Name    string // random, pct, rr, dfs
	Depth   int    // pct
	K       int64  // pct: steps estimate; 0 = calibrate from the first seed
	Bound   int    // dfs
	Quantum int    // rr
}

func (s strategySpec) validate(allowDFS bool) error {
	switch s.Name {
	case "random", "pct", "rr":
	case "dfs":
		if !allowDFS {
			return fmt.Errorf("--strategy dfs searches many schedules; use \"simrun explore\" (one schedule takes random, pct or rr)")
		}
	default:
		return fmt.Errorf("unknown strategy %q (want random, pct, dfs or rr)", s.Name)
	}
	// The limits are the scenario language's (docs/scenario-language.md),
	// so a command line can ask for nothing a scenario file could not.
	if s.Depth < 1 || s.Depth > scenarios.MaxDepth {
		return rangeErr("--depth", int64(s.Depth), 1, scenarios.MaxDepth)
	}
	if s.Bound < 0 || s.Bound > scenarios.MaxBound {
		return rangeErr("--bound", int64(s.Bound), 0, scenarios.MaxBound)
	}
	if s.Quantum < 0 || s.Quantum > scenarios.MaxQuantum {
		return rangeErr("--quantum", int64(s.Quantum), 0, scenarios.MaxQuantum)
	}
	if s.K < 0 {
		return fmt.Errorf("--k must be at least 0, got %d", s.K)
	}
	return nil
}

// rangeErr says that flag's value v is outside lo..hi, the scenario
// language's limits.
func rangeErr(flag string, v, lo, hi int64) error {
	if v < lo {
		return fmt.Errorf("%s must be at least %d, got %d", flag, lo, v)
	}
	return fmt.Errorf("%s must be at most %d (the scenario language's limit), got %d", flag, hi, v)
}

// checkSeeds checks --schedules n against the language's limit and that
// the seeds first .. first+n-1 do not wrap around 2^64.
func checkSeeds(first uint64, n int) error {
	if n > scenarios.MaxSchedules {
		return rangeErr("--schedules", int64(n), 1, scenarios.MaxSchedules)
	}
	if n > 1 && first+uint64(n-1) < first {
		return fmt.Errorf("--seed %d with --schedules %d runs past the last seed (2^64-1); the highest first seed for %d schedules is %d",
			first, n, n, math.MaxUint64-uint64(n-1))
	}
	return nil
}

// needsK reports whether the strategy wants a calibration run.
func (s strategySpec) needsK() bool { return s.Name == "pct" && s.K == 0 }

func (s strategySpec) factory() sim.StrategyFactory {
	switch s.Name {
	case "random":
		return func(seed uint64, _ int64) sim.Strategy { return sim.NewRandom(seed) }
	case "rr":
		return func(uint64, int64) sim.Strategy { return &sim.RoundRobin{Quantum: s.Quantum} }
	}
	return func(seed uint64, k int64) sim.Strategy {
		if s.K > 0 {
			k = s.K
		}
		return sim.NewPCT(seed, s.Depth, k)
	}
}

// info describes the strategy for reports; k is PCT's step estimate used
// (0: not measured yet, as in "simrun list", where the text leaves it out).
func (s strategySpec) info(k int64) reports.StrategyInfo {
	in := reports.StrategyInfo{Name: s.Name}
	switch s.Name {
	case "pct":
		if s.K > 0 {
			k = s.K
		}
		in.Depth, in.K = s.Depth, k
	case "dfs":
		in.Bound = s.Bound
	case "rr":
		in.Quantum = s.Quantum
	}
	in.Text = in.Line()
	return in
}

// calibrate is PCT's k for a program: the step count of seed's run under
// round-robin, as sim.ExploreOptions.CalibrateK measures it.
func calibrate(p *program, seed uint64) int64 {
	cfg := p.Config
	cfg.Seed = seed
	w := sim.New(cfg)
	p.Setup(w)
	return w.Run().Steps
}

// exploreParams is one exploration of a program.
type exploreParams struct {
	prog      *program
	spec      strategySpec
	firstSeed uint64
	schedules int // for dfs: a cap (0 = until exhausted)
	shard     int
	shards    int
	workers   int
	keepGoing bool
	onFailure func(*sim.Result)
	progress  func(sim.Progress)
}

type exploreOutcome struct {
	Schedules int
	Failures  []*sim.Result
	K         int64
	Stopped   bool
	Exhausted *bool
	Steps     int64
	Elapsed   time.Duration
}

func explore(ctx context.Context, ep exploreParams) exploreOutcome {
	if ep.spec.Name == "dfs" {
		return exploreDFS(ctx, ep)
	}
	start := time.Now()
	// PCT's k comes from one calibration run of the first seed.
	spec := ep.spec
	if spec.needsK() {
		spec.K = calibrate(ep.prog, ep.firstSeed)
	}
	res := sim.Explore(ctx, ep.prog.Setup, sim.ExploreOptions{
		Config: ep.prog.Config, Strategy: spec.factory(), FirstSeed: ep.firstSeed,
		Schedules: ep.schedules, Shard: ep.shard, Shards: max(ep.shards, 1), Workers: ep.workers,
		KeepGoing: ep.keepGoing, Progress: ep.progress, ProgressEvery: 8, OnFailure: ep.onFailure,
	})
	return exploreOutcome{Schedules: res.Schedules, Failures: res.Failures, K: spec.K, Stopped: res.Stopped,
		Steps: res.Steps, Elapsed: time.Since(start)}
}

// exploreDFS runs sim.ExhaustiveSearch (iterative context bounding: every
// schedule with at most Bound preemptions, fewest first) on one goroutine;
// the seed is the world's (model randomness), the schedule comes from the
// search.
func exploreDFS(ctx context.Context, ep exploreParams) exploreOutcome {
	start := time.Now()
	cfg := ep.prog.Config
	cfg.Seed = ep.firstSeed
	res := sim.ExhaustiveSearch(ep.prog.Setup, sim.DFSOptions{
		Config: cfg, Bound: ep.spec.Bound, MaxSchedules: ep.schedules, KeepGoing: ep.keepGoing,
		Context: ctx, OnFailure: ep.onFailure, Progress: ep.progress, ProgressEvery: 8,
	})
	return exploreOutcome{Schedules: res.Schedules, Failures: res.Failures, Stopped: res.Stopped,
		Exhausted: &res.Exhausted, Steps: res.Steps, Elapsed: time.Since(start)}
}
