// Package wbsimtest runs wbsim scenarios as Go tests, for CI that runs
// `go test` rather than simrun.
//
//	func TestScenarios(t *testing.T) { wbsimtest.Run(t, "testdata/*.wbs") }
//
// Run makes each scenario file a subtest, named by its base name without
// .wbs (go test -run 'TestScenarios/first-writeback'), explores it with the
// file's strategy and budget and judges it against its expect line (a file
// without one must pass every schedule, as `expect ok`). Check does the
// same for a scenario built with the scenarios package's builder API.
//
// Flags (go test ... -args, or in the go test command line):
//
//	-wbsim.seed N       the first seed of every exploration (default: each
//	                    scenario's own explore seed)
//	-wbsim.schedules N  schedules per scenario (default: its budget)
//
// -short caps the schedules of a scenario that must pass at
// ShortSchedules; a scenario that expects a failure keeps its budget (the
// search stops as soon as it finds it). -count N explores N disjoint seed
// ranges: the k-th repetition of a subtest starts k budgets further on.
//
// A failure writes a replay file under testdata/wbsim/ (as rapid writes
// its fail files under testdata/rapid/) and prints the one command that
// replays it with simrun. The next run replays the scenario's saved
// failures first: one that still fails fails the test at once; one that no
// longer fails is reported, and may be deleted.
package wbsimtest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
)

var (
	seedFlag      = flag.Uint64("wbsim.seed", 0, "first seed of every wbsim scenario exploration (0: each scenario's own)")
	schedulesFlag = flag.Int("wbsim.schedules", 0, "schedules per wbsim scenario (0: its budget; -short caps a passing scenario's at wbsimtest.ShortSchedules)")
)

// ShortSchedules caps, under -short, the schedules of a scenario that
// expects every schedule to pass.
const ShortSchedules = 20

// FailDir is where failures' replay files (and the scenario files of
// failing built scenarios) are written, relative to the package directory
// go test runs in.
const FailDir = "testdata/wbsim"

// tb is the part of testing.TB the checks use (tests give a recorder).
type tb interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Run runs every scenario file matching pattern (filepath.Glob) as a
// subtest of t, named by the file's base name without .wbs. No match is an
// error: a typo must not pass as an empty suite.
func Run(t *testing.T, pattern string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatalf("wbsimtest: bad pattern %q: %v", pattern, err)
	}
	if len(files) == 0 {
		t.Fatalf("wbsimtest: no scenario file matches %q", pattern)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".wbs"), func(t *testing.T) {
			runFile(t, file)
		})
	}
}

func runFile(t tb, file string) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("wbsimtest: %v", err)
		return
	}
	s, err := scenarios.Parse(file, src)
	if err != nil {
		t.Errorf("%v", err) // file:line:col: problem
		return
	}
	check(t, s, file)
}

// repeats counts the runs so far in this process of each scenario under
// each test name: with -count N the k-th repetition explores the k-th
// seed range.
var (
	repeatsMu sync.Mutex
	repeats   = map[string]int{}
)

func repetition(name string) int {
	repeatsMu.Lock()
	defer repeatsMu.Unlock()
	k := repeats[name]
	repeats[name]++
	return k
}

// forTest is s as a test explores it: with an expectation (none means
// `expect ok`), the -wbsim.seed flag, the repetition's seed range and the
// budget of -wbsim.schedules or -short.
func forTest(s *scenarios.Scenario, k int) (*scenarios.Scenario, srun.Options) {
	s = s.Clone()
	if s.Expect.Outcome == "" {
		s.Expect.Outcome = scenarios.OutcomeOK
	}
	d := s.WithDefaults()
	n := d.Explore.Schedules
	switch {
	case *schedulesFlag > 0:
		n = *schedulesFlag
	case testing.Short() && s.Expect.Outcome == scenarios.OutcomeOK:
		n = min(n, ShortSchedules)
	}
	seed := d.Explore.Seed
	if *seedFlag != 0 {
		seed = *seedFlag
	}
	if d.Explore.Strategy.Kind != scenarios.StrategyDFS && d.Explore.Strategy.Kind != scenarios.StrategyRR {
		seed += uint64(k) * uint64(n)
	}
	s.Explore.Seed = seed
	return s, srun.Options{Schedules: n}
}

// check explores s (from file program, or built in Go if program is "")
// after replaying its saved failures, and reports a failed expectation.
func check(t tb, s *scenarios.Scenario, program string) srun.Verdict {
	t.Helper()
	s, o := forTest(s, repetition(t.Name()+"\x00"+s.Name))
	if failing := replaySaved(t, s, program); failing {
		return srun.Verdict{Scenario: s.Name}
	}
	v := srun.CheckWith(s, o)
	d := s.WithDefaults()
	t.Logf("%s: %s, seeds from %d: %d schedules in %v: %s", s.Name, d.Explore.Strategy, d.Explore.Seed, v.Schedules,
		v.Elapsed.Round(time.Millisecond), passText(v))
	if v.Pass {
		return v
	}
	msg := fmt.Sprintf("%s: %s", s.Name, v.Msg)
	if v.Schedules > 0 {
		msg += "\n" + outcomeDiff(s, v)
	}
	if v.Result != nil && srun.Unexpected(s, v.Result.Failure) {
		if v.Failure != nil {
			msg += "\n" + v.Failure.Report()
		}
		path, err := saveFailure(s, program, v)
		if err != nil {
			msg += fmt.Sprintf("\nwbsimtest: could not save the failing schedule: %v", err)
		} else {
			msg += "\n" + replayHint(path)
		}
	}
	t.Errorf("%s", msg)
	return v
}

func passText(v srun.Verdict) string {
	if v.Msg == "" {
		return "every schedule passed"
	}
	return v.Msg
}
