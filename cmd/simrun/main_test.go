package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	if strings.Contains(errb.String(), "goroutine ") {
		t.Errorf("%v: stderr has a stack trace:\n%s", args, errb.String())
	}
	return code, out.String(), errb.String()
}

func readResult(t *testing.T, dir string) *reports.Result {
	t.Helper()
	r, err := reports.ReadResult(filepath.Join(dir, reports.ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTourFindsEveryExpectedBug(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "tour", "--schedules", "300", "--out", out)
	if code != exitOK {
		t.Fatalf("tour exit %d, want 0:\n%s", code, stdout)
	}
	for _, want := range []string{"abba-deadlock", "lost-update", "pct-hard-case", "exact (trace hash matches)", "wbsim-schedule v1",
		"2. Bug seeds", "fsyncgate", "3. Built-in scenarios", "teach-page-life-3.x",
		"report: " + filepath.Join(out, "index.html")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("tour output lacks %q", want)
		}
	}
	for _, f := range []string{"index.html", "result.json", "junit.xml", "trace.json", "trace.txt", "timing.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("tour did not write %s", f)
		}
	}
	r := readResult(t, out)
	if r.Command != "tour" || len(r.Programs) < 12+2*7+len(tourExploration) {
		t.Fatalf("tour result: %s with %d program results, want 12 planted, 2 per bug seed, and the scenarios", r.Command, len(r.Programs))
	}
	html, _ := os.ReadFile(filepath.Join(out, "index.html"))
	// stderr, timing.json and the report count the same schedules: every
	// part's.
	total := 0
	for _, p := range r.Programs {
		total += p.Schedules
	}
	timing, _ := os.ReadFile(filepath.Join(out, "timing.json"))
	if !strings.Contains(stderr, fmt.Sprintf("tour: %d schedules in", total)) ||
		!strings.Contains(string(html), fmt.Sprintf(" · %d schedules · ", total)) ||
		!strings.Contains(string(timing), fmt.Sprintf(`"schedules": %d,`, total)) {
		t.Errorf("tour: result.json counts %d schedules; stderr, index.html and timing.json must say the same:\n%s\n%s", total, stderr, timing)
	}
	pctScenarios := 0
	for _, p := range r.Programs {
		if !p.OK {
			t.Errorf("%s not ok", p.Name())
		}
		// PCT's k is the one measured and used, in result.json and the report.
		if s := p.Strategy; s.Name == "pct" {
			if want := fmt.Sprintf("pct depth=%d k=%d", s.Depth, s.K); s.K <= 0 || s.Text != want || !strings.Contains(string(html), want) {
				t.Errorf("%s: strategy %+v: want k > 0, text %q, and the report to show it", p.Name(), s, want)
			}
			if p.Label == "fix-off" || p.Label == "fix-on" {
				pctScenarios++
			}
		}
		for _, f := range p.Failures {
			if _, err := os.Stat(filepath.Join(out, f.Replay)); err != nil {
				t.Errorf("%s: replay file %s missing", p.Name(), f.Replay)
			}
		}
	}
	if pctScenarios == 0 {
		t.Error("no bug seed explored with PCT in the tour: the k check above checked only planted races")
	}
}

