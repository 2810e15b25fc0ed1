// Package run wires scenarios to the model and the checks: it builds, for
// a parsed scenario, the world setup (kernel, file system, device or file
// server, fault plan, flusher, one sim task per scenario task, the
// oracle), explores it with the scenario's strategy and budget, and turns
// what it finds into a verdict against the scenario's expectation.
//
// Build gives a setup and a Config for sim.Explore (or World.Run); Check
// runs a scenario's explore block and returns its Verdict; CheckBug runs a
// bug seed both ways.
package run

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// Options adjust a run.
type Options struct {
	// Fixes are switches turned on in addition to the scenario's.
	Fixes []string
	// Off are baseline fixes (scenarios.BaselineFixes) to leave off; a
	// switch in both Fixes and Off is on.
	Off []string
	// Schedules, if > 0, replaces the scenario's budget.
	Schedules int
	// Workers for sim.Explore (0: GOMAXPROCS).
	Workers int
	// Context stops the exploration early.
	Context context.Context
	// Stats, if set, is filled by the world built last (diff-versions).
	Stats *Stats
}

// Build returns a world setup for s and the per-world budgets of its
// explore block. The setup panics if the scenario cannot be built (an
// error Build would have returned: Build builds one world to find out).
func Build(s *scenarios.Scenario) (setup func(*sim.World), cfg sim.Config, err error) {
	return BuildWith(s, Options{})
}

// BuildWith is Build with options.
func BuildWith(s *scenarios.Scenario, o Options) (setup func(*sim.World), cfg sim.Config, err error) {
	if err := s.Validate(); err != nil {
		return nil, cfg, err
	}
	s = s.WithDefaults()
	// One trial world finds the errors (bad fixes, a bad plan) up front.
	if _, err := build(s, o.Fixes, o.Off, sim.New(sim.Config{}), nil); err != nil {
		return nil, cfg, err
	}
	cfg = sim.Config{MaxSteps: s.Explore.Steps, MaxTime: s.Explore.Time, TraceKeep: 64}
	setup = func(w *sim.World) {
		if _, err := build(s, o.Fixes, o.Off, w, o.Stats); err != nil {
			panic(err)
		}
	}
	return setup, cfg, nil
}

// Verdict is the outcome of running a scenario against its expectation.
type Verdict struct {
	Scenario string
	// Expected is "ok", "failure ID", or "" (nothing expected).
	Expected string
	// Pass says the expectation held (always true when nothing is expected).
	Pass bool
	// Failure is the first counted failure found (nil if none), and Result
	// its run (seed, decision log).
	Failure *sim.Failure
	Result  *sim.Result
	// Found is the failure id of Failure: its invariant, or its kind.
	Found string
	// Schedules is how many schedules ran; SchedulesToFind the position
	// (1-based) of the schedule that found the expected failure, 0 if none.
	Schedules       int
	SchedulesToFind int
	// Ignored counts schedules that failed on an invariant the scenario
	// does not check (they count as passing).
	Ignored int
	// K is PCT's steps estimate, measured from the first seed (0 for the
	// other strategies).
	K       int64
	Elapsed time.Duration
	// Msg says why the verdict is what it is.
	Msg string
}

// FailureID is the id a failure is expected by: the kind for deadlock,
// livelock and time-budget, else the invariant, else the kind.
func FailureID(f *sim.Failure) string {
	switch f.Kind {
	case sim.FailDeadlock, sim.FailLivelock, sim.FailTimeBudget:
		return string(f.Kind)
	}
	if f.Invariant != "" {
		return f.Invariant
	}
	return string(f.Kind)
}

// Matches says whether failure f is what a scenario's "expect failure id"
// asks for (simrun judges its runs by it).
func Matches(f *sim.Failure, id string) bool { return matches(f, id) }

// matches says whether failure f is what "expect failure id" asks for.
func matches(f *sim.Failure, id string) bool {
	if FailureID(f) == id || f.Invariant == id {
		return true
	}
	return id == "progress" && (f.Kind == sim.FailDeadlock || f.Kind == sim.FailLivelock || f.Kind == sim.FailTimeBudget)
}

// counted says whether a failure counts against s: the ones under an
// invariant s does not check are ignored (panics, BUGs without an
// invariant and failed op expectations always count).
func counted(s *scenarios.Scenario, f *sim.Failure) bool {
	inv := f.Invariant
	switch f.Kind {
	case sim.FailDeadlock, sim.FailLivelock, sim.FailTimeBudget:
		inv = "progress"
	}
	if inv == "" || inv == InvExpect {
		return true
	}
	if !scenarios.Invariant(inv).Known() {
		return true // a model check without a scenario id (cyclic-complete, ...)
	}
	return slices.Contains(s.Invariants(), scenarios.Invariant(inv))
}

