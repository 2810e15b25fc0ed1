package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/sim"
)

// maxReplayFile bounds what simrun reads as a replay file.
const maxReplayFile = 64 << 20

// loadReplay reads and parses a replay file and finds its program. warn
// is "" or a warning to print and to put in the report: the scenario file
// the replay file names has changed since it was written.
func loadReplay(path string) (f *reports.ReplayFile, p *program, warn string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot read replay file: %v", unwrapPathErr(err))
	}
	if fi.IsDir() {
		return nil, nil, "", fmt.Errorf("%s is a directory, not a replay file", path)
	}
	if fi.Size() > maxReplayFile {
		return nil, nil, "", fmt.Errorf("%s: %d bytes is too large for a replay file", path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot read replay file: %v", unwrapPathErr(err))
	}
	f, err = reports.ParseReplay(string(data))
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s:%v", path, err)
	}
	if f.ProgramSHA256 == "" {
		// A built-in (or, in a v1 or v2 file, a scenario file's path).
		p, err = lookupVariant(f.Program, f.Variant)
	} else {
		p, warn, err = replayScenario(path, f)
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: %v", path, err)
	}
	return f, p, warn, nil
}

// replayScenario loads the scenario file a v3 replay file names. The path
// is resolved as it was given to simrun, from the current directory; when
// it is not there, the same relative path is tried from the replay file's
// directory and from each directory above it (a report's replays sit in
// OUT/replays, below the directory that ran simrun), but taken only if
// its contents are the recorded ones. A changed file is replayed with a
// warning; a missing one is an error. A built-in of the same name is
// never used.
func replayScenario(replayPath string, f *reports.ReplayFile) (*program, string, error) {
	at := f.Program // where the file was found, from the current directory
	src, err := os.ReadFile(at)
	if errors.Is(err, os.ErrNotExist) && !filepath.IsAbs(f.Program) {
		if b, found, ok := findRecorded(replayPath, f); ok {
			src, err, at = b, nil, found
		}
	}
	if err != nil {
		wd, _ := os.Getwd()
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("the scenario file %s it replays is not found from the current directory (%s), "+
				"nor with its recorded contents from the replay file's directory or any above it; "+
				"a replay file names its scenario by the path given to simrun: run from the directory that ran it", f.Program, wd)
		}
		return nil, "", fmt.Errorf("cannot read the scenario file it replays: %v", unwrapPathErr(err))
	}
	warn := ""
	if sum := reports.ProgramSHA256(src); sum != f.ProgramSHA256 {
		warn = fmt.Sprintf("%s has changed since the replay file was written (sha256 %.12s..., recorded %.12s...): "+
			"the replay runs the file as it is now and may diverge", f.Program, sum, f.ProgramSHA256)
	}
	// Positions keep the recorded name, so that the replay's messages are
	// the recorded ones; Path is where the file is from here, which a
	// replay file written now (shrink) names.
	p, err := scenarioFile(f.Program, src)
	if err != nil {
		return nil, "", err
	}
	p.Path = at
	p, err = p.withVariant(f.Variant)
	return p, warn, err
}

