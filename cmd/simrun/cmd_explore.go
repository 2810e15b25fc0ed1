package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// exploreJob is an explore command's parsed and checked flags.
type exploreJob struct {
	prog        *program
	spec        strategySpec
	seed        uint64 // the first seed
	n           int    // schedules (dfs: 0 until exhausted, else the cap)
	si, sn      int    // shard i of n
	workers     int
	limit       time.Duration
	keepGoing   bool
	maxFailures int
	shrinkRuns  int
	mode        progressMode
	dir         string
}

func cmdExplore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	job, code, ok := parseExplore(args, stdout, stderr)
	if !ok {
		return code
	}
	runCtx := ctx
	var deadline time.Time
	if job.limit > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, job.limit)
		defer cancel()
		deadline, _ = runCtx.Deadline()
	}
	var k0 int64
	if job.spec.needsK() {
		k0 = calibrate(job.prog, job.seed)
		job.spec.K = k0
	}
	info := job.spec.info(k0)
	label := fmt.Sprintf("%s %s", job.prog.title(), info.Text)
	if job.sn > 1 {
		label += fmt.Sprintf(" shard %d/%d", job.si, job.sn)
	}
	pp := newProgress(stderr, job.mode, label, job.n, deadline)

	rk := &replayKeeper{job: job, strategy: info.Text, pp: pp, written: map[*sim.Result]string{}}
	oc := explore(runCtx, exploreParams{prog: job.prog, spec: job.spec, firstSeed: job.seed, schedules: job.n, shard: job.si, shards: job.sn,
		workers: job.workers, keepGoing: job.keepGoing, onFailure: rk.onFailure, progress: pp.update})
	pp.finish()
	if rk.writeErr != nil {
		return fail(stderr, "explore", fmt.Errorf("writing a replay file: %v", rk.writeErr))
	}
	kept := oc.Failures
	if job.maxFailures > 0 && len(kept) > job.maxFailures {
		kept = kept[:job.maxFailures]
	}
	if err := rk.keepOnly(kept); err != nil {
		return fail(stderr, "explore", err)
	}

	pr := job.programResult(ctx, info, oc, kept, rk.written)
	runs, err := job.reportRuns(info, oc, &pr)
	if err != nil {
		return fail(stderr, "explore", err)
	}
	pr.Judge()
	pr.Elapsed = oc.Elapsed
	res := reports.NewResult("explore")
	res.Programs = append(res.Programs, pr)
	title := "simrun explore " + job.prog.title()
	rate := 0.0
	if oc.Elapsed > 0 {
		rate = float64(oc.Schedules) / oc.Elapsed.Seconds()
	}
	workersUsed := job.workers
	if job.spec.Name == "dfs" {
		workersUsed = 1
	}
	index, err := writeReport(job.dir, &reports.Report{Title: title, Result: res, Runs: runs,
		Timing: &reports.Timing{ElapsedSeconds: oc.Elapsed.Seconds(), Schedules: oc.Schedules, SchedulesPerSecond: rate,
			Steps: oc.Steps, Workers: workersUsed}})
	if err != nil {
		return fail(stderr, "explore", err)
	}

	printSummary(stdout, &pr, job.dir)
	fmt.Fprintf(stderr, "%d schedule%s in %s (%.0f schedules/s, %d worker%s)\n", oc.Schedules, plural(oc.Schedules),
		oc.Elapsed.Round(time.Millisecond), rate, workersUsed, plural(workersUsed))
	if pr.Stopped == reports.StoppedInterrupted {
		fmt.Fprintln(stderr, "interrupted: the results so far are kept")
	}
	fmt.Fprintf(stdout, "report: %s\n", index)
	return exitFor(res.Programs)
}