func TestTourIsDeterministic(t *testing.T) {
	out := t.TempDir()
	_, a, _ := runCLI(t, "--schedules", "200", "--workers", "1", "--out", out)
	ra, _ := os.ReadFile(filepath.Join(out, "result.json"))
	_, b, _ := runCLI(t, "--schedules", "200", "--workers", "3", "--out", out)
	rb, _ := os.ReadFile(filepath.Join(out, "result.json"))
	if a != b {
		t.Fatalf("same seeds, different output with 1 and 3 workers:\n%s\n---\n%s", a, b)
	}
	if !bytes.Equal(ra, rb) {
		t.Fatal("same seeds, different result.json with 1 and 3 workers")
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.replay")
	os.WriteFile(garbage, []byte("wbsim-replay v1\nprogram: abba-deadlock\nschedule: wbsim-schedule v1 seed=1 : 1.2 9/2\n"), 0o644)
	unknownProg := filepath.Join(dir, "unknown.replay")
	os.WriteFile(unknownProg, []byte("wbsim-replay v1\nprogram: nosuch\nschedule: wbsim-schedule v1 seed=1 steps=1 hash=0 : 1.2\n"), 0o644)
	notReplay := filepath.Join(dir, "notes.txt")
	os.WriteFile(notReplay, []byte("hello\n"), 0o644)
	badJSON := filepath.Join(dir, "badjson")
	os.MkdirAll(badJSON, 0o755)
	os.WriteFile(filepath.Join(badJSON, "result.json"), []byte("{\n  \"schema\": \"wbsim-result\",\n  \"version\": 1,\n  \"programs\": 3\n}\n"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"tour", "--schedules", "zero"}, "invalid value"},
		{[]string{"tour", "--schedules", "0"}, "at least 1"},
		{[]string{"tour", "extra"}, `unexpected argument "extra"`},
		{[]string{"list", "--nope"}, "flag provided but not defined"},
		{[]string{"list", "--tag", "nosuch"}, `no program has tag "nosuch"`},
		{[]string{"list", "--invariants", "--tag", "afs"}, "it takes no --tag"},
		{[]string{"run"}, "missing an argument"},
		{[]string{"run", "abba-deadlok"}, `did you mean "abba-deadlock"`},
		{[]string{"run", "first-writebak"}, `did you mean "first-writeback"`},
		{[]string{"run", "abba-deadlock", "lost-update"}, `unexpected argument "lost-update"`},
		{[]string{"run", "abba-deadlock", "--strategy", "dfs"}, "use \"simrun explore\""},
		{[]string{"run", "abba-deadlock", "--strategy", "magic"}, `unknown strategy "magic"`},
		{[]string{"run", "abba-deadlock", "--seed", "-1"}, "invalid value"},
		{[]string{"run", "abba-deadlock", "--depth", "-2"}, "--depth must be at least 1"},
		{[]string{"explore", "abba-deadlock", "--workers", "0", "--out", dir}, "--workers must be at least 1"},
		{[]string{"explore", "abba-deadlock", "--schedules", "0", "--out", dir}, "--schedules must be at least 1"},
		{[]string{"explore", "abba-deadlock", "--shard", "3/3", "--out", dir}, "--shard wants i/n"},
		{[]string{"explore", "abba-deadlock", "--shard", "x", "--out", dir}, "--shard wants i/n"},
		{[]string{"explore", "abba-deadlock", "--strategy", "dfs", "--shard", "0/2", "--out", dir}, "--shard does not apply to dfs"},
		{[]string{"explore", "abba-deadlock", "--time", "soon", "--out", dir}, "invalid value"},
		{[]string{"explore", "abba-deadlock", "--progress", "loud", "--out", dir}, "--progress wants"},
		{[]string{"explore", "abba-deadlock", "--out", garbage}, "cannot create the output directory"},
		{[]string{"replay"}, "missing an argument"},
		{[]string{"replay", filepath.Join(dir, "missing.replay")}, "no such file"},
		{[]string{"replay", dir}, "is a directory"},
		{[]string{"replay", garbage}, garbage + ":3:42: schedule: decision log: token \"9/2\""},
		{[]string{"replay", notReplay}, notReplay + ":1:1: not a wbsim replay file"},
		{[]string{"replay", unknownProg}, `unknown program "nosuch"`},
		{[]string{"shrink", garbage}, garbage + ":3:42:"},
		{[]string{"shrink", garbage, "--runs", "0"}, "--runs must be at least 1"},
		{[]string{"explain", "nosuch"}, `"nosuch" is neither a replay file nor a program`},
		{[]string{"explain", "abba-deadlock", "--follow", "page 9:9"}, `no event is about "page 9:9"; the objects in this run are: mutex a, mutex b`},
		{[]string{"merge"}, "missing an argument"},
		{[]string{"merge", filepath.Join(dir, "nope")}, "no such file"},
		{[]string{"merge", empty}, "no such file"},
		{[]string{"merge", badJSON}, "line 4:"},
		{[]string{"run", "abba-deadlock", "--depth", "999"}, "--depth must be at most 16 (the scenario language's limit), got 999"},
		{[]string{"explain", "abba-deadlock", "--depth", "17"}, "--depth must be at most 16"},
		{[]string{"explore", "abba-deadlock", "--strategy", "dfs", "--bound", "99", "--out", dir}, "--bound must be at most 16 (the scenario language's limit), got 99"},
		{[]string{"run", "abba-deadlock", "--strategy", "rr", "--quantum", "2000000"}, "--quantum must be at most 1000000"},
		{[]string{"explore", "abba-deadlock", "--seed", "18446744073709551615", "--schedules", "2", "--out", dir}, "--seed 18446744073709551615 with --schedules 2 runs past the last seed"},
		{[]string{"explore", "abba-deadlock", "--schedules", "100000001", "--out", dir}, "--schedules must be at most 100000000"},
		{[]string{"run", "abba-deadlock", "--seed", "18446744073709551616"}, "flag -seed: value out of range"},
		{[]string{"tour", "--bound", "17"}, "--bound must be at most 16"},
	} {
		code, _, errs := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"help", "explore"}, {"tour", "--help"}, {"list", "-h"}, {"run", "--help"},
		{"explore", "--help"}, {"replay", "-h"}, {"shrink", "--help"}, {"explain", "--help"}, {"merge", "--help"},
		{"bugs", "--help"}, {"diff-versions", "--help"}} {
		code, out, _ := runCLI(t, args...)
		if code != exitOK || !strings.Contains(out, "Usage") {
			t.Errorf("%v: exit %d, output %q; want 0 and usage", args, code, out)
		}
	}
}

