package wbsimtest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
)

// TestRun runs this package's own scenario files as subtests: one that
// passes every schedule and one that must find a crash failure.
func TestRun(t *testing.T) { Run(t, "testdata/*.wbs") }

// recorder is a tb that keeps what a check reports.
type recorder struct {
	name         string
	logs, errors []string
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) text() string {
	return "logs:\n" + strings.Join(r.logs, "\n") + "\nerrors:\n" + strings.Join(r.errors, "\n")
}

// wrongRead fails on every schedule: its read expects zeros where it
// wrote A.
const wrongRead = `wbsim-scenario v1
name wrong-read
kernel 3.x
fs blockfs
task t
    open f /a
    write f 0+4KiB as A
    read f 0+4KiB expect %s
explore
    strategy random
    schedules 5
    seed 7
expect ok
`

// TestFailureSavesAReplayFileAndReplaysItFirst: a failing scenario file
// fails its test with the scenario's verdict and a go-cmp diff, saves its
// schedule under testdata/wbsim naming the file, and prints the simrun
// command; the next run replays that file first and fails at once,
// without exploring; once the scenario is fixed the saved file is
// reported as passing and the exploration runs.
func TestFailureSavesAReplayFileAndReplaysItFirst(t *testing.T) {
	t.Chdir(t.TempDir())
	file := filepath.Join("testdata", "wrong-read.wbs")
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(fmt.Sprintf(wrongRead, "zero:4KiB")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{name: t.Name() + "/1"}
	runFile(r, file)
	if len(r.errors) != 1 {
		t.Fatalf("want one error, got:\n%s", r.text())
	}
	// The first failing seed: 7 in the first -count round; later rounds
	// explore other seeds.
	var seed uint64
	if _, err := fmt.Sscanf(r.errors[0][strings.Index(r.errors[0], "expect (seed ")+len("expect (seed "):], "%d)", &seed); err != nil {
		t.Fatalf("no failing seed in the error:\n%s", r.errors[0])
	}
	replay := fmt.Sprintf("testdata/wbsim/wrong-read-seed%d.replay", seed)
	for _, want := range []string{
		"wrong-read: expected every schedule to pass; expect (seed ",
		"(-expected +found)", `Failure: ""`, `Failure: "expect"`,
		"go run github.com/wbsim/wbsim/cmd/simrun replay " + replay,
	} {
		if !strings.Contains(r.errors[0], want) {
			t.Errorf("the error lacks %q:\n%s", want, r.errors[0])
		}
	}
	data, err := os.ReadFile(replay)
	if err != nil {
		t.Fatal(err)
	}
	f, err := reports.ParseReplay(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if f.Program != "testdata/wrong-read.wbs" || f.Log.Seed != seed || !strings.HasPrefix(f.Signature, "invariant|expect") {
		t.Errorf("replay file: program %q, seed %d, signature %q", f.Program, f.Log.Seed, f.Signature)
	}

	r = &recorder{name: t.Name() + "/2"}
	runFile(r, file)
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "saved failure "+filepath.FromSlash(replay)+" still fails") ||
		strings.Contains(r.text(), "schedules in") {
		t.Errorf("second run: want the saved failure replayed, failing, and no exploration:\n%s", r.text())
	}

	if err := os.WriteFile(file, []byte(fmt.Sprintf(wrongRead, "A:4KiB")), 0o644); err != nil {
		t.Fatal(err)
	}
	r = &recorder{name: t.Name() + "/3"}
	runFile(r, file)
	if len(r.errors) != 0 || !strings.Contains(r.text(), "passes now") || !strings.Contains(r.text(), "every schedule passed") {
		t.Errorf("fixed: want the saved failure reported as passing and the exploration clean:\n%s", r.text())
	}
}

// TestBadFileNamesWhere: a scenario file that does not parse fails its
// test with file:line:col.
func TestBadFileNamesWhere(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("bad.wbs", []byte("wbsim-scenario v1\nname bad\nkernel 2.6.99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{name: t.Name()}
	runFile(r, "bad.wbs")
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], `bad.wbs:3:8: unknown kernel version "2.6.99"`) {
		t.Errorf("want an error at bad.wbs:3:8, got:\n%s", r.text())
	}
}

// setFlag sets a flag for one test.
func setFlag(t *testing.T, name, value string) {
	t.Helper()
	old := flag.Lookup(name).Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set(name, old) })
}