// parseExplore parses and checks explore's flags, resolves the program and
// its strategy, and makes the output directory. On failure it has printed
// the error and returns the exit code with ok false.
func parseExplore(args []string, stdout, stderr io.Writer) (job *exploreJob, code int, ok bool) {
	fs := newFlagSet("explore", "PROGRAM [flags]",
		"Runs PROGRAM under many schedules, one world per seed, and reports the failures.\n"+
			"Each failure's replay file is written to OUT/replays/ as soon as it is found;\n"+
			"at the end the first failure is shrunk to its fewest preemptions and the report\n"+
			"(result.json, junit.xml, trace.json, trace.txt, index.html) is written to OUT.\n"+
			"Ctrl-C (or SIGTERM) stops cleanly and keeps what was found.\n\n"+
			"Strategies: random (random walk), pct (PCT of depth --depth), rr (round-robin,\n"+
			"preempting every --quantum points; seeds vary only the model's random draws),\n"+
			"dfs (every schedule with at most --bound preemptions, fewest first; one worker,\n"+
			"not shardable; it runs until exhausted, or --schedules caps it).\n\n"+
			variantHelp+
			"A scenario with \"expect failure ID\" passes when that failure is found (the\n"+
			"report says \"expected\"); any other failure, or none, fails it.\n\n"+
			"Exit status: 0 passed (no failure, or the expected one), 1 an unexpected\n"+
			"failure or the expected one not found, 2 usage or input error, 3 incomplete:\n"+
			"stopped by Ctrl-C, SIGTERM or --time (or no schedule ran) with no failure.")
	strategy := fs.String("strategy", "", "random, pct, dfs or rr (default: the program's, see \"simrun list\")")
	depth := fs.Int("depth", 0, "PCT depth d: finds bugs needing d ordering constraints (default: the program's)")
	bound := optIntFlag(fs, "bound", "dfs: the preemption bound `p` (default: the program's)")
	quantum := fs.Int("quantum", 0, "rr: preempt every q scheduling points (0 never preempts)")
	k := fs.Int64("k", 0, "pct: steps per run estimate (0 = measure it with one round-robin run of the first seed)")
	schedules := optIntFlag(fs, "schedules", "`N` schedules (seeds) to run (default: the program's; dfs: until exhausted, or at most N)")
	limit := fs.Duration("time", 0, "stop after this wall-clock time, keeping results (0 = no limit)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "worker goroutines (results do not depend on it)")
	seed := fs.Uint64("seed", 1, "first seed (default: the scenario's explore seed if it sets one, else 1)")
	shard := fs.String("shard", "", "run shard i of n of the seed range, i/n with 0 <= i < n (see docs/sharding.md)")
	out := fs.String("out", "", "output directory (default ./out/explore-PROGRAM[-shard-i-of-n])")
	keepGoing := fs.Bool("keep-going", false, "run every schedule and collect every failure (default: stop at the first)")
	maxFailures := fs.Int("max-failures", 1000, "with --keep-going: failures recorded with replay files, the lowest seeds (0 = all); the rest are counted")
	shrinkRuns := fs.Int("shrink-runs", 2000, "runs the shrinker may use on the first failure (0 = do not shrink)")
	progress := fs.String("progress", "auto", "progress on stderr: auto, live, lines or off (auto: live on a terminal, a line every 10s otherwise, none when CI is set)")
	vf := addVariantFlags(fs)
	budget := memoryBudgetFlag(fs)
	pos, code, ok := parseArgs(fs, args, 1, 1, stdout, stderr)
	if !ok {
		return nil, code, false
	}
	prog, err := lookupVariant(pos[0], vf.variant())
	if err != nil {
		return nil, fail(stderr, "explore", err), false
	}
	if s := prog.Scenario; s != nil && s.Explore.Seed != 0 && !flagSet(fs, "seed") {
		*seed = s.Explore.Seed
	}
	spec := prog.Strategy
	if *strategy != "" {
		spec.Name = *strategy
	}
	if *depth != 0 {
		spec.Depth = *depth
	}
	if bound.set {
		spec.Bound = bound.v
	}
	spec.Quantum, spec.K = *quantum, *k
	job = &exploreJob{prog: prog, spec: spec, seed: *seed, workers: *workers, limit: *limit, keepGoing: *keepGoing,
		maxFailures: *maxFailures, shrinkRuns: *shrinkRuns}
	if err := job.check(schedules, *shard, budget, *progress, *out, stderr); err != nil {
		return nil, fail(stderr, "explore", err), false
	}
	return job, 0, true
}

// check checks the flags that depend on each other and on the program,
// in the order users meet them, and makes the output directory.
func (job *exploreJob) check(schedules *optInt, shard string, budget *sizeFlag, progress, out string, stderr io.Writer) error {
	spec := job.spec
	if err := spec.validate(true); err != nil {
		return &usageError{err.Error()}
	}
	n := schedules.v
	switch {
	case !schedules.set && spec.Name == "dfs":
		n = 0 // until exhausted
	case !schedules.set:
		n = job.prog.Schedules
	case n < 1:
		return usagef("--schedules must be at least 1")
	}
	job.n = n
	if spec.Name != "dfs" {
		if err := checkSeeds(job.seed, n); err != nil {
			return &usageError{err.Error()}
		}
	} else if n > scenarios.MaxSchedules {
		return &usageError{rangeErr("--schedules", int64(n), 1, scenarios.MaxSchedules).Error()}
	}
	if job.workers < 1 {
		return usagef("--workers must be at least 1")
	}
	if job.limit < 0 {
		return usagef("--time must not be negative")
	}
	if job.maxFailures < 0 {
		return usagef("--max-failures must not be negative")
	}
	if job.shrinkRuns < 0 {
		return usagef("--shrink-runs must not be negative")
	}
	si, sn, err := parseShard(shard)
	if err != nil {
		return err
	}
	job.si, job.sn = si, sn
	if sn > 1 && spec.Name == "dfs" {
		return usagef("--shard does not apply to dfs: its search walks one tree of schedules (shard random or pct runs)")
	}
	worlds := job.workers
	if spec.Name == "dfs" {
		worlds = 1
	}
	if err := checkMemory(job.prog, worlds, budget); err != nil {
		return err
	}
	if job.mode, err = progressModeFor(progress, stderr); err != nil {
		return err
	}
	job.dir = out
	if job.dir == "" {
		name := "explore-" + reports.FileSafe(job.prog.Name)
		if sn > 1 {
			name += fmt.Sprintf("-shard-%d-of-%d", si, sn)
		}
		job.dir = defaultOut(name)
	}
	return mkOut(job.dir)
}

// replayKeeper writes replay files as failures are found, so that a crash
// or a Ctrl-C keeps them. At the end only the failures that count keep
// their files: without --keep-going the first; with it, the --max-failures
// lowest seeds. So the output does not depend on the worker count or on
// the order workers found things in.
type replayKeeper struct {
	job      *exploreJob
	strategy string
	pp       *progressPrinter

	mu       sync.Mutex
	written  map[*sim.Result]string
	writeErr error
	capped   bool
}

// rel is the replay file's path in the output directory.
func (rk *replayKeeper) rel(r *sim.Result) string {
	if rk.job.spec.Name == "dfs" {
		// Every dfs schedule has the same seed; the trace hash names it.
		return replayRel(rk.job.prog.Name, fmt.Sprintf("dfs-%016x", r.Hash), r.Seed, false)
	}
	return replayRel(rk.job.prog.Name, "", r.Seed, false)
}

// onFailure writes a failure's replay file as it is found, up to
// --max-failures of them.
func (rk *replayKeeper) onFailure(r *sim.Result) {
	limit := rk.job.maxFailures
	rk.mu.Lock()
	if limit > 0 && len(rk.written) >= limit {
		first := !rk.capped
		rk.capped = true
		rk.mu.Unlock()
		if first {
			rk.pp.println("more failures: only %d get replay files now (--max-failures); the report keeps the lowest seeds", limit)
		}
		return
	}
	rk.mu.Unlock()
	rel := rk.rel(r)
	err := writeReplay(rk.job.dir, rel, replayFor(rk.job.prog, rk.strategy, r))
	rk.mu.Lock()
	if err != nil && rk.writeErr == nil {
		rk.writeErr = err
	}
	rk.written[r] = rel
	rk.mu.Unlock()
	rk.pp.println("failure at seed %d: %s\n  replay file: %s", r.Seed, r.Failure.Error(), filepath.Join(rk.job.dir, filepath.FromSlash(rel)))
}

// keepOnly writes the replay files of the kept failures not yet written,
// and removes those of the others.
func (rk *replayKeeper) keepOnly(kept []*sim.Result) error {
	keep := map[*sim.Result]bool{}
	for _, r := range kept {
		keep[r] = true
		if rk.written[r] == "" {
			rel := rk.rel(r)
			if err := writeReplay(rk.job.dir, rel, replayFor(rk.job.prog, rk.strategy, r)); err != nil {
				return fmt.Errorf("writing a replay file: %v", err)
			}
			rk.written[r] = rel
		}
	}
	for r, rel := range rk.written {
		if !keep[r] {
			os.Remove(filepath.Join(rk.job.dir, filepath.FromSlash(rel)))
		}
	}
	return nil
}

// programResult is the program's result of the exploration: counts, why
// it stopped, and the kept failures with their replay files.
func (job *exploreJob) programResult(ctx context.Context, info reports.StrategyInfo, oc exploreOutcome,
	kept []*sim.Result, written map[*sim.Result]string) reports.ProgramResult {
	count := job.n
	if job.spec.Name == "dfs" {
		count = 1 // dfs runs one seed; n only caps its schedules
	}
	pr := newProgramResult(job.prog, "", info, job.seed, count, job.si, job.sn, job.keepGoing, "")
	pr.Schedules, pr.Exhausted = oc.Schedules, oc.Exhausted
	pr.FailuresFound = len(oc.Failures)
	if job.keepGoing {
		pr.MaxFailures = job.maxFailures
	}
	switch {
	case oc.Stopped && ctx.Err() != nil:
		pr.Stopped = reports.StoppedInterrupted
	case oc.Stopped:
		pr.Stopped = reports.StoppedTimeLimit
	case oc.Schedules == 0:
		pr.Stopped = reports.StoppedNoSchedules
	}
	for _, r := range kept {
		fi := job.prog.failureInfo(r)
		fi.Replay = written[r]
		pr.Failures = append(pr.Failures, fi)
	}
	return pr
}

// reportRuns are the runs the report draws: the first failure, shrunk
// (which sets pr.Minimal) unless --shrink-runs is 0, or else a passing
// schedule.
func (job *exploreJob) reportRuns(info reports.StrategyInfo, oc exploreOutcome, pr *reports.ProgramResult) ([]*reports.Run, error) {
	var runs []*reports.Run
	if len(oc.Failures) > 0 {
		first := oc.Failures[0]
		if job.shrinkRuns > 0 {
			m, run, err := shrinkFailure(job.prog, info.Text, "", first, job.dir, job.shrinkRuns)
			if err != nil {
				return nil, err
			}
			pr.Minimal = m
			runs = append(runs, run)
		} else {
			runs = append(runs, captureLog(job.prog, first.Log, "first failing schedule", info.Text))
		}
	} else if oc.Schedules > 0 {
		seed0 := job.seed + uint64(job.si)
		runs = append(runs, captureSeed(job.prog, job.spec, seed0, oc.K, fmt.Sprintf("a passing schedule (seed %d)", seed0)))
	}
	return runs, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// printSummary prints a program result for people.
func printSummary(w io.Writer, pr *reports.ProgramResult, dir string) {
	at := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	fmt.Fprintf(w, "%s, %s, seeds %d..%d", pr.Name(), pr.Strategy.Text, pr.Seeds.First, pr.Seeds.First+uint64(max(pr.Seeds.Count, 1))-1)
	if pr.Seeds.Shards > 1 {
		fmt.Fprintf(w, " (shard %s)", pr.Seeds.ShardText())
	}
	fmt.Fprintf(w, ": %d schedule%s", pr.Schedules, plural(pr.Schedules))
	if pr.Exhausted != nil && *pr.Exhausted {
		fmt.Fprint(w, " (exhausted)")
	}
	if pr.Stopped != "" {
		fmt.Fprintf(w, " (stopped: %s)", pr.Stopped)
	}
	fmt.Fprintf(w, ", %d failure%s", pr.FailuresFound, plural(pr.FailuresFound))
	if len(pr.Failures) < pr.FailuresFound {
		fmt.Fprintf(w, " (the %d lowest seeds listed)", len(pr.Failures))
	}
	fmt.Fprintln(w)
	for i, f := range pr.Failures {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more (see result.json)\n", len(pr.Failures)-10)
			break
		}
		mark := ""
		if pr.IsExpected(&f) {
			mark = "(expected) "
		}
		fmt.Fprintf(w, "  %s%s\n", mark, f.Summary)
		if f.Replay != "" {
			fmt.Fprintf(w, "    replay: %s\n", at(f.Replay))
		}
	}
	switch v := pr.Verdict(); v {
	case reports.VerdictExpected:
		fmt.Fprintf(w, "verdict: expected (the scenario expects failure %s)\n", pr.ExpectFailure)
	case reports.VerdictIncomplete:
		fmt.Fprintf(w, "verdict: INCOMPLETE: %s; no failure found\n", pr.Incomplete())
	case reports.VerdictFail:
		if len(pr.Failures) == 0 {
			fmt.Fprintf(w, "verdict: FAIL: the scenario expects failure %s; none found\n", pr.ExpectFailure)
		} else {
			fmt.Fprintln(w, "verdict: FAIL")
		}
	default:
		fmt.Fprintf(w, "verdict: %s\n", v)
	}
	for _, warn := range pr.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if m := pr.Minimal; m != nil {
		fmt.Fprintf(w, "minimal schedule (seed %d): %d -> %d preemptions\n  %s\n", m.Seed, m.PreemptionsBefore, m.PreemptionsAfter, scheduleText(m.Schedule))
		if m.Replay != "" {
			fmt.Fprintf(w, "  replay: %s\n", at(m.Replay))
		}
	}
}