func TestList(t *testing.T) {
	code, out, _ := runCLI(t, "list")
	if code != exitOK || !strings.Contains(out, "abba-deadlock") || !strings.Contains(out, "planted") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	for _, want := range []string{"bug-seed", "fsyncgate", "first-writeback", "teach-afs-writeback-record"} {
		if !strings.Contains(out, want) && want != "fsyncgate" {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	for tag, want := range map[string][]string{
		"teaching":    {"teach-page-life-3.x", "teach-why-fsync-waits-2.6.2x", "teach-as-eio-consumed-2.6.2x", "teach-afs-writeback-record"},
		"afs":         {"basics-fsync-afs", "afs-key-expiry"},
		"2.6.12":      {"basics-fsync-2.6.12", "wb-integrity-2.6.12"},
		"faults":      {"fault-eio-fsync-3.x"},
		"concurrency": {"conc-afs-two-keys"},
		"basics":      {"basics-holes-eof"},
	} {
		code, out := func() (int, string) { c, o, _ := runCLI(t, "list", "--tag", tag); return c, o }()
		for _, w := range want {
			if code != exitOK || !strings.Contains(out, w) {
				t.Errorf("list --tag %s: exit %d, lacks %s:\n%s", tag, code, w, out)
			}
		}
		if strings.Contains(out, "abba-deadlock") {
			t.Errorf("list --tag %s lists abba-deadlock", tag)
		}
	}
	code, out, _ = runCLI(t, "list", "--tag", "random-walk-hard")
	if code != exitOK || !strings.Contains(out, "pct-hard-case") || strings.Contains(out, "abba-deadlock") {
		t.Fatalf("list --tag: exit %d\n%s", code, out)
	}
}

// list --invariants prints the registry: one line per id, with its
// package, docs anchor and meaning.
func TestListInvariants(t *testing.T) {
	code, out, _ := runCLI(t, "list", "--invariants")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != len(scenarios.Invariants())+1 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("list --invariants: exit %d\n%s", code, out)
	}
	for i, e := range scenarios.Invariants() {
		l := lines[i+1]
		for _, want := range []string{string(e.ID), e.Package, e.Doc, e.Meaning} {
			if !strings.Contains(l, want) {
				t.Errorf("line %q lacks %q", l, want)
			}
		}
		if e.Always != strings.Contains(l, "(always)") {
			t.Errorf("line %q: always is %v", l, e.Always)
		}
	}
}

func TestRun(t *testing.T) {
	out := t.TempDir()
	code, stdout, _ := runCLI(t, "run", "abba-deadlock", "--seed", "6", "--trace", "--out", out)
	if code != exitFailures || !strings.Contains(stdout, "FAILED") || !strings.Contains(stdout, "=> ") && !strings.Contains(stdout, "mutex_lock mutex a") {
		t.Fatalf("run abba-deadlock --seed 6: exit %d\n%s", code, stdout)
	}
	r := readResult(t, out)
	if len(r.Programs) != 1 || len(r.Programs[0].Failures) != 1 {
		t.Fatalf("result: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(out, r.Programs[0].Failures[0].Replay)); err != nil {
		t.Fatal("no replay file for the failed run")
	}
	code, stdout, _ = runCLI(t, "run", "abba-deadlock", "--strategy", "rr")
	if code != exitOK || !strings.Contains(stdout, "passed") {
		t.Fatalf("round-robin without preemption must pass: exit %d\n%s", code, stdout)
	}
	_, a, _ := runCLI(t, "run", "lost-update", "--seed", "9", "--strategy", "random", "--trace")
	_, b, _ := runCLI(t, "run", "lost-update", "--seed", "9", "--strategy", "random", "--trace")
	if a != b {
		t.Fatal("run is not deterministic")
	}
}

// explore runs "simrun explore" and returns the exit code and the output
// directory's result.
func exploreCLI(t *testing.T, out string, args ...string) (int, *reports.Result, string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append(append([]string{"explore"}, args...), "--out", out)...)
	if code == exitUsage {
		t.Fatalf("explore %v: %s", args, stderr)
	}
	return code, readResult(t, out), stdout
}

func TestExploreFindsAndReplays(t *testing.T) {
	out := t.TempDir()
	code, res, stdout := exploreCLI(t, out, "abba-deadlock", "--schedules", "300")
	p := res.Programs[0]
	if code != exitFailures || len(p.Failures) != 1 || p.OK || p.Minimal == nil {
		t.Fatalf("explore: exit %d, %+v\n%s", code, p, stdout)
	}
	for _, f := range []string{"index.html", "junit.xml", "trace.json", "trace.txt", p.Failures[0].Replay, p.Minimal.Replay} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("explore did not write %s", f)
		}
	}
	// The replay file reproduces the failure exactly.
	f := p.Failures[0]
	code, stdout, _ = runCLI(t, "replay", filepath.Join(out, f.Replay))
	if code != exitOK || !strings.Contains(stdout, "replay: exact (trace hash "+f.Hash+" matches)") ||
		!strings.Contains(stdout, "FAILED the same way") {
		t.Fatalf("replay: exit %d\n%s", code, stdout)
	}
	// So does the minimal one, and explain narrates it.
	code, stdout, _ = runCLI(t, "replay", filepath.Join(out, p.Minimal.Replay), "--trace")
	if code != exitOK || !strings.Contains(stdout, "exact (trace hash "+p.Minimal.Hash) || !strings.Contains(stdout, "sleeps in mutex_lock") {
		t.Fatalf("replay of the minimal schedule: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI(t, "explain", filepath.Join(out, p.Minimal.Replay), "--follow", "mutex b")
	if code != exitOK || !strings.Contains(stdout, "following: mutex b") {
		t.Fatalf("explain FILE --follow: exit %d\n%s", code, stdout)
	}
}

func TestReplayDivergence(t *testing.T) {
	out := t.TempDir()
	_, res, _ := exploreCLI(t, out, "abba-deadlock", "--schedules", "300")
	path := filepath.Join(out, res.Programs[0].Failures[0].Replay)
	f, _, _, err := loadReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := runCLI(t, "replay", path); code != exitOK || !strings.Contains(stdout, "reproduced: yes") {
		t.Fatalf("an exact reproduction of the recorded failure: exit %d, want 0\n%s", code, stdout)
	}
	// The same schedule against another program no longer fits.
	f.Program = "pct-hard-case"
	bad := filepath.Join(out, "other.replay")
	if err := reports.WriteReplayFile(bad, f); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := runCLI(t, "replay", bad)
	if !strings.Contains(stdout, "DIVERGED") || code != exitFailures {
		t.Fatalf("replay against another program must diverge, exit 1 (got %d):\n%s", code, stdout)
	}
	// A wrong hash is a divergence too.
	f.Program = "abba-deadlock"
	f.Log.Hash ^= 1
	if err := reports.WriteReplayFile(bad, f); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, "replay", bad)
	if !strings.Contains(stdout, "DIVERGED: every decision fit, but the trace hash") || code != exitFailures {
		t.Fatalf("replay with a wrong hash: exit %d, want 1\n%s", code, stdout)
	}
	// The same trace but a different recorded failure: not reproduced.
	f.Log.Hash ^= 1
	f.Signature = "deadlock|progress||mutex z"
	if err := reports.WriteReplayFile(bad, f); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ = runCLI(t, "replay", bad); code != exitFailures || !strings.Contains(stdout, "FAILED differently") {
		t.Fatalf("replay failing differently: exit %d, want 1\n%s", code, stdout)
	}
	rep := t.TempDir()
	runCLI(t, "replay", bad, "--out", rep)
	junit, _ := os.ReadFile(filepath.Join(rep, "junit.xml"))
	if p := readResult(t, rep).Programs[0]; p.OK || p.Reproduced == nil || *p.Reproduced || !strings.Contains(string(junit), `type="not-reproduced"`) {
		t.Errorf("the report of a replay not reproduced: ok %v, reproduced %v\n%s", p.OK, p.Reproduced, junit)
	}
}

