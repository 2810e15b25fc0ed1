package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twoFDs: two descriptions write, the device errors, the first fsync
// reports the error and the second returns 0. linux-2.6 allows that;
// errseq and errseq-once do not.
const twoFDs = `wbsim-scenario v1
name two-fds
kernel 3.x
fs blockfs
task w
    open a /data
    open b /data
    write a 0+4KiB as A
    device error
    fsync a expect EIO
    fsync b
    close a
    close b
# The second fsync's 0 is the contract's business, not fsync-durable's.
check all except fsync-durable
explore
    strategy rr
    schedules 1
`

// TestCheckFlags: --contract, --check and --no-check override the
// scenario's lines on run, explore (and its replay file), diff-versions
// and bugs; bad names exit 2 naming the flag.
func TestCheckFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "two-fds.wbs")
	if err := os.WriteFile(file, []byte(twoFDs), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitOK, "passed"},
		{[]string{"--contract", "errseq"}, exitFailures, "[fsync-error]"},
		{[]string{"--contract", "errseq-once"}, exitFailures, "[fsync-error]"},
		{[]string{"--contract", "errseq", "--no-check", "fsync-error"}, exitOK, "--no-check fsync-error"},
		{[]string{"--contract", "errseq", "--no-check", "lock,fsync-error"}, exitOK, "passed"},
	} {
		code, out, errs := runCLI(t, append([]string{"run", file}, c.args...)...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("run %v: exit %d, want %d and %q:\n%s%s", c.args, code, c.code, c.want, out, errs)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", file, "--check", "fsync-eror"}, "--check fsync-eror: unknown invariant; the invariants are "},
		{[]string{"run", file, "--no-check", "nope"}, "--no-check nope: unknown invariant"},
		{[]string{"run", file, "--contract", "posix"}, `--contract: unknown fsync-error contract "posix"`},
		{[]string{"run", file, "--check", "crash"}, "--check crash: the invariant does not apply to two-fds"},
		{[]string{"run", file, "--check", "lock", "--no-check", "lock"}, "--check lock and --no-check lock contradict each other"},
		{[]string{"explore", file, "--no-check", "nope"}, "--no-check nope: unknown invariant"},
		{[]string{"diff-versions", file, "--check", "nope"}, "--check nope: unknown invariant"},
		{[]string{"bugs", "--id", "fsyncgate", "--no-check", "nope"}, "--no-check nope: unknown invariant"},
		{[]string{"run", "abba-deadlock", "--contract", "errseq"}, "--no-check and --seed-exact apply to scenarios"},
	} {
		code, out, errs := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s%s", c.args, code, exitUsage, c.want, out, errs)
		}
	}

	// explore records the contract in the replay file, and replay runs it.
	out := t.TempDir()
	if code, stdout, errs := runCLI(t, "explore", file, "--contract", "errseq", "--out", out); code != exitFailures {
		t.Fatalf("explore --contract errseq: exit %d\n%s%s", code, stdout, errs)
	}
	replays, _ := filepath.Glob(filepath.Join(out, "replays", "*.replay"))
	if len(replays) == 0 {
		t.Fatal("no replay file")
	}
	text, _ := os.ReadFile(replays[0])
	if !strings.Contains(string(text), "\ncontract: errseq\n") {
		t.Errorf("the replay file does not record the contract:\n%s", text)
	}

	// A built-in's replay file with a contract replays exactly.
	out = t.TempDir()
	if code, stdout, errs := runCLI(t, "explore", "eio-ten-fds-3.x", "--contract", "errseq-once", "--out", out); code != exitFailures {
		t.Fatalf("explore eio-ten-fds-3.x --contract errseq-once: exit %d\n%s%s", code, stdout, errs)
	}
	replays, _ = filepath.Glob(filepath.Join(out, "replays", "*.replay"))
	if len(replays) == 0 {
		t.Fatal("no replay file")
	}
	if code, stdout, errs := runCLI(t, "replay", replays[0]); code != exitOK || !strings.Contains(stdout, "replay: exact") {
		t.Errorf("replay: exit %d\n%s%s", code, stdout, errs)
	}

	// diff-versions runs under the flag's contract: the scenario expects
	// no failure, so fsync-error under errseq fails it.
	if code, stdout, errs := runCLI(t, "diff-versions", file, "--contract", "errseq"); code != exitFailures || !strings.Contains(stdout, "fsync-error") {
		t.Errorf("diff-versions --contract errseq: exit %d\n%s%s", code, stdout, errs)
	}
}
