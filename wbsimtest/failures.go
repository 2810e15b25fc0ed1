package wbsimtest

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
)

// SimrunPackage is the command that replays, shrinks and explains replay
// files.
const SimrunPackage = "github.com/wbsim/wbsim/cmd/simrun"

// saveFailure writes the verdict's failing schedule as a replay file in
// FailDir, named SCENARIO-seedN.replay (SCENARIO-dfs-HASH.replay for
// exhaustive search, whose schedules share one seed), and returns its
// path. A scenario built in Go (program "") is written there first as
// SCENARIO.wbs, so that the replay file has a program to name.
func saveFailure(s *scenarios.Scenario, program string, v srun.Verdict) (string, error) {
	if program == "" {
		program = filepath.Join(FailDir, reports.FileSafe(s.Name)+".wbs")
		text, err := scenarios.Format(s)
		if err != nil {
			return "", err
		}
		if err := os.MkdirAll(FailDir, 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(program, text, 0o644); err != nil {
			return "", err
		}
	}
	_, cfg, err := srun.Build(s)
	if err != nil {
		return "", err
	}
	r := v.Result
	b := reports.BudgetOf(cfg)
	f := &reports.ReplayFile{
		Program:  filepath.ToSlash(program),
		Strategy: replayStrategy(s.WithDefaults().Explore.Strategy),
		MaxSteps: b.MaxSteps, MaxTime: sim.Time(b.MaxTimeNS), StepCost: sim.Time(b.StepCostNS),
		Failure: r.Failure.Error(), Signature: r.Failure.Signature(), Log: r.Log,
	}
	// The scenario file's hash, so that simrun replay says when the file
	// changed since.
	src, err := os.ReadFile(program)
	if err != nil {
		return "", err
	}
	f.ProgramSHA256 = reports.ProgramSHA256(src)
	name := reports.FileSafe(s.Name) + fmt.Sprintf("-seed%d", r.Seed)
	if s.WithDefaults().Explore.Strategy.Kind == scenarios.StrategyDFS {
		name = reports.FileSafe(s.Name) + fmt.Sprintf("-dfs-%016x", r.Log.Hash)
	}
	path := filepath.Join(FailDir, name+".replay")
	return path, reports.WriteReplayFile(path, f)
}

// replayHint is the message that says how to replay a saved failure.
func replayHint(path string) string {
	dir, err := os.Getwd()
	if err != nil {
		dir = "."
	}
	return fmt.Sprintf("the failing schedule is saved in %s; replay it with:\n    cd %s && go run %s replay %s",
		path, dir, SimrunPackage, filepath.ToSlash(path))
}

// savedFailures lists the replay files in FailDir of s that name program
// (the scenario file, or the file saveFailure writes for a built
// scenario).
func savedFailures(s *scenarios.Scenario, program string) ([]string, []*reports.ReplayFile, error) {
	if program == "" {
		program = filepath.Join(FailDir, reports.FileSafe(s.Name)+".wbs")
	}
	paths, err := filepath.Glob(filepath.Join(FailDir, reports.FileSafe(s.Name)+"-*.replay"))
	if err != nil {
		return nil, nil, err
	}
	var outPaths []string
	var files []*reports.ReplayFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		f, err := reports.ParseReplay(string(data))
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%v", p, err)
		}
		if f.Program != filepath.ToSlash(program) {
			continue
		}
		outPaths = append(outPaths, p)
		files = append(files, f)
	}
	return outPaths, files, nil
}

// replaySaved replays s's saved failures, before any exploration. It
// reports each that still fails (an error) or no longer does (a log line)
// and returns whether any still fails.
func replaySaved(t tb, s *scenarios.Scenario, program string) bool {
	t.Helper()
	paths, files, err := savedFailures(s, program)
	if err != nil {
		t.Errorf("wbsimtest: saved failures of %s: %v", s.Name, err)
		return true
	}
	failing := false
	for i, f := range files {
		setup, _, err := srun.Build(s)
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			return true
		}
		w := sim.New(f.Config())
		setup(w)
		res := w.Run()
		switch {
		case srun.Unexpected(s, res.Failure):
			failing = true
			t.Errorf("%s: saved failure %s still fails: %s\n%s", s.Name, paths[i], res.Failure.Error(), replayHint(paths[i]))
		case res.Divergence != nil || res.Hash != f.Log.Hash:
			t.Logf("%s: saved failure %s no longer replays (the scenario or the model changed) and passes now; delete it once you are done with it",
				s.Name, paths[i])
		default:
			t.Logf("%s: saved failure %s passes now; delete it once you are done with it", s.Name, paths[i])
		}
	}
	return failing
}

// replayStrategy is st as a replay file's strategy line names it
// ("pct depth=2", not the scenario language's "pct depth 2"), which
// simrun replay checks.
func replayStrategy(st scenarios.Strategy) string {
	return reports.StrategyInfo{Name: string(st.Kind), Depth: st.Depth, Bound: st.Bound, Quantum: st.Quantum}.Line()
}