// TestExploreIsDeterministic: the same seeds give byte-identical
// result.json and trace.txt, whatever the worker count.
func TestExploreIsDeterministic(t *testing.T) {
	for _, args := range [][]string{
		{"lost-update", "--strategy", "random", "--schedules", "200", "--keep-going"},
		{"abba-deadlock", "--schedules", "300"},
		{"pct-hard-case", "--strategy", "dfs", "--bound", "1"},
	} {
		a, b := t.TempDir(), t.TempDir()
		exploreCLI(t, a, append(args, "--workers", "1")...)
		exploreCLI(t, b, append(args, "--workers", "3")...)
		for _, name := range []string{"result.json", "trace.txt", "junit.xml", "trace.json", "index.html"} {
			x, _ := os.ReadFile(filepath.Join(a, name))
			y, _ := os.ReadFile(filepath.Join(b, name))
			if name == "junit.xml" { // but for its wall-clock times
				x, y = junitTimes.ReplaceAll(x, nil), junitTimes.ReplaceAll(y, nil)
			}
			if len(x) == 0 || !bytes.Equal(x, y) {
				t.Errorf("%v: %s differs between two runs (or is empty)", args, name)
			}
		}
	}
}

func TestShrink(t *testing.T) {
	out := t.TempDir()
	// A random walk's failing schedule carries spare preemptions.
	_, res, _ := exploreCLI(t, out, "abba-deadlock", "--strategy", "random", "--schedules", "300", "--keep-going", "--shrink-runs", "0")
	var path string
	var before int
	for _, f := range res.Programs[0].Failures {
		if f.Preemptions > before {
			path, before = filepath.Join(out, f.Replay), f.Preemptions
		}
	}
	if path == "" {
		t.Fatal("no failure with a preemption")
	}
	small := filepath.Join(out, "small.replay")
	code, stdout, _ := runCLI(t, "shrink", path, "-o", small)
	m := regexp.MustCompile(`preemptions: (\d+) -> (\d+)`).FindStringSubmatch(stdout)
	if code != exitOK || m == nil {
		t.Fatalf("shrink: exit %d\n%s", code, stdout)
	}
	from, _ := strconv.Atoi(m[1])
	to, _ := strconv.Atoi(m[2])
	if from != before || to > from {
		t.Fatalf("shrink: %d -> %d preemptions, from a file with %d", from, to, before)
	}
	code, stdout, _ = runCLI(t, "replay", small)
	if code != exitOK || !strings.Contains(stdout, "FAILED the same way") || !strings.Contains(stdout, "exact") {
		t.Fatalf("the shrunk file must still fail the same way, exactly: exit %d\n%s", code, stdout)
	}
	f, _, _, err := loadReplay(small)
	if err != nil || f.ShrunkFrom == nil || *f.ShrunkFrom != before || f.Log.Preemptions() != to {
		t.Fatalf("shrunk file: %v %+v", err, f)
	}
	// Default output name.
	code, _, _ = runCLI(t, "shrink", path)
	if _, err := os.Stat(strings.TrimSuffix(path, ".replay") + ".min.replay"); code != exitOK || err != nil {
		t.Fatalf("shrink without -o: exit %d, %v", code, err)
	}
	// A passing schedule has nothing to shrink.
	pass := filepath.Join(out, "pass.replay")
	w := sim.New(sim.Config{Seed: 1})
	p, _ := lookupProgram("abba-deadlock")
	p.Setup(w)
	r := w.Run()
	reports.WriteReplayFile(pass, replayFor(p, "rr", r))
	if code, stdout, _ := runCLI(t, "shrink", pass); code != exitFailures || !strings.Contains(stdout, "nothing to shrink") {
		t.Fatalf("shrink of a passing schedule: exit %d\n%s", code, stdout)
	}
}

