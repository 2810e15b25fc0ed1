package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/sim"
)

// maxReplayFile bounds what simrun reads as a replay file.
const maxReplayFile = 64 << 20

// loadReplay reads and parses a replay file and finds its program.
func loadReplay(path string) (*reports.ReplayFile, *program, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read replay file: %v", unwrapPathErr(err))
	}
	if fi.IsDir() {
		return nil, nil, fmt.Errorf("%s is a directory, not a replay file", path)
	}
	if fi.Size() > maxReplayFile {
		return nil, nil, fmt.Errorf("%s: %d bytes is too large for a replay file", path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read replay file: %v", unwrapPathErr(err))
	}
	f, err := reports.ParseReplay(string(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s:%v", path, err)
	}
	p, err := lookupVariant(f.Program, f.Variant)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return f, p, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// withBudgets is the program's config with the replay file's budgets.
func withBudgets(p *program, f *reports.ReplayFile) sim.Config {
	cfg := p.Config
	if f.MaxSteps != 0 {
		cfg.MaxSteps = f.MaxSteps
	}
	if f.MaxTime != 0 {
		cfg.MaxTime = f.MaxTime
	}
	if f.StepCost != 0 {
		cfg.StepCost = f.StepCost
	}
	return cfg
}

// replayRun replays f's log with the whole trace kept.
func replayRun(p *program, f *reports.ReplayFile, title string) *reports.Run {
	cfg := withBudgets(p, f)
	cfg.Seed = f.Log.Seed
	cfg.Strategy = sim.NewReplay(f.Log)
	run := capture(p, cfg)
	run.Program, run.Title, run.Strategy = p.Name, title, "replay"
	if f.Strategy != "" {
		run.Strategy = "replay of " + f.Strategy
	}
	return run
}

// verdict says whether a replay was exact, and where it diverged if not.
func verdict(f *reports.ReplayFile, res *sim.Result) (exact bool, msg string) {
	if d := res.Divergence; d != nil {
		return false, fmt.Sprintf("DIVERGED at decision %d (step %d): %s: the log recorded %d candidates, the run offered %d; "+
			"the program or the model changed since the file was written", d.Decision, d.Step, d.Reason, d.Want, d.Got)
	}
	if res.Hash != f.Log.Hash {
		return false, fmt.Sprintf("DIVERGED: every decision fit, but the trace hash is %016x where the file recorded %016x; "+
			"the program or the model changed since the file was written", res.Hash, f.Log.Hash)
	}
	return true, fmt.Sprintf("exact (trace hash %016x matches)", res.Hash)
}

func cmdReplay(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", "FILE [flags]",
		"Replays the schedule in a replay file and says whether it reproduced exactly\n"+
			"(the trace hash matches) or where it diverged, and whether it fails the same\n"+
			"way (the failure signature matches).\n\n"+
			"Exit status: 0 the replayed run passed, 1 it failed (a reproduced failure),\n"+
			"2 usage or input error.")
	trace := fs.Bool("trace", false, "print the narrated trace")
	out := fs.String("out", "", "write a report to this directory (default: none)")
	pos, code, ok := parseArgs(fs, args, 1, 1, stdout, stderr)
	if !ok {
		return code
	}
	f, prog, err := loadReplay(pos[0])
	if err != nil {
		return fail(stderr, "replay", err)
	}
	start := time.Now()
	run := replayRun(prog, f, "replay of "+filepath.Base(pos[0]))
	elapsed := time.Since(start)
	res := run.Result
	if *trace {
		if err := reports.Narrate(stdout, run, reports.NarrateOptions{}); err != nil {
			return fail(stderr, "replay", err)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "replaying %s: program %s, seed %d, %d decisions, %d preemptions\n",
		pos[0], prog.title(), f.Log.Seed, len(f.Log.Choices), f.Log.Preemptions())
	_, msg := verdict(f, res)
	fmt.Fprintf(stdout, "replay: %s\n", msg)
	switch {
	case res.Failure == nil && f.Signature != "":
		fmt.Fprintf(stdout, "result: passed; the file recorded a failure (%s)\n", f.Signature)
	case res.Failure == nil:
		fmt.Fprintln(stdout, "result: passed")
	case f.Signature == "" || res.Failure.Signature() == f.Signature:
		fmt.Fprintf(stdout, "result: FAILED the same way\n  %s\n", res.Failure.Error())
	default:
		fmt.Fprintf(stdout, "result: FAILED differently (the file recorded %s)\n  %s\n", f.Signature, res.Failure.Error())
	}
	if *out != "" {
		if err := mkOut(*out); err != nil {
			return fail(stderr, "replay", err)
		}
		pr := newProgramResult(prog, "", reports.StrategyInfo{Name: "replay", Text: "replay"}, f.Log.Seed, 1, 0, 1, false, reports.ExpectPass)
		pr.Budget = reports.BudgetOf(withBudgets(prog, f))
		pr.Schedules = 1
		if res.Failure != nil {
			pr.Failures = append(pr.Failures, reports.NewFailureInfo(res))
			pr.FailuresFound = 1
		}
		pr.Judge()
		pr.Elapsed = elapsed
		result := reports.NewResult("replay")
		result.Programs = append(result.Programs, pr)
		index, err := writeReport(*out, &reports.Report{Title: "simrun replay " + filepath.Base(pos[0]), Result: result, Runs: []*reports.Run{run}})
		if err != nil {
			return fail(stderr, "replay", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", index)
	}
	if res.Failure != nil {
		return exitFailures
	}
	return exitOK
}

func cmdShrink(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("shrink", "FILE [-o OUT] [flags]",
		"Shrinks the failing schedule in a replay file to the fewest preemptions that\n"+
			"still fail the same way (delta debugging over the preemptions), and writes it\n"+
			"as a new replay file (default: FILE with .min before .replay).\n\n"+
			"Exit status: 0 a shrunk failing schedule was written, 1 the schedule in FILE\n"+
			"does not fail (nothing to shrink), 2 usage or input error.")
	o := fs.String("o", "", "the output replay file (default: FILE.min.replay)")
	runs := fs.Int("runs", 2000, "runs the shrinker may use")
	pos, code, ok := parseArgs(fs, args, 1, 1, stdout, stderr)
	if !ok {
		return code
	}
	if *runs < 1 {
		return fail(stderr, "shrink", usagef("--runs must be at least 1"))
	}
	f, prog, err := loadReplay(pos[0])
	if err != nil {
		return fail(stderr, "shrink", err)
	}
	cfg := withBudgets(prog, f)
	// Shrink re-runs the log as it stands; check it fails first.
	before := replayRun(prog, f, "")
	if before.Result.Failure == nil {
		fmt.Fprintf(stdout, "%s does not fail (program %s, seed %d): nothing to shrink\n", pos[0], prog.Name, f.Log.Seed)
		return exitFailures
	}
	if _, msg := verdict(f, before.Result); !isExact(f, before.Result) {
		fmt.Fprintf(stderr, "simrun shrink: warning: the file does not replay exactly (%s); shrinking the failure it gives now\n", msg)
	}
	small, sr := sim.Shrink(prog.Setup, cfg, before.Result.Log, *runs)
	if sr == nil || sr.Failure == nil {
		return fail(stderr, "shrink", fmt.Errorf("%s: the schedule stopped failing when re-run: the program is not deterministic", pos[0]))
	}
	dst := *o
	if dst == "" {
		dst = minName(pos[0])
	}
	nf := &reports.ReplayFile{Program: f.Program, Strategy: f.Strategy, Variant: f.Variant, MaxSteps: f.MaxSteps, MaxTime: f.MaxTime,
		StepCost: f.StepCost, Failure: sr.Failure.Error(), Signature: sr.Failure.Signature(), Log: small}
	if nf.Strategy != "" {
		nf.Strategy += ", shrunk"
	}
	orig := f.Log.Preemptions()
	if f.ShrunkFrom != nil {
		orig = *f.ShrunkFrom
	}
	nf.ShrunkFrom = &orig
	if err := reports.WriteReplayFile(dst, nf); err != nil {
		return fail(stderr, "shrink", fmt.Errorf("cannot write %s: %v", dst, unwrapPathErr(err)))
	}
	fmt.Fprintf(stdout, "preemptions: %d -> %d (decisions: %d -> %d)\n", f.Log.Preemptions(), small.Preemptions(),
		len(f.Log.Choices), len(small.Choices))
	fmt.Fprintf(stdout, "still fails: %s\n", sr.Failure.Error())
	fmt.Fprintf(stdout, "schedule: %s\n", small)
	fmt.Fprintf(stdout, "wrote %s\n", dst)
	return exitOK
}

func isExact(f *reports.ReplayFile, res *sim.Result) bool {
	ok, _ := verdict(f, res)
	return ok
}

// minName is FILE with ".min" before ".replay" (or appended).
func minName(path string) string {
	const ext = ".replay"
	if len(path) > len(ext) && path[len(path)-len(ext):] == ext {
		return path[:len(path)-len(ext)] + ".min" + ext
	}
	return path + ".min.replay"
}