// Check runs s's explore block and judges its expectation.
func Check(s *scenarios.Scenario) Verdict { return CheckWith(s, Options{}) }

// CheckWith is Check with options.
func CheckWith(s *scenarios.Scenario, o Options) Verdict {
	start := time.Now()
	v := Verdict{Scenario: s.Name}
	switch s.Expect.Outcome {
	case scenarios.OutcomeOK:
		v.Expected = "ok"
	case scenarios.OutcomeFailure:
		v.Expected = "failure " + s.Expect.Failure
	}
	setup, cfg, err := BuildWith(s, o)
	if err != nil {
		v.Msg = err.Error()
		return v
	}
	d := s.WithDefaults()
	want := ""
	if s.Expect.Outcome == scenarios.OutcomeFailure {
		want = s.Expect.Failure
	}
	n := d.Explore.Schedules
	if o.Schedules > 0 {
		n = o.Schedules
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// onFailure keeps the first counted failure (the expected one if
	// there is one) and stops the search once it is known.
	var firstPos int
	onFailure := func(r *sim.Result, pos int) {
		if !counted(s, r.Failure) {
			v.Ignored++
			return
		}
		if want != "" {
			if matches(r.Failure, want) && (v.SchedulesToFind == 0 || pos < v.SchedulesToFind) {
				v.SchedulesToFind, v.Failure, v.Result = pos, r.Failure, r
				cancel()
			} else if v.Failure == nil && (firstPos == 0 || pos < firstPos) {
				firstPos = pos
				v.Result = r
			}
			return
		}
		if v.Failure == nil || pos < firstPos {
			firstPos, v.Failure, v.Result = pos, r.Failure, r
			cancel()
		}
	}
	strat := d.Explore.Strategy
	switch strat.Kind {
	case scenarios.StrategyDFS:
		res := sim.ExhaustiveSearch(setup, sim.DFSOptions{Config: cfgSeed(cfg, d.Explore.Seed), Bound: strat.Bound,
			MaxSchedules: n, KeepGoing: true, Context: ctx,
			OnFailure: func(r *sim.Result) { onFailure(r, 0) }})
		v.Schedules = res.Schedules
		if v.Failure != nil && v.SchedulesToFind == 0 && want != "" {
			v.SchedulesToFind = max(1, res.Schedules)
		}
	default:
		if strat.Kind == scenarios.StrategyRR {
			n = 1 // deterministic: one schedule is all there is
		}
		workers := o.Workers
		if workers == 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		first := d.Explore.Seed
		opts := sim.ExploreOptions{Config: cfg, FirstSeed: first, Schedules: n, Workers: workers, KeepGoing: true,
			Strategy: factory(strat)}
		opts.CalibrateK = strat.Kind == scenarios.StrategyPCT
		opts.OnFailure = func(r *sim.Result) { onFailure(r, int(r.Seed-first)+1) }
		res := sim.Explore(ctx, setup, opts)
		v.Schedules, v.K = res.Schedules, res.K
	}
	if v.Failure == nil && v.Result != nil {
		v.Failure = v.Result.Failure
	}
	if v.Failure != nil {
		v.Found = FailureID(v.Failure)
	}
	v.Elapsed = time.Since(start)
	switch {
	case s.Expect.Outcome == scenarios.OutcomeOK:
		v.Pass = v.Failure == nil
		if !v.Pass {
			v.Msg = "expected every schedule to pass; " + describe(v.Failure)
		}
	case want != "":
		v.Pass = v.SchedulesToFind > 0
		switch {
		case v.Pass:
			v.Msg = fmt.Sprintf("found %s at schedule %d", want, v.SchedulesToFind)
		case v.Failure != nil:
			v.Msg = fmt.Sprintf("expected failure %s, found only %s", want, describe(v.Failure))
		default:
			v.Msg = fmt.Sprintf("expected failure %s, none in %d schedules", want, v.Schedules)
		}
	default:
		v.Pass = true
		if v.Failure != nil {
			v.Msg = describe(v.Failure)
		}
	}
	return v
}

func describe(f *sim.Failure) string {
	return fmt.Sprintf("%s (seed %d): %s", FailureID(f), f.Seed, f.Msg)
}

func cfgSeed(c sim.Config, seed uint64) sim.Config { c.Seed = seed; return c }

// factory turns a scenario strategy into sim's.
func factory(st scenarios.Strategy) sim.StrategyFactory {
	switch st.Kind {
	case scenarios.StrategyPCT:
		d := max(st.Depth, 1)
		return func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, d, k) }
	case scenarios.StrategyRR:
		q := st.Quantum
		return func(uint64, int64) sim.Strategy { return &sim.RoundRobin{Quantum: q} }
	}
	return func(seed uint64, _ int64) sim.Strategy { return sim.NewRandom(seed) }
}
