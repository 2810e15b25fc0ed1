package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wbsim/wbsim/reports"
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

var strategyNames = []string{"random", "pct", "dfs", "rr"}

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
	if s.Depth < 1 {
		return fmt.Errorf("--depth must be at least 1, got %d", s.Depth)
	}
	if s.Bound < 0 {
		return fmt.Errorf("--bound must be at least 0, got %d", s.Bound)
	}
	if s.Quantum < 0 {
		return fmt.Errorf("--quantum must be at least 0, got %d", s.Quantum)
	}
	if s.K < 0 {
		return fmt.Errorf("--k must be at least 0, got %d", s.K)
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

// info describes the strategy for reports; k is PCT's step estimate used.
func (s strategySpec) info(k int64) reports.StrategyInfo {
	in := reports.StrategyInfo{Name: s.Name}
	switch s.Name {
	case "pct":
		if s.K > 0 {
			k = s.K
		}
		in.Depth, in.K = s.Depth, k
		in.Text = fmt.Sprintf("pct depth=%d k=%d", s.Depth, k)
	case "dfs":
		in.Bound = s.Bound
		in.Text = fmt.Sprintf("dfs bound=%d", s.Bound)
	case "rr":
		in.Quantum = s.Quantum
		in.Text = fmt.Sprintf("rr quantum=%d", s.Quantum)
	default:
		in.Text = s.Name
	}
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

// chunkPerShard is how many schedules of one shard one sim.Explore call
// runs. sim.Explore holds a slot per schedule of its range, so a long run
// (--schedules 1e9 --time 1h) goes in chunks: chunk c covers positions
// [c·B, (c+1)·B) of the seed range with B a multiple of the shard count, so
// that each chunk's own positions shard exactly as the whole range's do.
const chunkPerShard = 8192

func explore(ctx context.Context, ep exploreParams) exploreOutcome {
	if ep.spec.Name == "dfs" {
		return exploreDFS(ctx, ep)
	}
	start := time.Now()
	shards := max(ep.shards, 1)
	// PCT's k comes from one calibration run of the first seed, for every
	// chunk (sim.ExploreOptions.CalibrateK measures it the same way).
	spec := ep.spec
	if spec.needsK() {
		spec.K = calibrate(ep.prog, ep.firstSeed)
	}
	out := exploreOutcome{K: spec.K}
	chunk := chunkPerShard * shards
	for off := 0; off < ep.schedules; off += chunk {
		if ctx.Err() != nil {
			out.Stopped = true
			break
		}
		base := out
		var progress func(sim.Progress)
		if ep.progress != nil {
			progress = func(p sim.Progress) {
				ep.progress(sim.Progress{Done: base.Schedules + p.Done, Total: (ep.schedules - ep.shard + shards - 1) / shards,
					Failures: len(base.Failures) + p.Failures, Elapsed: time.Since(start)})
			}
		}
		res := sim.Explore(ctx, ep.prog.Setup, sim.ExploreOptions{
			Config: ep.prog.Config, Strategy: spec.factory(), FirstSeed: ep.firstSeed + uint64(off),
			Schedules: min(chunk, ep.schedules-off), Shard: ep.shard, Shards: shards, Workers: ep.workers,
			KeepGoing: ep.keepGoing, Progress: progress, ProgressEvery: 8, OnFailure: ep.onFailure,
		})
		out.Schedules += res.Schedules
		out.Failures = append(out.Failures, res.Failures...)
		out.Steps += res.Steps
		if res.Stopped {
			out.Stopped = true
			break
		}
		if len(out.Failures) > 0 && !ep.keepGoing {
			break
		}
	}
	out.Elapsed = time.Since(start)
	return out
}

// exploreDFS is sim.ExhaustiveSearch (iterative context bounding: every
// schedule with at most Bound preemptions, fewest first) with what the
// command line needs on top: a context to stop it, failures reported as
// they are found, and progress. A test checks that it finds what
// sim.ExhaustiveSearch finds. It runs on one goroutine; the seed is the
// world's (model randomness), the schedule comes from the search.
func exploreDFS(ctx context.Context, ep exploreParams) (out exploreOutcome) {
	start := time.Now()
	var mu sync.Mutex // callbacks are serialised, as sim.Explore does
	report := func() {
		if ep.progress != nil {
			ep.progress(sim.Progress{Done: out.Schedules, Total: ep.schedules, Failures: len(out.Failures), Elapsed: time.Since(start)})
		}
	}
	exhausted := false
	defer func() {
		out.Elapsed = time.Since(start)
		out.Exhausted = &exhausted
		mu.Lock()
		report()
		mu.Unlock()
	}()
	for bound := 0; bound <= ep.spec.Bound; bound++ {
		var prefix []int
		for {
			if ctx.Err() != nil {
				out.Stopped = true
				return out
			}
			cfg := ep.prog.Config
			cfg.Seed = ep.firstSeed
			cfg.Strategy = &sim.Fixed{Prefix: prefix}
			w := sim.New(cfg)
			ep.prog.Setup(w)
			r := w.Run()
			out.Steps += r.Steps
			if r.Log.Preemptions() == bound {
				out.Schedules++
				mu.Lock()
				if r.Failure != nil {
					out.Failures = append(out.Failures, r)
					if ep.onFailure != nil {
						ep.onFailure(r)
					}
				}
				if out.Schedules%8 == 0 {
					report()
				}
				mu.Unlock()
				if r.Failure != nil && !ep.keepGoing {
					return out
				}
				if ep.schedules > 0 && out.Schedules >= ep.schedules {
					return out
				}
			}
			var ok bool
			prefix, ok = nextPrefix(r.Log.Choices, bound)
			if !ok {
				break
			}
		}
	}
	exhausted = true
	return out
}

// nextPrefix backtracks over the choices of the last run: the deepest
// decision that can take its next alternative within the bound, with all
// decisions before it kept. (sim's own is unexported.)
func nextPrefix(choices []sim.Choice, bound int) ([]int, bool) {
	used := make([]int, len(choices)+1)
	for i, c := range choices {
		used[i+1] = used[i]
		if c.C != 0 && c.Preemptible {
			used[i+1]++
		}
	}
	for i := len(choices) - 1; i >= 0; i-- {
		c := choices[i]
		next := int(c.C) + 1
		if next >= int(c.N) {
			continue
		}
		cost := used[i]
		if c.Preemptible {
			cost++
		}
		if cost > bound {
			continue
		}
		prefix := make([]int, i+1)
		for j := range i {
			prefix[j] = int(choices[j].C)
		}
		prefix[i] = next
		return prefix, true
	}
	return nil, false
}