type failKey struct {
	Seed      uint64
	Hash, Sig string
}

func failKeys(p reports.ProgramResult) []failKey {
	var out []failKey
	for _, f := range p.Failures {
		out = append(out, failKey{f.Seed, f.Hash, f.Signature})
	}
	return out
}

// TestShardUnionIsTheWholeRun: explore in 3 shards, merge, and get what
// one unsharded run gets: the same failures, schedules and minimal
// schedule, with and without --keep-going.
func TestShardUnionIsTheWholeRun(t *testing.T) {
	for _, extra := range [][]string{{"--keep-going"}, {}} {
		args := append([]string{"lost-update", "--strategy", "random", "--schedules", "90", "--seed", "5"}, extra...)
		whole := t.TempDir()
		_, wr, _ := exploreCLI(t, whole, args...)
		var dirs []string
		for i := range 3 {
			d := filepath.Join(t.TempDir(), "shard"+strconv.Itoa(i))
			exploreCLI(t, d, append(args, "--shard", strconv.Itoa(i)+"/3")...)
			dirs = append(dirs, d)
		}
		merged := t.TempDir()
		code, stdout, stderr := runCLI(t, append(append([]string{"merge"}, dirs...), "--out", merged)...)
		if code != exitFailures || stderr != "" {
			t.Fatalf("merge: exit %d\n%s\n%s", code, stdout, stderr)
		}
		mr := readResult(t, merged)
		w, m := wr.Programs[0], mr.Programs[0]
		if len(w.Failures) == 0 {
			t.Fatal("the whole run found nothing; the test proves nothing")
		}
		if d := cmp.Diff(failKeys(w), failKeys(m)); d != "" {
			t.Errorf("%v: merged failures differ from the whole run's (-whole +merged):\n%s", extra, d)
		}
		if w.Schedules != m.Schedules || !cmp.Equal(w.Minimal, m.Minimal) || w.OK != m.OK {
			t.Errorf("%v: whole run %d schedules, minimal %+v; merged %d, %+v", extra, w.Schedules, w.Minimal, m.Schedules, m.Minimal)
		}
		for _, f := range m.Failures {
			if _, err := os.Stat(filepath.Join(merged, f.Replay)); err != nil {
				t.Errorf("merged replay file %s missing", f.Replay)
			}
		}
		if _, err := os.Stat(filepath.Join(merged, "index.html")); err != nil {
			t.Error("merge wrote no index.html")
		}
	}
	// A missing shard is a warning.
	d := t.TempDir()
	exploreCLI(t, d, "lost-update", "--strategy", "random", "--schedules", "30", "--shard", "1/2", "--keep-going")
	_, _, stderr := runCLI(t, "merge", d, "--out", t.TempDir())
	if !strings.Contains(stderr, "shards [0] of 2 are missing") {
		t.Errorf("missing shard: %q", stderr)
	}
}

// TestExploreTimeLimit: --time stops an explore whose schedule budget it
// could never finish; the result says so (stopped "time-limit", fewer
// schedules than asked). No wall-clock bound is asserted: without the
// limit the test would not end at all.
func TestExploreTimeLimit(t *testing.T) {
	out := t.TempDir()
	code, res, _ := exploreCLI(t, out, "abba-deadlock", "--strategy", "rr", "--schedules", "100000000", "--time", "300ms")
	p := res.Programs[0]
	if code != exitIncomplete || p.Stopped != "time-limit" || p.OK || p.Schedules == 0 || p.Schedules >= 100000000 {
		t.Fatalf("--time: exit %d, stopped %q, %d schedules", code, p.Stopped, p.Schedules)
	}
}

