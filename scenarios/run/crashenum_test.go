package run

import (
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// crashWorkload writes A and fsyncs it, writes B (not synced: the
// flusher writes it back into the disk's cache), and crashes as crash
// says; the after crash block opens the file and runs after.
func crashWorkload(flush, crash, after, schedules string) string {
	return `wbsim-scenario v1
name crash-workload
kernel 3.x
fs blockfs
    fsync-flush ` + flush + `
    latency 50us
vm
    flusher on interval 5ms expire 1ms
task db
    open f /db
    write f 0+8KiB as A
    fsync f expect ok
    write f 8KiB+8KiB as B
    sleep 20ms
    ` + crash + `
    after crash
        open g /db rdonly
        ` + after + `
check crash
explore
    schedules ` + schedules + `
`
}

func parseOrFatal(t *testing.T, src string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("crash.wbs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runOne runs s's first schedule and returns its result and the crash
// states note of its trace ("" if none).
func runOne(t *testing.T, s *scenarios.Scenario) (*sim.Result, string) {
	t.Helper()
	setup, cfg, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	w := sim.New(cfg)
	setup(w)
	r := w.Run()
	note := ""
	for _, ev := range w.Trace().Events() {
		if ev.Op == "crash_states" {
			note = ev.Msg
		}
	}
	return r, note
}

// TestCrashEnumerate: with the flush honoured, every crash state keeps
// what fsync promised, and the after crash read finds it; with it
// ignored, states lose it: the failure names the first failed state and
// the others, and the trace says how many were checked. The failure
// replays: the same seed gives the same message.
func TestCrashEnumerate(t *testing.T) {
	s := parseOrFatal(t, crashWorkload("on", "crash enumerate", "read g 0+8KiB expect A:8KiB", "4"))
	r, note := runOne(t, s)
	if !r.OK() {
		t.Fatalf("flush on: %s", r.Failure.Report())
	}
	if note == "" || strings.Contains(note, "1 crash state ") || !strings.Contains(note, " 0 failed") {
		t.Errorf("flush on: note %q, want several states, none failed", note)
	}

	s = parseOrFatal(t, crashWorkload("off", "crash enumerate", "read g 0+8KiB expect A:8KiB", "4"))
	r, note = runOne(t, s)
	if r.OK() || r.Failure.Invariant != "crash" || !strings.Contains(r.Failure.Msg, "crash state 0 of") {
		t.Fatalf("flush off: %v, want a crash failure naming state 0", r.Failure)
	}
	if strings.Contains(note, " 0 failed") {
		t.Errorf("flush off: note %q", note)
	}
	again, _ := runOne(t, s)
	if again.Failure == nil || again.Failure.Msg != r.Failure.Msg {
		t.Errorf("replay: %v, want %q", again.Failure, r.Failure.Msg)
	}

	s = parseOrFatal(t, crashWorkload("off", "crash enumerate max 1", "read g 0+8KiB", "4"))
	if r, _ = runOne(t, s); r.OK() || !strings.Contains(r.Failure.Msg, "crash state 0 of 1 (capped at 1: there are more); 1 failed: 0]") {
		t.Errorf("max 1: %v", r.Failure)
	}
}

// TestCrashAfterBlock: the after crash block's reads are judged on each
// state: a wrong expectation fails (expect), naming the state; reads
// stop at the file's size.
func TestCrashAfterBlock(t *testing.T) {
	s := parseOrFatal(t, crashWorkload("on", "crash enumerate max 3", "read g 0+8KiB expect zero:8KiB", "4"))
	r, _ := runOne(t, s)
	if r.OK() || r.Failure.Invariant != InvExpect || !strings.Contains(r.Failure.Msg, "crash state 0 of 2; 2 failed: 0, 1") {
		t.Fatalf("wrong expectation: %v", r.Failure)
	}
	s = parseOrFatal(t, crashWorkload("on", "crash enumerate", "read g 16KiB+4KiB expect eof", "4"))
	if r, _ := runOne(t, s); !r.OK() {
		t.Fatalf("read past the end: %s", r.Failure.Report())
	}
}

// TestCrashModes: with the flush ignored, drop-all loses what fsync
// promised and keep-all (a battery-backed cache) keeps it; keep-random
// and tear lose it in some schedules and replay by seed.
func TestCrashModes(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want string // "ok", "fail", or "some": fails in some schedules
	}{{"crash drop-all", "fail"}, {"crash keep-all", "ok"}, {"crash keep-random", "some"}, {"crash tear", "some"}} {
		s := parseOrFatal(t, crashWorkload("off", tc.mode, "read g 0+8KiB", "40"))
		switch v := Check(s); {
		case tc.want == "ok" && v.Failure != nil:
			t.Errorf("%s: %s", tc.mode, v.Msg)
		case tc.want != "ok" && (v.Failure == nil || v.Found != "crash"):
			t.Errorf("%s: %s, want a crash failure", tc.mode, v.Msg)
		case tc.want == "fail" && !strings.Contains(v.Failure.Msg, "["):
			t.Errorf("%s: %s", tc.mode, v.Failure.Msg)
		}
		a, _ := runOne(t, s)
		b, _ := runOne(t, s)
		if a.Hash != b.Hash {
			t.Errorf("%s: the same seed gave traces %x and %x", tc.mode, a.Hash, b.Hash)
		}
	}
}

// TestCrashRepairs: a 64 KiB file of 1 KiB blocks needs an indirect
// block; with the flush ignored a crash loses it, and the remount's fsck
// frees the blocks it pointed at, which the failure reports.
func TestCrashRepairs(t *testing.T) {
	s := parseOrFatal(t, `wbsim-scenario v1
name crash-repair
kernel 3.x
fs blockfs
    block-size 1024
    fsync-flush off
task db
    open f /db
    write f 0+64KiB as A
    fsync f
    crash
check crash
`)
	r, _ := runOne(t, s)
	if r.OK() || !strings.Contains(r.Failure.Explain, "fsck repaired the crashed image before the remount: Block bitmap differences: -(") {
		t.Fatalf("%v", r.Failure)
	}
}

// TestStat: stat finds i_size (generic_fillattr) in a task and after a
// crash, where an after crash write (appended) grows the state's copy and
// a read finds the write's data; a wrong size fails the expectation.
func TestStat(t *testing.T) {
	src := func(size string) string {
		return `wbsim-scenario v1
name stat
kernel 3.x
fs blockfs
task db
    open f /db
    write f 0+6000 as A
    stat f expect size 6000
    fsync f
    crash enumerate
    after crash
        open g /db append
        stat g expect size 6000
        write g 100 as P
        stat g expect size ` + size + `
        read g 6000+200 expect P:100
        read g 0+6000 expect A:6000
check crash
`
	}
	if r, _ := runOne(t, parseOrFatal(t, src("6100"))); !r.OK() {
		t.Fatalf("%s", r.Failure.Report())
	}
	r, _ := runOne(t, parseOrFatal(t, src("6000")))
	if r.OK() || r.Failure.Invariant != InvExpect || !strings.Contains(r.Failure.Msg, "returned size 6100, expected size 6000") {
		t.Fatalf("wrong size: %v", r.Failure)
	}
}