// TestFlags: -wbsim.seed sets the first seed, the k-th repetition (-count)
// starts k budgets further on, -short caps a passing scenario's schedules
// but not one that expects a failure, and -wbsim.schedules wins over both.
func TestFlags(t *testing.T) {
	pass := scenarios.New("p", scenarios.Kernel3x).OnBlockFS(scenarios.BlockFS{}).
		WithExplore(scenarios.Explore{Strategy: scenarios.PCT(2), Schedules: 500, Seed: 3}).ExpectOK()
	pass.AddTask("t").Sync()
	find := pass.Clone().ExpectFailure("progress")

	type got struct {
		Seed      uint64
		Schedules int
	}
	run := func(s *scenarios.Scenario, k int) got {
		c, o := forTest(s, k)
		return got{c.Explore.Seed, o.Schedules}
	}
	if diff := cmp.Diff(got{3, 500}, run(pass, 0)); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(got{1003, 500}, run(pass, 2)); diff != "" {
		t.Errorf("third repetition (-want +got):\n%s", diff)
	}
	setFlag(t, "wbsim.seed", "100")
	if diff := cmp.Diff(got{100, 500}, run(pass, 0)); diff != "" {
		t.Errorf("-wbsim.seed 100 (-want +got):\n%s", diff)
	}
	setFlag(t, "test.short", "true")
	if diff := cmp.Diff(got{100 + ShortSchedules, ShortSchedules}, run(pass, 1)); diff != "" {
		t.Errorf("-short, second repetition (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(got{100, 500}, run(find, 0)); diff != "" {
		t.Errorf("-short, expecting a failure (-want +got):\n%s", diff)
	}
	setFlag(t, "wbsim.schedules", "7")
	if diff := cmp.Diff(got{100, 7}, run(find, 0)); diff != "" {
		t.Errorf("-wbsim.schedules 7 (-want +got):\n%s", diff)
	}
}

// noFlushCrash builds, with the builder API, a file system without
// fsync's cache flush, where a power loss after fsync loses the data.
func noFlushCrash() *scenarios.Scenario {
	s := scenarios.New("built-no-flush", scenarios.Kernel3x).
		OnBlockFS(scenarios.BlockFS{FsyncFlush: scenarios.Off}).
		WithExplore(scenarios.Explore{Strategy: scenarios.Random(), Schedules: 10})
	s.VM.Flusher = scenarios.Flusher{Off: true}
	s.Checks.Only = []scenarios.Invariant{scenarios.InvCrash}
	s.AddTask("db").Open("f", "/db", 0).Write("f", 0, 8192, "A").Fsync("f").Crash()
	return s
}

// TestCheckBuiltScenario: Check passes a built scenario that meets its
// expectation; Explore returns what it found for cmp.Diff; a built
// scenario that fails is written to testdata/wbsim as a scenario file,
// with a replay file that names it.
func TestCheckBuiltScenario(t *testing.T) {
	s := noFlushCrash().ExpectFailure("crash")
	if v := Check(t, s); !v.Pass {
		t.Fatalf("%s", v.Msg)
	}
	if diff := cmp.Diff(Outcome{Failure: "crash"}, Explore(t, s)); diff != "" {
		t.Errorf("Explore (-want +got):\n%s", diff)
	}

	t.Chdir(t.TempDir())
	r := &recorder{name: t.Name()}
	check(r, noFlushCrash().ExpectOK(), "")
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "(-expected +found)") || !strings.Contains(r.errors[0], `Failure: "crash"`) {
		t.Fatalf("want one error with the outcome diff:\n%s", r.text())
	}
	src, err := os.ReadFile("testdata/wbsim/built-no-flush.wbs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenarios.Parse("built-no-flush.wbs", src); err != nil {
		t.Fatalf("the saved scenario does not parse: %v", err)
	}
	paths, files, err := savedFailures(noFlushCrash(), "")
	if err != nil || len(files) != 1 || files[0].Program != "testdata/wbsim/built-no-flush.wbs" {
		t.Fatalf("saved failures: %v %v %v", paths, files, err)
	}
}

// TestReplayStrategyParses: the strategy line a saved failure carries is
// one simrun replay accepts, for every strategy of the language (the
// language writes "pct depth 2", a replay file "pct depth=2").
func TestReplayStrategyParses(t *testing.T) {
	for _, st := range []scenarios.Strategy{
		{Kind: scenarios.StrategyRandom},
		{Kind: scenarios.StrategyPCT, Depth: 2},
		{Kind: scenarios.StrategyDFS, Bound: 3},
		{Kind: scenarios.StrategyRR, Quantum: 4},
	} {
		text := "wbsim-replay v1\nprogram: x.wbs\nstrategy: " + replayStrategy(st) +
			"\nschedule: wbsim-schedule v1 seed=1 steps=0 hash=0000000000000000 :\n"
		if _, err := reports.ParseReplay(text); err != nil {
			t.Errorf("%v: %v", st, err)
		}
	}
}
