package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
)

// replayRel is the path, relative to the output directory, of the replay
// file of a failure at seed: replays/PROGRAM[-LABEL]-seedN[.min].replay,
// or replays/PROGRAM-dfs-HASH[.min].replay for exhaustive search, where
// every schedule has the same seed.
func replayRel(prog, label string, seed uint64, minimal bool) string {
	name := reports.FileSafe(prog)
	if label != "" {
		name += "-" + reports.FileSafe(label)
	}
	if !strings.HasPrefix(label, "dfs-") {
		name += fmt.Sprintf("-seed%d", seed)
	}
	if minimal {
		name += ".min"
	}
	return reports.ReplayDir + "/" + name + ".replay"
}

// replayFor makes the replay file of a run's result.
func replayFor(p *program, strategy string, r *sim.Result) *reports.ReplayFile {
	b := reports.BudgetOf(p.Config)
	f := &reports.ReplayFile{Program: p.Name, ProgramSHA256: p.SHA256, Strategy: strategy, Variant: p.Variant, MaxSteps: b.MaxSteps,
		MaxTime: sim.Time(b.MaxTimeNS), StepCost: sim.Time(b.StepCostNS), Log: r.Log}
	if p.Path != "" {
		f.Program = p.Path
	}
	if r.Failure != nil {
		f.Failure = r.Failure.Error()
		f.Signature = r.Failure.Signature()
	}
	return f
}

// writeReplay writes a replay file under out and returns its relative path.
func writeReplay(out, rel string, f *reports.ReplayFile) error {
	return reports.WriteReplayFile(filepath.Join(out, filepath.FromSlash(rel)), f)
}

// newProgramResult starts a program result. expect "" is the program's
// own expectation (program.expectation).
func newProgramResult(p *program, label string, info reports.StrategyInfo, first uint64, count, shard, shards int,
	keepGoing bool, expect string) reports.ProgramResult {
	failure := ""
	if expect == "" {
		expect, failure = p.expectation()
	}
	return reports.ProgramResult{
		Program: p.Name, Path: p.Path, ProgramSHA256: p.SHA256, Description: p.Description, Tags: p.Tags, Label: label, Variant: p.Variant, Strategy: info,
		Seeds:  reports.SeedRange{First: first, Count: count, Shards: max(shards, 1), Done: []int{shard}},
		Budget: reports.BudgetOf(p.Config), KeepGoing: keepGoing, Expect: expect, ExpectFailure: failure,
		Failures: []reports.FailureInfo{}, Invariants: p.invariantInfos(),
	}
}

// expectation is what run and explore judge p against: a scenario's
// "expect failure ID" expects that failure to be found (withVariant drops
// it when --fix or --version removes a bug seed's bug); otherwise (expect
// ok, no expect, a planted race) every schedule must pass.
func (p *program) expectation() (expect, failure string) {
	if s := p.Scenario; s != nil && s.Expect.Outcome == scenarios.OutcomeFailure {
		return reports.ExpectFind, s.Expect.Failure
	}
	return reports.ExpectPass, ""
}

// failureInfo summarises a failing result of p, marked Expected when it
// is the failure p's scenario expects.
func (p *program) failureInfo(r *sim.Result) reports.FailureInfo {
	fi := reports.NewFailureInfo(r)
	if expect, id := p.expectation(); expect == reports.ExpectFind {
		fi.Expected = srun.Matches(r.Failure, id)
	}
	return fi
}

// Exit codes of run, explore, merge and the tour: 1 if any result has an
// unexpected failure (or misses an expected one), else 3 if any run
// stopped before its budget, else 0.
func exitFor(programs []reports.ProgramResult) int {
	code := exitOK
	for i := range programs {
		switch programs[i].Verdict() {
		case reports.VerdictFail:
			return exitFailures
		case reports.VerdictIncomplete:
			code = exitIncomplete
		}
	}
	return code
}

// shrinkFailure shrinks a failing result to its minimal schedule, writes
// its replay file (if out is set) and captures the minimal run's trace.
func shrinkFailure(p *program, strategy, label string, r *sim.Result, out string, maxRuns int) (*reports.Minimal, *reports.Run, error) {
	small, sr := sim.Shrink(p.Setup, p.Config, r.Log, maxRuns)
	if sr == nil || sr.Failure == nil {
		// The original failed; shrinking keeps only failing candidates, so
		// this means the program is not deterministic.
		return nil, nil, fmt.Errorf("%s: seed %d no longer fails when re-run: the program is not deterministic", p.Name, r.Seed)
	}
	m := &reports.Minimal{Seed: small.Seed, PreemptionsBefore: r.Log.Preemptions(), PreemptionsAfter: small.Preemptions(),
		Decisions: small.Len(), Hash: fmt.Sprintf("%016x", small.Hash), Signature: sr.Failure.Signature(),
		Schedule: small.String()}
	if out != "" {
		rel := replayRel(p.Name, label, small.Seed, true)
		f := replayFor(p, strategy+", shrunk", sr)
		before := r.Log.Preemptions()
		f.ShrunkFrom = &before
		if err := writeReplay(out, rel, f); err != nil {
			return nil, nil, err
		}
		m.Replay = rel
	}
	run := captureLog(p, small, "minimal failing schedule", strategy+", shrunk")
	return m, run, nil
}

// captureLog re-runs a decision log with the whole trace kept.
func captureLog(p *program, log *sim.DecisionLog, title, strategy string) *reports.Run {
	cfg := p.Config
	cfg.Seed = log.Seed
	cfg.Strategy = sim.NewReplay(log)
	run := capture(p, cfg)
	run.Program, run.Title, run.Strategy = p.Name, title, strategy
	return run
}

// captureSeed runs one seed of a strategy with the whole trace kept.
func captureSeed(p *program, spec strategySpec, seed uint64, k int64, title string) *reports.Run {
	cfg := p.Config
	cfg.Seed = seed
	if spec.Name == "dfs" {
		cfg.Strategy = &sim.Fixed{}
	} else {
		cfg.Strategy = spec.factory()(seed, k)
	}
	run := capture(p, cfg)
	run.Program, run.Title, run.Strategy = p.Name, title, spec.info(k).Text
	return run
}

// maxScheduleText is how much of a schedule the terminal shows.
const maxScheduleText = 240

// scheduleText is a schedule for the terminal: whole when short, else its
// start and where the whole of it is (a long run's schedule can be
// hundreds of kilobytes).
func scheduleText(s string) string {
	if len(s) <= maxScheduleText {
		return s
	}
	cut := strings.LastIndexByte(s[:maxScheduleText], ' ')
	return s[:cut] + fmt.Sprintf(" ... (%d more characters: the replay file and result.json hold the whole schedule)", len(s)-cut)
}

// writeReport writes the report directory and prints where index.html is.
func writeReport(out string, rep *reports.Report) (string, error) {
	index, err := reports.WriteDir(out, rep)
	if err != nil {
		return "", err
	}
	if abs, err := filepath.Abs(index); err == nil {
		index = abs
	}
	return index, nil
}

// mkOut creates the output directory and its replays/ directory.
func mkOut(out string) error {
	if err := os.MkdirAll(filepath.Join(out, reports.ReplayDir), 0o755); err != nil {
		return fmt.Errorf("cannot create the output directory: %v", err)
	}
	return nil
}