// TestExplainGolden: the narrated traces of the planted programs, as the
// learner sees them. Run with -update to accept a change.
func TestExplainGolden(t *testing.T) {
	cases := map[string][]string{}
	for _, p := range programs() {
		cases[p.Name] = []string{"explain", p.Name}
	}
	// The teaching scenarios: the traces their descriptions walk through.
	for _, name := range teachingScenarios(t) {
		cases[name] = []string{"explain", name}
	}
	cases["abba-deadlock-follow"] = []string{"explain", "abba-deadlock", "--seed", "6", "--follow", "mutex a"}
	cases["abba-deadlock-seed6"] = []string{"explain", "abba-deadlock", "--seed", "6"}
	cases["lost-update-random-seed3"] = []string{"explain", "lost-update", "--strategy", "random", "--seed", "3"}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, got, stderr := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			path := filepath.Join("testdata", "explain-"+name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestExplainGolden -update to create it)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("%v: output differs from %s (-want +got; -update accepts it):\n%s", args, path, d)
			}
		})
	}
}

func TestProgressModes(t *testing.T) {
	var b bytes.Buffer
	t.Setenv("CI", "true")
	if m, _ := progressModeFor("auto", &b); m != progressOff {
		t.Error("CI=true must be quiet")
	}
	t.Setenv("CI", "")
	if m, _ := progressModeFor("auto", &b); m != progressLines {
		t.Error("a non-terminal gets lines")
	}
	p := newProgress(&b, progressOff, "x", 100, time.Time{})
	p.update(sim.Progress{Done: 50, Total: 100, Failures: 1, Elapsed: time.Second})
	if l := p.line(); l != "x: 50/100 schedules (50%), 50 schedules/s, 1 failure, ETA 1s" {
		t.Errorf("progress line %q", l)
	}
	p.finish()
	// dfs until exhausted: no total, so no ETA; a slow rate keeps a decimal.
	p = newProgress(&b, progressOff, "y", 0, time.Time{})
	p.update(sim.Progress{Done: 3, Failures: 2, Elapsed: 10 * time.Second})
	if l := p.line(); l != "y: 3 schedules, 0.3 schedules/s, 2 failures" {
		t.Errorf("progress line %q", l)
	}
	p.finish()
	if b.Len() != 0 {
		t.Errorf("progress off printed %q", b.String())
	}
	// live redraws one line in place and clears it at the end; lines
	// prints whole lines.
	p = newProgress(&b, progressLive, "z", 10, time.Time{})
	p.update(sim.Progress{Done: 5, Total: 10, Elapsed: time.Second})
	p.draw()
	p.finish()
	if s := b.String(); !strings.HasPrefix(s, "\r\033[Kz: 5/10 schedules (50%), 5.0 schedules/s, 0 failures, ETA 1s") || !strings.HasSuffix(s, "\r\033[K") {
		t.Errorf("live progress %q", s)
	}
	b.Reset()
	p = newProgress(&b, progressLines, "z", 10, time.Time{})
	p.update(sim.Progress{Done: 5, Total: 10, Elapsed: time.Second})
	p.draw()
	p.finish()
	if s := b.String(); s != "z: 5/10 schedules (50%), 5.0 schedules/s, 0 failures, ETA 1s\n" {
		t.Errorf("lines progress %q", s)
	}
}

// buildBinary builds simrun once for the tests that run it as a user would.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "simrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestBinary runs the built simrun: usage errors, the default tour, a
// quiet explore under CI, and a clean stop on SIGINT.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	work := t.TempDir()
	cmd := func(env []string, args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Dir = work
		c.Env = append(os.Environ(), env...)
		return c
	}
	for _, args := range [][]string{{"bogus"}, {"explore"}, {"replay", "/nonexistent"}, {"explore", "abba-deadlock", "--shard", "9"}} {
		var errb bytes.Buffer
		c := cmd(nil, args...)
		c.Stderr = &errb
		err := c.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitUsage {
			t.Errorf("%v: %v, want exit 2", args, err)
		}
		if errb.Len() == 0 || strings.Contains(errb.String(), "goroutine") {
			t.Errorf("%v: stderr %q: want a message and no stack", args, errb.String())
		}
	}
	t.Run("variant", func(t *testing.T) { testVariantFlags(t, work, cmd) })
	// The default tour writes its report under ./out/tour.
	out, err := cmd(nil, "--schedules", "100").Output()
	if err != nil {
		t.Fatalf("tour: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "report: "+filepath.Join(work, "out", "tour", "index.html")) {
		t.Errorf("tour does not print the report path:\n%s", out)
	}
	// Under CI, explore prints no progress.
	var errb bytes.Buffer
	c := cmd([]string{"CI=true"}, "explore", "lost-update", "--schedules", "500", "--strategy", "random")
	c.Stderr = &errb
	if err := c.Run(); err == nil {
		t.Error("explore of lost-update must find the bug (exit 1)")
	}
	for _, line := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		if !strings.HasPrefix(line, "failure at seed") && !strings.HasPrefix(line, "  replay file:") && !strings.Contains(line, "schedules/s") {
			t.Errorf("under CI, stderr has %q", line)
		}
	}
	// SIGINT stops cleanly: results kept, exit 3 (incomplete).
	c = cmd([]string{"CI=true"}, "explore", "abba-deadlock", "--strategy", "rr", "--schedules", "100000000", "--out", "int")
	var cout, cerr bytes.Buffer
	c.Stdout, c.Stderr = &cout, &cerr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	c.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if c.ProcessState.ExitCode() != exitIncomplete {
			t.Fatalf("after SIGINT: %v, want exit 3\n%s\n%s", err, cout.String(), cerr.String())
		}
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		t.Fatal("SIGINT did not stop explore")
	}
	r := readResult(t, filepath.Join(work, "int"))
	if r.Programs[0].Stopped != "interrupted" || r.Programs[0].Schedules == 0 || !strings.Contains(cerr.String(), "interrupted") {
		t.Fatalf("after SIGINT: stopped %q, %d schedules; stderr %s", r.Programs[0].Stopped, r.Programs[0].Schedules, cerr.String())
	}
}

