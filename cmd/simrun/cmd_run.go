package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/wbsim/wbsim/reports"
)

func cmdRun(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "PROGRAM [flags]",
		"Runs PROGRAM once, under one schedule, and says whether it failed. With --trace\n"+
			"it prints the narrated trace; with --out it writes a report and, if the run\n"+
			"failed, its replay file.\n\n"+
			variantHelp+
			"PCT's k is measured from this seed's round-robin run (explore measures it from\n"+
			"its first seed), so to reproduce an explore failure use its replay file.\n\n"+
			"A scenario with \"expect failure ID\" passes when this run fails that way.\n"+
			"A scenario file with \"expect trace FILE\" has this run's narrated trace\n"+
			"compared with FILE (relative to the scenario): a difference fails the run\n"+
			"and is shown; --rewrite writes FILE instead.\n\n"+
			"Exit status: 0 the run passed (or failed as expected), 1 it failed\n"+
			"unexpectedly or not as expected, 2 usage or input error.")
	seed := fs.Uint64("seed", 1, "the seed: the model's random draws and the strategy's")
	strategy := fs.String("strategy", "", "random, pct or rr (default: the program's)")
	depth := fs.Int("depth", 0, "PCT depth (default: the program's)")
	quantum := fs.Int("quantum", 0, "rr: preempt every q scheduling points (0 never preempts)")
	k := fs.Int64("k", 0, "pct: steps per run estimate (0 = measure it)")
	trace := fs.Bool("trace", false, "print the narrated trace")
	out := fs.String("out", "", "write a report to this directory (default: none)")
	rewrite := fs.Bool("rewrite", false, "write the golden trace file of the scenario's \"expect trace FILE\" from this run")
	vf := addVariantFlags(fs)
	budget := memoryBudgetFlag(fs)
	pos, code, ok := parseArgs(fs, args, 1, 1, stdout, stderr)
	if !ok {
		return code
	}
	prog, err := lookupVariant(pos[0], vf.variant())
	if err != nil {
		return fail(stderr, "run", err)
	}
	if err := checkMemory(prog, 1, budget); err != nil {
		return fail(stderr, "run", err)
	}
	spec := prog.Strategy
	if *strategy != "" {
		spec.Name = *strategy
	}
	if *depth != 0 {
		spec.Depth = *depth
	}
	spec.Quantum, spec.K = *quantum, *k
	if err := spec.validate(false); err != nil {
		return fail(stderr, "run", &usageError{err.Error()})
	}
	var k0 int64
	if spec.needsK() {
		k0 = calibrate(prog, *seed)
	}
	info := spec.info(k0)
	start := time.Now()
	recorded := prog
	if *out == "" {
		recorded = prog.unrecorded() // no report, no explorer page
	}
	run := captureSeed(recorded, spec, *seed, k0, "")
	elapsed := time.Since(start)
	res := run.Result
	if *trace {
		if err := reports.Narrate(stdout, run, reports.NarrateOptions{}); err != nil {
			return fail(stderr, "run", err)
		}
		fmt.Fprintln(stdout)
	}
	pr := newProgramResult(prog, "", info, *seed, 1, 0, 1, false, "")
	pr.Schedules = 1
	if res.Failure != nil {
		pr.Failures = append(pr.Failures, prog.failureInfo(res))
		pr.FailuresFound = 1
	}
	if golden := prog.goldenPath(); golden != "" {
		pr.TraceGolden = golden
		if pr.TraceDiff, err = checkGolden(golden, run, *rewrite); err != nil {
			return fail(stderr, "run", err)
		}
		switch {
		case *rewrite:
			fmt.Fprintf(stdout, "wrote the golden trace %s\n", golden)
		case pr.TraceDiff != "":
			fmt.Fprintf(stdout, "the narrated trace differs from the golden trace %s (expect trace; -want +got):\n%s\n"+
				"(if the change is right: simrun run %s --seed %d --rewrite)\n", golden, firstLines(pr.TraceDiff, 60), prog.Path, *seed)
		default:
			fmt.Fprintf(stdout, "the narrated trace matches the golden trace %s\n", golden)
		}
	} else if *rewrite {
		return fail(stderr, "run", usagef("--rewrite: %s has no \"expect trace FILE\" (a scenario file's golden trace)", prog.Name))
	}
	fmt.Fprintf(stdout, "%s, seed %d, %s: ", prog.title(), *seed, info.Text)
	switch {
	case res.Failure != nil && pr.IsExpected(&pr.Failures[0]):
		fmt.Fprintf(stdout, "failed as expected (expect failure %s)\n  %s\n", pr.ExpectFailure, res.Failure.Error())
	case res.Failure != nil:
		fmt.Fprintf(stdout, "FAILED\n  %s\n", res.Failure.Error())
	case pr.Expect == reports.ExpectFind:
		fmt.Fprintf(stdout, "passed, but the scenario expects failure %s (explore searches for it)\n", pr.ExpectFailure)
	default:
		fmt.Fprintln(stdout, "passed")
	}
	fmt.Fprintf(stdout, "  %d steps, t=%s, %d decisions, %d preemptions, trace hash %016x\n  schedule: %s\n",
		res.Steps, res.Time, res.Log.Len(), res.Log.Preemptions(), res.Hash, scheduleText(res.Log.String()))
	if *out != "" {
		if err := mkOut(*out); err != nil {
			return fail(stderr, "run", err)
		}
		if res.Failure != nil {
			fi := &pr.Failures[0]
			fi.Replay = replayRel(prog.Name, "", *seed, false)
			if err := writeReplay(*out, fi.Replay, replayFor(prog, info.Text, res)); err != nil {
				return fail(stderr, "run", err)
			}
			fmt.Fprintf(stdout, "  replay file: %s\n", filepath.Join(*out, filepath.FromSlash(fi.Replay)))
		}
		pr.Judge()
		pr.Elapsed = elapsed
		result := reports.NewResult("run")
		result.Programs = append(result.Programs, pr)
		index, err := writeReport(*out, &reports.Report{Title: "simrun run " + prog.title(), Result: result, Runs: []*reports.Run{run}})
		if err != nil {
			return fail(stderr, "run", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", index)
	}
	return exitFor([]reports.ProgramResult{pr})
}
