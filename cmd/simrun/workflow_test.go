package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
)

// userScenario is a scenario of a user's own that fails on every schedule
// (its fsync is wrongly expected to fail) and whose name is a built-in's:
// a replay must run this file, never the built-in.
const userScenario = `wbsim-scenario v1
name first-writeback
description
    A user's scenario that shares its name with a built-in.

kernel 3.x
fs blockfs
    block-size 1024

task a
    open f /data
    write f 0+4KiB as A
    fsync f expect EIO

explore
    strategy random
    schedules 4
`

// inUserDir writes user.wbs into a fresh directory, makes it the current
// directory for the test and returns it.
func inUserDir(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "user.wbs"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return dir
}

func TestReplayOfAUserScenario(t *testing.T) {
	dir := inUserDir(t, userScenario)
	code, _, stderr := runCLI(t, "explore", "user.wbs", "--out", "o", "--progress", "off")
	if code != exitFailures {
		t.Fatalf("explore exit %d, want 1: %s", code, stderr)
	}
	r := readResult(t, "o")
	rel := r.Programs[0].Failures[0].Replay
	data, err := os.ReadFile(filepath.Join("o", rel))
	if err != nil {
		t.Fatal(err)
	}
	f, err := reports.ParseReplay(string(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(userScenario))
	if f.Program != "user.wbs" || f.ProgramSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("replay file names program %q sha256 %q, want user.wbs and the file's hash:\n%s", f.Program, f.ProgramSHA256, data)
	}
	if !strings.HasPrefix(string(data), "wbsim-replay v3\n") {
		t.Errorf("a replay file with program-sha256 must be v3:\n%s", data)
	}
	abs := filepath.Join(dir, "o", rel)

	// From the scenario's directory, by any path to the replay file: the
	// exact failure is reproduced.
	for _, cmd := range [][]string{{"replay", abs}, {"explain", abs}, {"shrink", abs, "-o", filepath.Join(t.TempDir(), "m.replay")}} {
		// replay: 0 is the recorded failure reproduced exactly.
		code, stdout, stderr := runCLI(t, cmd...)
		if code != exitOK || strings.Contains(stderr, "warning") {
			t.Errorf("%v: exit %d, want 0\n%s%s", cmd, code, stdout, stderr)
		}
		if cmd[0] == "replay" && !strings.Contains(stdout, "user.wbs") {
			t.Errorf("replay does not name the scenario file:\n%s", stdout)
		}
	}

	// From another directory the scenario is found above the replay file
	// (o/replays/ is below the directory that ran simrun), with the
	// recorded contents.
	t.Chdir(t.TempDir())
	code, stdout, stderr := runCLI(t, "replay", abs)
	if code != exitOK || strings.Contains(stderr, "warning") {
		t.Errorf("replay from elsewhere: exit %d, want 0\n%s%s", code, stdout, stderr)
	}

	// A replay file away from its scenario does not resolve: a clear
	// refusal naming the file, never the built-in of the same name.
	away := filepath.Join(t.TempDir(), "away.replay")
	if err := os.WriteFile(away, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "replay", away)
	if code != exitUsage || !strings.Contains(stderr, "user.wbs") || !strings.Contains(stderr, "not found") {
		t.Errorf("replay away from the scenario: exit %d, want 2 and an error naming user.wbs\n%s%s", code, stdout, stderr)
	}

	// The scenario changed since: a warning on stderr and in the report.
	t.Chdir(dir)
	if err := os.WriteFile("user.wbs", []byte(userScenario+"# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "replay", abs, "--out", "r")
	if !strings.Contains(stderr, "warning: user.wbs has changed since the replay file was written") {
		t.Errorf("replay of a changed scenario: exit %d, no warning\n%s%s", code, stdout, stderr)
	}
	if w := readResult(t, "r").Programs[0].Warnings; len(w) == 0 || !strings.Contains(w[0], "has changed") {
		t.Errorf("result.json warnings %q, want the changed scenario", w)
	}
}

// TestIncompleteRuns: a run that stops before its budget with no failure
// is not a pass: ok false, a stopped reason, a JUnit error, exit 3.
func TestIncompleteRuns(t *testing.T) {
	check := func(name, dir string, code int, stopped string) {
		t.Helper()
		p := readResult(t, dir).Programs[0]
		junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
		if code != exitIncomplete || p.OK || p.Stopped != stopped || p.Verdict() != reports.VerdictIncomplete ||
			!strings.Contains(string(junit), `<error message="incomplete: stopped (`+stopped+`)`) {
			t.Errorf("%s: exit %d, ok %v, stopped %q, verdict %s; want exit 3, not ok, stopped %s and a JUnit error\n%s",
				name, code, p.OK, p.Stopped, p.Verdict(), stopped, junit)
		}
	}
	dir := t.TempDir()
	code, _, _ := runCLI(t, "explore", "first-writeback", "--time", "1ns", "--out", dir, "--progress", "off")
	check("--time 1ns", dir, code, reports.StoppedTimeLimit)
	if p := readResult(t, dir).Programs[0]; p.Schedules != 0 {
		t.Errorf("--time 1ns ran %d schedules", p.Schedules)
	}

	shard := t.TempDir()
	if code, _, stderr := runCLI(t, "explore", "first-writeback", "--schedules", "4", "--shard", "0/2", "--out", shard, "--progress", "off"); code != exitOK {
		t.Fatalf("shard 0/2: exit %d %s", code, stderr)
	}
	merged := t.TempDir()
	code, _, _ = runCLI(t, "merge", shard, "--out", merged)
	check("merge of 1 of 2 shards", merged, code, reports.StoppedMissingShards)
}

// TestExpectHonoured: run and explore judge a scenario against its
// expect line: the expected failure found is a pass, reported as
// expected; a failure in a scenario that expects none is a failure.
func TestExpectHonoured(t *testing.T) {
	dir := t.TempDir()
	code, stdout, _ := runCLI(t, "explore", "sector-overflow-32bit", "--schedules", "5", "--out", dir, "--progress", "off")
	p := readResult(t, dir).Programs[0]
	junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	html, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if code != exitOK || !p.OK || p.Verdict() != reports.VerdictExpected || p.ExpectFailure != "read-correct" ||
		!p.Failures[0].Expected || strings.Contains(string(junit), "<failure") || !strings.Contains(string(html), "(expected)") ||
		!strings.Contains(stdout, "verdict: expected") {
		t.Errorf("explore of a bug seed: exit %d, verdict %s, %+v\n%s\n%s", code, p.Verdict(), p, stdout, junit)
	}
	// With its fix on, the same scenario expects every schedule to pass.
	code, stdout, _ = runCLI(t, "run", "sector-overflow-32bit", "--fix", "sector-overflow")
	if code != exitOK || !strings.Contains(stdout, "passed") {
		t.Errorf("run with the fix: exit %d\n%s", code, stdout)
	}
	// A user's scenario without expect: its failure is a failure.
	inUserDir(t, userScenario)
	code, stdout, _ = runCLI(t, "run", "user.wbs")
	if code != exitFailures || !strings.Contains(stdout, "FAILED") {
		t.Errorf("run of a failing scenario: exit %d\n%s", code, stdout)
	}
}

// TestDiffVersionsVerdict: a version failing unexpectedly is exit 1; the
// failure a bug seed expects is marked expected and passes.
func TestDiffVersionsVerdict(t *testing.T) {
	code, stdout, _ := runCLI(t, "diff-versions", "sector-overflow-32bit")
	if code != exitOK || !strings.Contains(stdout, "2.6.12  (expected) read-correct") {
		t.Errorf("diff-versions of a bug seed: exit %d\n%s", code, stdout)
	}
	inUserDir(t, userScenario)
	code, stdout, _ = runCLI(t, "diff-versions", "user.wbs")
	if code != exitFailures || !strings.Contains(stdout, "verdict: FAIL: unexpected failure on 2.6.12, 2.6.2x, 3.x") {
		t.Errorf("diff-versions of a failing scenario: exit %d\n%s", code, stdout)
	}
}

// TestMergeReadsOnlyInsideShards: a result.json naming a replay file
// outside its directory, by path or by symlink, is refused.
func TestMergeReadsOnlyInsideShards(t *testing.T) {
	inUserDir(t, userScenario)
	if code, _, stderr := runCLI(t, "explore", "user.wbs", "--out", "s", "--progress", "off"); code != exitFailures {
		t.Fatalf("explore: exit %d %s", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join("s", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	rel := readResult(t, "s").Programs[0].Failures[0].Replay
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("not for the report\n"), 0o644)
	for _, c := range []struct{ name, replay string }{
		{"dot-dot path", "../../../../../../../../" + secret},
		{"absolute path", secret},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(filepath.Join("s", "result.json"), []byte(strings.ReplaceAll(string(data), `"`+rel+`"`, `"`+c.replay+`"`)), 0o644)
			out := t.TempDir()
			code, _, stderr := runCLI(t, "merge", "s", "--out", out)
			if code != exitUsage || !strings.Contains(stderr, "outside its shard directory") {
				t.Errorf("merge: exit %d, stderr %q; want 2 and a refusal", code, stderr)
			}
			if b, err := os.ReadFile(filepath.Join(out, "replays", "secret")); err == nil {
				t.Errorf("merge copied the file outside the shard: %s", b)
			}
		})
	}
	// A replay file that is a symlink out of the shard directory.
	os.WriteFile(filepath.Join("s", "result.json"), data, 0o644)
	os.Remove(filepath.Join("s", rel))
	if err := os.Symlink(secret, filepath.Join("s", rel)); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, "merge", "s", "--out", out)
	if code != exitUsage || !strings.Contains(stderr, "outside its shard directory") {
		t.Errorf("merge of a symlinked replay file: exit %d, stderr %q; want 2 and a refusal", code, stderr)
	}
}

// bigWrite is a scenario whose one write touches size bytes of a disk of
// capacity bytes.
func bigWrite(size, capacity string) string {
	return `wbsim-scenario v1
name big-write
kernel 3.x
fs blockfs
    block-size 4096
    capacity ` + capacity + `

task a
    open f /data
    write f 0+` + size + ` as A

explore
    strategy random
    schedules 2
`
}

// TestMemoryBudget: a run estimated to need more memory than the budget
// is refused before it starts, naming the estimate and the flag.
func TestMemoryBudget(t *testing.T) {
	inUserDir(t, bigWrite("1GiB", "2GiB"))
	code, _, stderr := runCLI(t, "explore", "user.wbs", "--workers", "4", "--memory-budget", "1GiB", "--out", "o")
	if code != exitUsage || !strings.Contains(stderr, "user.wbs needs about 2.0 GiB of memory, 4 worlds at once") ||
		!strings.Contains(stderr, "the memory budget is 1.0 GiB (--memory-budget)") {
		t.Errorf("explore over budget: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat("o"); err == nil {
		t.Error("a refused run wrote its output directory")
	}
	for _, c := range [][]string{{"run", "user.wbs"}, {"explain", "user.wbs"}} {
		if code, _, stderr := runCLI(t, append(c, "--memory-budget", "64MiB")...); code != exitUsage || !strings.Contains(stderr, "needs about") {
			t.Errorf("%v over budget: exit %d, %s", c, code, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "run", "user.wbs", "--memory-budget", "lots"); code != exitUsage || !strings.Contains(stderr, "-memory-budget") {
		t.Errorf("a bad --memory-budget: exit %d, %s", code, stderr)
	}
}

// TestScenarioMemoryBudget: a scenario's explore "memory" is the budget
// when --memory-budget is not given, and the refusal names that setting;
// --memory-budget on the command line overrides it.
func TestScenarioMemoryBudget(t *testing.T) {
	withMemory := func(src, size string) string {
		return strings.Replace(src, "explore\n", "explore\n    memory "+size+"\n", 1)
	}
	inUserDir(t, withMemory(bigWrite("1GiB", "2GiB"), "64MiB"))
	for _, c := range [][]string{{"run", "user.wbs"}, {"explore", "user.wbs"}, {"explain", "user.wbs"}} {
		code, _, stderr := runCLI(t, c...)
		if code != exitUsage || !strings.Contains(stderr, "the memory budget is 64.0 MiB (the scenario's explore memory setting at user.wbs:13:5;") {
			t.Errorf("%v over the scenario's budget: exit %d, %s", c, code, stderr)
		}
	}
	// The flag's 4GiB, not the scenario's 64MiB, judges: eight worlds of
	// 513 MiB do not fit, and the refusal names the flag.
	code, _, stderr := runCLI(t, "explore", "user.wbs", "--workers", "8", "--memory-budget", "4GiB", "--out", "o")
	if code != exitUsage || !strings.Contains(stderr, "the memory budget is 4.0 GiB (--memory-budget)") {
		t.Errorf("explore with --memory-budget 4GiB: exit %d, %s", code, stderr)
	}
	// A small write over a small declared budget runs once the flag
	// raises it.
	if err := os.WriteFile("small.wbs", []byte(withMemory(bigWrite("256KiB", "64MiB"), "1MiB")), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "run", "small.wbs"); code != exitUsage || !strings.Contains(stderr, "the scenario's explore memory setting") {
		t.Errorf("run over the scenario's 1MiB: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "run", "small.wbs", "--memory-budget", "2MiB"); code != exitOK {
		t.Errorf("run with --memory-budget 2MiB over the scenario's 1MiB: exit %d, %s", code, stderr)
	}
}

// TestLongRunReportsAreCapped: the reports of a long run keep its first
// and last events and say what they left out; index.html stays small.
func TestLongRunReportsAreCapped(t *testing.T) {
	inUserDir(t, bigWrite("8MiB", "64MiB"))
	if code, _, stderr := runCLI(t, "run", "user.wbs", "--out", "o"); code != exitOK {
		t.Fatalf("run: exit %d %s", code, stderr)
	}
	for name, limit := range map[string]int64{"index.html": 10 << 20, "trace.json": 5 << 20, "trace.txt": 3 << 20} {
		st, err := os.Stat(filepath.Join("o", name))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join("o", name))
		if st.Size() > limit || !strings.Contains(string(data), "left out") {
			t.Errorf("%s: %d bytes (limit %d), says what it left out: %v", name, st.Size(), limit, strings.Contains(string(data), "left out"))
		}
	}
}

// TestExpectTrace: "expect trace FILE" compares run's narrated trace with
// a golden file next to the scenario; --rewrite writes it.
func TestExpectTrace(t *testing.T) {
	inUserDir(t, `wbsim-scenario v1
name golden-trace
kernel 3.x
fs blockfs
    block-size 1024

task a
    open f /data
    write f 0+1KiB as A
    fsync f expect ok

expect trace golden/run.trace
`)
	if code, _, stderr := runCLI(t, "run", "user.wbs"); code != exitUsage || !strings.Contains(stderr, "golden/run.trace") || !strings.Contains(stderr, "--rewrite") {
		t.Errorf("a missing golden file: exit %d, %s", code, stderr)
	}
	if code, stdout, _ := runCLI(t, "run", "user.wbs", "--rewrite"); code != exitOK || !strings.Contains(stdout, "wrote the golden trace") {
		t.Fatalf("--rewrite: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := runCLI(t, "run", "user.wbs"); code != exitOK || !strings.Contains(stdout, "matches the golden trace") {
		t.Errorf("the same run: exit %d\n%s", code, stdout)
	}
	golden := filepath.Join("golden", "run.trace")
	data, _ := os.ReadFile(golden)
	os.WriteFile(golden, []byte(strings.Replace(string(data), "vfs_write", "vfs_wrote", 1)), 0o644)
	code, stdout, _ := runCLI(t, "run", "user.wbs", "--out", "o")
	if code != exitFailures || !strings.Contains(stdout, "differs from the golden trace") || !strings.Contains(stdout, "vfs_wrote") {
		t.Errorf("a changed golden file: exit %d\n%s", code, stdout)
	}
	p := readResult(t, "o").Programs[0]
	if p.OK || p.TraceDiff == "" || p.TraceGolden != golden {
		t.Errorf("result.json: ok %v, golden %q, diff %q", p.OK, p.TraceGolden, p.TraceDiff)
	}
	if code, _, stderr := runCLI(t, "run", "first-writeback", "--rewrite"); code != exitUsage || !strings.Contains(stderr, "no \"expect trace FILE\"") {
		t.Errorf("--rewrite without expect trace: exit %d, %s", code, stderr)
	}
}

// TestMergeOfAUserScenario: merge re-runs a user's scenario file for the
// timeline, not the built-in of the same name.
func TestMergeOfAUserScenario(t *testing.T) {
	inUserDir(t, userScenario)
	runCLI(t, "explore", "user.wbs", "--out", "s", "--progress", "off")
	code, _, stderr := runCLI(t, "merge", "s", "--out", "m")
	trace, _ := os.ReadFile(filepath.Join("m", "trace.txt"))
	if code != exitFailures || !strings.Contains(string(trace), "returned 0, expected EIO") {
		t.Errorf("merge: exit %d, %s; the trace is not the user's scenario's failure:\n%.800s", code, stderr, trace)
	}
	if p := readResult(t, "m").Programs[0]; p.Path != "user.wbs" || p.ProgramSHA256 == "" {
		t.Errorf("merged result names path %q sha256 %q", p.Path, p.ProgramSHA256)
	}
}

// TestExploreTakesTheScenarioSeed: a scenario's "explore seed" is the
// first seed unless --seed is given.
func TestExploreTakesTheScenarioSeed(t *testing.T) {
	inUserDir(t, strings.Replace(userScenario, "    schedules 4\n", "    schedules 4\n    seed 7\n", 1))
	runCLI(t, "explore", "user.wbs", "--out", "a", "--progress", "off")
	runCLI(t, "explore", "user.wbs", "--seed", "3", "--out", "b", "--progress", "off")
	if a, b := readResult(t, "a").Programs[0].Seeds.First, readResult(t, "b").Programs[0].Seeds.First; a != 7 || b != 3 {
		t.Errorf("first seeds %d (want the scenario's 7) and %d (want --seed 3)", a, b)
	}
}

// TestPagesTouchedCountsRepeats: a write inside "repeat N" counts N times
// (each iteration can write new pages: f_pos moves on), nested repeats
// multiply, and a "repeat until" block counts once.
func TestPagesTouchedCountsRepeats(t *testing.T) {
	s, err := scenarios.Parse("r.wbs", []byte(`wbsim-scenario v1
name r
kernel afs-2.6.3x
fs afs
    key k
    file /f
task a
    open f /f as k
    repeat 10
        write f 8KiB as A
        repeat 3
            read f 0+4KiB
task b
    open g /f as k
    repeat until a done
        write g 4KiB as B
`))
	if err != nil {
		t.Fatal(err)
	}
	// a: 10 × (2 + 3 × 1) pages; b: one iteration of 1 page.
	if got, want := pagesTouched(s), int64(10*(2+3*1)+1); got != want {
		t.Errorf("pagesTouched = %d, want %d", got, want)
	}
}

// TestShrinkElsewhereNamesTheScenarioFromThere: shrink run from another
// directory, writing there, names the scenario as found from there, so
// the shrunk file replays from that directory and from anywhere above.
func TestShrinkElsewhereNamesTheScenarioFromThere(t *testing.T) {
	dir := inUserDir(t, userScenario)
	if code, _, stderr := runCLI(t, "explore", "user.wbs", "--out", "o", "--progress", "off"); code != exitFailures {
		t.Fatalf("explore exit %d: %s", code, stderr)
	}
	rel := readResult(t, "o").Programs[0].Failures[0].Replay
	other := filepath.Join(dir, "elsewhere")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(other)
	src := filepath.Join("..", "o", rel)
	if code, out, stderr := runCLI(t, "shrink", src, "-o", "min.replay"); code != exitOK {
		t.Fatalf("shrink from elsewhere: exit %d\n%s%s", code, out, stderr)
	}
	data, err := os.ReadFile("min.replay")
	if err != nil {
		t.Fatal(err)
	}
	f, err := reports.ParseReplay(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if f.Program != "../user.wbs" {
		t.Errorf("the shrunk file names %q, want ../user.wbs (the scenario from where shrink ran)", f.Program)
	}
	for _, from := range []string{other, t.TempDir()} {
		t.Chdir(from)
		if code, out, stderr := runCLI(t, "replay", filepath.Join(other, "min.replay")); code != exitOK {
			t.Errorf("replay from %s: exit %d\n%s%s", from, code, out, stderr)
		}
	}
}