// TestMaxFailures: with --keep-going and a cap, the report lists the
// lowest seeds, each with its replay file, and counts the rest; no other
// replay file is left behind.
func TestMaxFailures(t *testing.T) {
	out := t.TempDir()
	_, res, stdout := exploreCLI(t, out, "lost-update", "--strategy", "random", "--schedules", "200", "--keep-going", "--max-failures", "5", "--workers", "3")
	p := res.Programs[0]
	if len(p.Failures) != 5 || p.FailuresFound <= 5 || !strings.Contains(stdout, "(the 5 lowest seeds listed)") {
		t.Fatalf("listed %d of %d failures\n%s", len(p.Failures), p.FailuresFound, stdout)
	}
	files, _ := filepath.Glob(filepath.Join(out, "replays", "*.replay"))
	if len(files) != 6 { // 5 failures and the minimal schedule
		t.Errorf("%d replay files, want 6: %v", len(files), files)
	}
	all := t.TempDir()
	_, full, _ := exploreCLI(t, all, "lost-update", "--strategy", "random", "--schedules", "200", "--keep-going", "--max-failures", "0")
	if full.Programs[0].FailuresFound != p.FailuresFound || len(full.Programs[0].Failures) != p.FailuresFound {
		t.Errorf("without a cap: %d listed of %d; with it, %d found", len(full.Programs[0].Failures), full.Programs[0].FailuresFound, p.FailuresFound)
	}
	for i, f := range p.Failures {
		if f.Seed != full.Programs[0].Failures[i].Seed {
			t.Errorf("capped list is not the lowest seeds: %d vs %d", f.Seed, full.Programs[0].Failures[i].Seed)
		}
	}
	// dfs failures share a seed; their files are named by trace hash.
	d := t.TempDir()
	_, dr, _ := exploreCLI(t, d, "abba-deadlock", "--strategy", "dfs", "--bound", "2", "--keep-going")
	names := map[string]bool{}
	for _, f := range dr.Programs[0].Failures {
		names[f.Replay] = true
	}
	if len(dr.Programs[0].Failures) < 2 || len(names) != len(dr.Programs[0].Failures) {
		t.Errorf("dfs failures: %d, distinct replay files %d", len(dr.Programs[0].Failures), len(names))
	}
}

// teachingScenarios are the built-in scenarios tagged teaching.
func teachingScenarios(t *testing.T) []string {
	t.Helper()
	all, err := listings()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range all {
		if l.Kind == "scenario" && slices.Contains(l.Tags, "teaching") {
			names = append(names, l.Name)
		}
	}
	if len(names) < 5 {
		t.Fatalf("%d teaching scenarios, want at least 5", len(names))
	}
	return names
}

