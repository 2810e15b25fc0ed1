package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

func cmdTour(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("tour", "[flags]",
		"Runs every built-in planted race under random walk, PCT (d=1, 2) and bounded\n"+
			"exhaustive search, shrinks the first failure found, replays it and checks the\n"+
			"replay's trace hash; then runs the bug-seed catalogue with each fix off and on\n"+
			"(as \"simrun bugs\") and a short exploration of a handful of built-in scenarios.\n"+
			"Prints a summary table and writes a report (see --out). Exits 1 if a strategy\n"+
			"expected to find a bug does not, a bug seed misbehaves, or a scenario misses\n"+
			"its expectation.")
	schedules := fs.Int("schedules", 2000, "schedules per randomized strategy")
	seed := fs.Uint64("seed", 1, "first seed")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "worker goroutines")
	bound := fs.Int("bound", 2, "preemption bound for exhaustive search")
	verbose := fs.Bool("v", false, "print each shrunk failure's full report")
	out := fs.String("out", defaultOut("tour"), "report directory")
	if _, code, ok := parseArgs(fs, args, 0, 0, stdout, stderr); !ok {
		return code
	}
	if *schedules < 1 || *workers < 1 {
		return fail(stderr, "tour", usagef("--schedules and --workers must be at least 1"))
	}
	if *bound < 0 || *bound > scenarios.MaxBound {
		return fail(stderr, "tour", &usageError{rangeErr("--bound", int64(*bound), 0, scenarios.MaxBound).Error()})
	}
	if err := checkSeeds(*seed, *schedules); err != nil {
		return fail(stderr, "tour", &usageError{err.Error()})
	}
	if err := mkOut(*out); err != nil {
		return fail(stderr, "tour", err)
	}
	start := time.Now()

	type strat struct {
		label  string
		spec   strategySpec
		expect func(p *program) bool
	}
	strats := []strat{
		{"random", strategySpec{Name: "random"}, func(p *program) bool { return !p.Planted.RandomWalkHard }},
		{"pct-d1", strategySpec{Name: "pct", Depth: 1}, func(p *program) bool { return p.Planted.Depth <= 1 }},
		{"pct-d2", strategySpec{Name: "pct", Depth: 2}, func(p *program) bool { return p.Planted.Depth <= 2 }},
	}
	fmt.Fprintf(stdout, "wbsim tour\n\n1. Planted races, %d schedules per randomized strategy, seeds from %d\n\n", *schedules, *seed)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROGRAM\tSTRATEGY\tEXPECTED\tFOUND\tSCHEDULES\tFAILURE\tPREEMPTIONS (shrunk)")
	missed := 0
	result := reports.NewResult("tour")
	type first struct {
		prog *program
		res  *sim.Result
		min  *reports.Minimal
		run  *reports.Run
	}
	var firsts []first
	for _, p := range programs() {
		if p.Planted == nil {
			continue
		}
		var fst *first
		row := func(label string, info reports.StrategyInfo, expect bool, oc exploreOutcome, firstSeed uint64, count int) error {
			pr := newProgramResult(p, label, info, firstSeed, count, 0, 1, false, reports.ExpectAny)
			if expect {
				pr.Expect = reports.ExpectFind
			}
			pr.Schedules, pr.Exhausted, pr.Elapsed = oc.Schedules, oc.Exhausted, oc.Elapsed
			r := firstOf(oc.Failures)
			if expect && r == nil {
				missed++
			}
			if r == nil {
				fmt.Fprintf(tw, "%s\t%s\t%s\tno\t%d\t-\t-\n", p.Name, label, yesNo(expect), oc.Schedules)
			} else {
				fi := reports.NewFailureInfo(r)
				fi.Replay = replayRel(p.Name, label, r.Seed, false)
				if err := writeReplay(*out, fi.Replay, replayFor(p, info.Text, r)); err != nil {
					return err
				}
				pr.Failures = append(pr.Failures, fi)
				pr.FailuresFound = 1
				m, run, err := shrinkFailure(p, info.Text, label, r, *out, 0)
				if err != nil {
					return err
				}
				pr.Minimal = m
				fmt.Fprintf(tw, "%s\t%s\t%s\tyes\t%d\t%s\t%d -> %d\n", p.Name, label, yesNo(expect), oc.Schedules,
					r.Failure.Kind, m.PreemptionsBefore, m.PreemptionsAfter)
				if fst == nil {
					fst = &first{prog: p, res: r, min: m, run: run}
				}
			}
			pr.Judge()
			result.Programs = append(result.Programs, pr)
			return nil
		}
		for _, s := range strats {
			oc := explore(ctx, exploreParams{prog: p, spec: s.spec, firstSeed: *seed, schedules: *schedules, shards: 1,
				workers: *workers})
			if oc.Stopped {
				fmt.Fprintln(stderr, "simrun tour: interrupted: incomplete")
				return exitIncomplete
			}
			if err := row(s.label, s.spec.info(oc.K), s.expect(p), oc, *seed, *schedules); err != nil {
				return fail(stderr, "tour", err)
			}
		}
		dfs := strategySpec{Name: "dfs", Bound: *bound}
		oc := explore(ctx, exploreParams{prog: p, spec: dfs, firstSeed: 0, shards: 1, workers: 1})
		if oc.Stopped {
			fmt.Fprintln(stderr, "simrun tour: interrupted: incomplete")
			return exitIncomplete
		}
		if err := row(fmt.Sprintf("dfs-p%d", *bound), dfs.info(0), p.Planted.Preemptions <= *bound, oc, 0, 1); err != nil {
			return fail(stderr, "tour", err)
		}
		if fst != nil {
			firsts = append(firsts, *fst)
		}
	}
	tw.Flush()

	fmt.Fprintln(stdout, "\nEXPECTED says whether theory says the strategy must find the bug: PCT with depth d finds\n"+
		"bugs of depth <= d with probability >= 1/(n*k^(d-1)); random walk almost never meets the\n"+
		"PCT paper's hard case; exhaustive search finds whatever needs at most its bound of preemptions.")
	fmt.Fprintln(stdout, "\nShrunk failures, replayed from their decision logs:")
	var runs []*reports.Run
	for _, f := range firsts {
		small, err := sim.ParseDecisionLog(f.min.Schedule)
		if err != nil {
			return fail(stderr, "tour", err)
		}
		w := sim.New(sim.Config{Seed: small.Seed, Strategy: sim.NewReplay(small)})
		f.prog.Setup(w)
		rr := w.Run()
		verdict := "exact (trace hash matches)"
		if rr.Hash != small.Hash || rr.Divergence != nil {
			verdict = "DIVERGED"
			missed++
		}
		fmt.Fprintf(stdout, "\n%s: %s\n  replay: %s\n  schedule: %s\n", f.prog.Name, f.run.Result.Failure.Error(), verdict, scheduleText(small.String()))
		if *verbose {
			fmt.Fprintf(stdout, "%s", f.run.Result.Failure.Report())
		}
		runs = append(runs, f.run)
	}
	bad, err := tourScenarios(ctx, stdout, result)
	if err != nil {
		return fail(stderr, "tour", err)
	}
	missed += bad
	elapsed := time.Since(start)
	// Every part's schedules, counted as the report counts them.
	totalSchedules := reports.TotalSchedules(result)
	index, err := writeReport(*out, &reports.Report{Title: "simrun tour: planted races, bug seeds and built-in scenarios", Result: result, Runs: runs,
		Timing: &reports.Timing{ElapsedSeconds: elapsed.Seconds(), Schedules: totalSchedules,
			SchedulesPerSecond: float64(totalSchedules) / elapsed.Seconds(), Workers: *workers}})
	if err != nil {
		return fail(stderr, "tour", err)
	}
	fmt.Fprintf(stderr, "tour: %d schedules in %s\n", totalSchedules, elapsed.Round(time.Millisecond))
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "\ninterrupted: incomplete, the report shows what ran\nreport: %s\n", index)
		return exitIncomplete
	}
	if missed > 0 {
		fmt.Fprintf(stdout, "\n%d expected finds were missed\n", missed)
		fmt.Fprintf(stdout, "report: %s\n", index)
		return exitFailures
	}
	fmt.Fprintln(stdout, "\nEvery planted bug and bug seed was found where expected, every fix was clean, and every\n"+
		"built-in scenario met its expectation.")
	fmt.Fprintf(stdout, "report: %s\n", index)
	return exitOK
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func firstOf(rs []*sim.Result) *sim.Result {
	if len(rs) == 0 {
		return nil
	}
	return rs[0]
}
