package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/reports"
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

	// From another directory the relative path does not resolve: a clear
	// refusal naming the file, never the built-in of the same name.
	t.Chdir(t.TempDir())
	code, stdout, stderr := runCLI(t, "replay", abs)
	if code != exitUsage || !strings.Contains(stderr, "user.wbs") || !strings.Contains(stderr, "not found") {
		t.Errorf("replay from elsewhere: exit %d, want 2 and an error naming user.wbs\n%s%s", code, stdout, stderr)
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