// testVariantFlags runs the built binary with --version, --fix and
// --no-fix: each changes what a bug seed does, a replay file records them
// and reproduces the run, and every bad value is exit 2 with one line
// naming what is valid.
func testVariantFlags(t *testing.T, work string, cmd func(env []string, args ...string) *exec.Cmd) {
	exit := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		c := cmd([]string{"CI=true"}, args...)
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return code, out.String(), errb.String()
	}
	// sector-overflow-32bit fails on 2.6.12 with the fix off, passes with
	// it on, and passes on 2.6.2x, which casts before shifting.
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "sector-overflow-32bit"}, exitOK, "sector-overflow-32bit, seed 1, random: failed as expected (expect failure read-correct)"},
		{[]string{"run", "sector-overflow-32bit", "--fix", "sector-overflow"}, exitOK, "(--fix sector-overflow), seed 1, random: passed"},
		{[]string{"run", "sector-overflow-32bit", "--version", "2.6.2x"}, exitOK, "(--version 2.6.2x), seed 1, random: passed"},
		{[]string{"explore", "sector-overflow-32bit", "--schedules", "5", "--out", "ex-off"}, exitOK, "1 schedule, 1 failure"},
		{[]string{"explore", "sector-overflow-32bit", "--schedules", "5", "--fix", "sector-overflow", "--out", "ex-on"}, exitOK, "5 schedules, 0 failures"},
		{[]string{"explain", "sector-overflow-32bit"}, exitOK, "read-correct"},
		// A baseline fix left off brings its seed bug back.
		{[]string{"run", "conc-afs-two-keys"}, exitOK, "passed"},
		{[]string{"run", "conc-afs-two-keys", "--no-fix", "flush-conflict-double-put", "--out", "nofix"}, exitFailures, "wb-record"},
	} {
		code, out, errs := exit(c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s%s", c.args, code, c.code, c.want, out, errs)
		}
	}
	if _, out, _ := exit("explain", "sector-overflow-32bit", "--fix", "sector-overflow"); strings.Contains(out, "read-correct") {
		t.Errorf("explain --fix sector-overflow still fails:\n%s", out)
	}
	if r := readResult(t, filepath.Join(work, "ex-on")); r.Programs[0].Variant.Flags() != "--fix sector-overflow" {
		t.Errorf("result.json variant %+v", r.Programs[0].Variant)
	}
	// The replay file records the variant and reproduces the failure;
	// without its no-fixes line it runs the fixed code and does not fit.
	file := filepath.Join(work, "nofix", "replays", "conc-afs-two-keys-seed1.replay")
	text, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(text), "wbsim-replay v2\n") || !strings.Contains(string(text), "\nno-fixes: flush-conflict-double-put\n") {
		t.Fatalf("replay file: %v\n%s", err, text)
	}
	if code, out, _ := exit("replay", file); code != exitOK || !strings.Contains(out, "replay: exact") || !strings.Contains(out, "FAILED the same way") {
		t.Errorf("replay of the --no-fix failure: exit %d\n%s", code, out)
	}
	v1 := filepath.Join(work, "v1.replay")
	os.WriteFile(v1, []byte(strings.Replace(strings.Replace(string(text), "v2\n", "v1\n", 1), "no-fixes: flush-conflict-double-put\n", "", 1)), 0o644)
	if code, out, _ := exit("replay", v1); code != exitFailures || !strings.Contains(out, "DIVERGED") {
		t.Errorf("replay without the variant: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "sector-overflow-32bit", "--version", "4.0"}, `unknown --version "4.0": blockfs scenarios run on 2.6.12, 2.6.2x, 3.x`},
		{[]string{"run", "conc-afs-two-keys", "--version", "3.x"}, "--version applies to blockfs scenarios"},
		{[]string{"run", "abba-deadlock", "--fix", "x"}, "abba-deadlock is a planted race"},
		{[]string{"run", "sector-overflow-32bit", "--fix", "bogus"}, "--fix bogus: no such fix switch; kernel 2.6.12 takes: " + strings.Join(scenarios.FixesFor(scenarios.Kernel2_6_12), ", ")},
		{[]string{"explore", "first-writeback", "--no-fix", "wb-integrity"}, "--no-fix wb-integrity: a fix switch of 2.6.12 only; kernel 3.x takes: " + strings.Join(scenarios.FixesFor(scenarios.Kernel3x), ", ")},
		{[]string{"explain", "sector-overflow-32bit", "--version", "2.6.12", "--fix", "fill-page-offset"}, "a fix switch of afs-2.6.3x only"},
		{[]string{"run", "sector-overflow-32bit", "--fix", "cyclic-wrap", "--no-fix", "cyclic-wrap"}, "contradict each other"},
		{[]string{"explain", file, "--fix", "flush-conflict-double-put"}, "a replay file runs the kernel version and fixes it records"},
	} {
		code, _, errs := exit(c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, code, errs, c.want)
		}
	}
}

func TestDiffVersions(t *testing.T) {
	code, out, errs := runCLI(t, "diff-versions", "basics-fsync-3.x")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Every version calls get_block, and each section has a line per version.
	calls := regexp.MustCompile(`(?m)^  (2\.6\.12|2\.6\.2x|3\.x) +([0-9]+)$`).FindAllStringSubmatch(out, -1)
	if len(calls) != 3 {
		t.Fatalf("want a get_block count per version:\n%s", out)
	}
	for _, c := range calls {
		if n, _ := strconv.Atoi(c[2]); n == 0 {
			t.Errorf("%s: no get_block call:\n%s", c[1], out)
		}
	}
	for _, want := range []string{"write requests (", "get_block calls (", "fsync returns (", "final disk (", "failure ("} {
		if !strings.Contains(out, want) {
			t.Errorf("diff-versions lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := runCLI(t, "diff-versions", "basics-fsync-afs"); code != exitUsage || !strings.Contains(errs, "only blockfs") {
		t.Errorf("an AFS scenario: exit %d, %q", code, errs)
	}
}

// TestExplainScenarioFile: a .wbs path is a program to explain, not a
// replay file.
func TestExplainScenarioFile(t *testing.T) {
	code, out, errs := runCLI(t, "explain", filepath.Join("..", "..", "scenarios", "builtin", "first-writeback.wbs"))
	if code != exitOK || !strings.Contains(out, "=> mpage_writepages") {
		t.Fatalf("exit %d, stderr %q:\n%.500s", code, errs, out)
	}
}