// findRecorded looks for f's scenario, by its relative path, from the
// replay file's directory and each directory above it, and returns the
// first copy whose contents have the recorded hash, with its path from
// the current directory (absolute if it has none).
func findRecorded(replayPath string, f *reports.ReplayFile) ([]byte, string, bool) {
	dir, err := filepath.Abs(filepath.Dir(replayPath))
	if err != nil {
		return nil, "", false
	}
	for {
		path := filepath.Join(dir, f.Program)
		if b, err := os.ReadFile(path); err == nil && reports.ProgramSHA256(b) == f.ProgramSHA256 {
			if wd, err := os.Getwd(); err == nil {
				if rel, err := filepath.Rel(wd, path); err == nil {
					path = rel
				}
			}
			return b, filepath.ToSlash(path), true
		}
		up := filepath.Dir(dir)
		if up == dir {
			return nil, "", false
		}
		dir = up
	}
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

// outcomeText compares a replayed run's outcome with the file's record:
// same says whether it failed the same way (or passed, as recorded).
func outcomeText(f *reports.ReplayFile, res *sim.Result) (same bool, text string) {
	switch {
	case res.Failure == nil && f.Signature != "":
		return false, fmt.Sprintf("passed; the file recorded a failure (%s)", f.Signature)
	case res.Failure == nil:
		return true, "passed, as recorded"
	case f.Signature == "":
		return false, fmt.Sprintf("FAILED; the file recorded a pass\n  %s", res.Failure.Error())
	case res.Failure.Signature() == f.Signature:
		return true, fmt.Sprintf("FAILED the same way, as recorded\n  %s", res.Failure.Error())
	}
	return false, fmt.Sprintf("FAILED differently (the file recorded %s)\n  %s", f.Signature, res.Failure.Error())
}

func cmdReplay(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", "FILE [flags]",
		"Replays the schedule in a replay file and says whether it reproduced exactly\n"+
			"(the trace hash matches) or where it diverged, and whether it fails the same\n"+
			"way (the failure signature matches). A replay file of a scenario file names\n"+
			"it by the path given to simrun, resolved from the current directory (then\n"+
			"from the replay file's directory, if the contents there match), and records\n"+
			"its SHA-256: a changed scenario is replayed with a warning.\n\n"+
			"Exit status: 0 the recorded outcome was reproduced exactly (same trace hash,\n"+
			"same failure or the same pass), 1 it diverged or the outcome differs,\n"+
			"2 usage or input error. So \"simrun replay bug.replay\" in CI asks: does this\n"+
			"bug still reproduce?")
	trace := fs.Bool("trace", false, "print the narrated trace")
	out := fs.String("out", "", "write a report to this directory (default: none)")
	budget := memoryBudgetFlag(fs)
	pos, code, ok := parseArgs(fs, args, 1, 1, stdout, stderr)
	if !ok {
		return code
	}
	f, prog, warn, err := loadReplay(pos[0])
	if err == nil {
		err = checkMemory(prog, 1, budget)
	}
	if err != nil {
		return fail(stderr, "replay", err)
	}
	if warn != "" {
		fmt.Fprintf(stderr, "simrun replay: warning: %s\n", warn)
	}
	start := time.Now()
	recorded := prog
	if *out == "" {
		recorded = prog.unrecorded() // no report, no explorer page
	}
	run := replayRun(recorded, f, "replay of "+filepath.Base(pos[0]))
	elapsed := time.Since(start)
	res := run.Result
	if *trace {
		if err := reports.Narrate(stdout, run, reports.NarrateOptions{}); err != nil {
			return fail(stderr, "replay", err)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "replaying %s: program %s, seed %d, %d decisions, %d preemptions\n",
		pos[0], prog.replayName(), f.Log.Seed, f.Log.Len(), f.Log.Preemptions())
	exact, msg := verdict(f, res)
	fmt.Fprintf(stdout, "replay: %s\n", msg)
	same, text := outcomeText(f, res)
	fmt.Fprintf(stdout, "result: %s\n", text)
	reproduced := exact && same
	if reproduced {
		fmt.Fprintln(stdout, "reproduced: yes")
	} else {
		fmt.Fprintln(stdout, "reproduced: NO")
	}
	if *out != "" {
		if err := mkOut(*out); err != nil {
			return fail(stderr, "replay", err)
		}
		pr := newProgramResult(prog, "", reports.StrategyInfo{Name: "replay", Text: "replay"}, f.Log.Seed, 1, 0, 1, false, reports.ExpectAny)
		pr.Budget = reports.BudgetOf(withBudgets(prog, f))
		pr.Schedules = 1
		if res.Failure != nil {
			pr.Failures = append(pr.Failures, reports.NewFailureInfo(res))
			pr.FailuresFound = 1
		}
		if warn != "" {
			pr.Warnings = append(pr.Warnings, warn)
		}
		// A replay's verdict is whether it reproduced the record.
		pr.Reproduced = &reproduced
		pr.Judge()
		pr.Elapsed = elapsed
		if !reproduced {
			pr.Warnings = append(pr.Warnings, "not reproduced: "+strings.ReplaceAll(msg, "\n", " ")+"; result "+strings.ReplaceAll(text, "\n", " "))
		}
		result := reports.NewResult("replay")
		result.Programs = append(result.Programs, pr)
		index, err := writeReport(*out, &reports.Report{Title: "simrun replay " + filepath.Base(pos[0]), Result: result, Runs: []*reports.Run{run}})
		if err != nil {
			return fail(stderr, "replay", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", index)
	}
	if !reproduced {
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
	budget := memoryBudgetFlag(fs)
	pos, code, ok := parseArgs(fs, args, 1, 1, stdout, stderr)
	if !ok {
		return code
	}
	if *runs < 1 {
		return fail(stderr, "shrink", usagef("--runs must be at least 1"))
	}
	f, prog, warn, err := loadReplay(pos[0])
	if err == nil {
		err = checkMemory(prog, 1, budget)
	}
	if err != nil {
		return fail(stderr, "shrink", err)
	}
	if warn != "" {
		fmt.Fprintf(stderr, "simrun shrink: warning: %s\n", warn)
	}
	cfg := withBudgets(prog, f)
	// Shrink re-runs the log as it stands; check it fails first.
	before := replayRun(prog.unrecorded(), f, "")
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
	// The scenario file's hash is the one shrinking ran on.
	// A scenario file is named as it is found from here, the directory
	// that runs shrink, like every replay file simrun writes.
	program := f.Program
	if prog.Path != "" {
		program = prog.Path
	}
	nf := &reports.ReplayFile{Program: program, ProgramSHA256: prog.SHA256, Strategy: f.Strategy, Variant: f.Variant,
		MaxSteps: f.MaxSteps, MaxTime: f.MaxTime, StepCost: f.StepCost, Failure: sr.Failure.Error(),
		Signature: sr.Failure.Signature(), Log: small}
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
		f.Log.Len(), small.Len())
	fmt.Fprintf(stdout, "still fails: %s\n", sr.Failure.Error())
	fmt.Fprintf(stdout, "schedule: %s\n", scheduleText(small.String()))
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
