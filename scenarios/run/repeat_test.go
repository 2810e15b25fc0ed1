package run

import (
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

func checkText(t *testing.T, src string) Verdict {
	t.Helper()
	s, err := scenarios.Parse("r.wbs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return Check(s)
}

// "repeat N" runs its block N times, each write with fresh data: the
// label names the last iteration's, so the first iteration's bytes are
// not A's.
func TestRepeatCountRunsTheBlockNTimes(t *testing.T) {
	const head = `wbsim-scenario v1
name r
kernel 3.x
fs blockfs
task w
    open f /a
    repeat 3
        write f 4KiB as A
`
	if v := checkText(t, head+"    read f 8KiB+4KiB expect A:4KiB\n    read f 12KiB expect eof\nexplore\n    strategy rr\nexpect ok\n"); !v.Pass {
		t.Fatalf("three appends, the last is A: %s", v.Msg)
	}
	v := checkText(t, head+"    read f 0+4KiB expect A:4KiB\nexplore\n    strategy rr\nexpect ok\n")
	if v.Pass || v.Failure == nil || v.Failure.Invariant != InvExpect {
		t.Fatalf("the first iteration's data is not the label's: %s", v.Msg)
	}
}

// "repeat until TASK done" keeps a writer writing while another task
// fsyncs, and stops once that task is done.
func TestRepeatUntilStopsWhenTheTaskIsDone(t *testing.T) {
	v := checkText(t, `wbsim-scenario v1
name r
kernel 3.x
fs blockfs
task writer
    open f /a
    repeat until syncer done
        write f 0+4KiB as A
        sleep 100us
    close f
task syncer
    open g /a
    sleep 1ms
    fsync g expect ok
    close g
explore
    schedules 20
expect ok
`)
	if !v.Pass {
		t.Fatalf("%s", v.Msg)
	}
}

// Two tasks that each repeat until the other is done never end: the step
// or time budget ends the run, and the failure says which repeats.
func TestRepeatUntilEachOtherIsBoundedByTheBudget(t *testing.T) {
	v := checkText(t, `wbsim-scenario v1
name r
kernel 3.x
fs blockfs
task a
    repeat until b done
        sleep 1ms
task b
    repeat until a done
        sleep 1ms
explore
    strategy rr
    time 1s
`)
	f := v.Failure
	if f == nil || f.Kind != sim.FailTimeBudget {
		t.Fatalf("want a time-budget failure, got %v", v.Msg)
	}
	for _, want := range []string{"a repeats until b is done", "b repeats until a is done", "repeat at r.wbs:6:5"} {
		if !strings.Contains(f.Explain, want) {
			t.Errorf("explanation %q lacks %q", f.Explain, want)
		}
	}
	if !strings.Contains(f.Msg, "(iteration ") {
		t.Errorf("message %q does not say the iteration", f.Msg)
	}
	// A block that never sleeps still ends: at the step budget.
	v = checkText(t, `wbsim-scenario v1
name r
kernel 3.x
fs blockfs
task a
    repeat until b done
        signal b
task b
    repeat until a done
        signal a
explore
    strategy rr
    steps 10000
`)
	if v.Failure == nil || v.Failure.Kind != sim.FailLivelock || !strings.Contains(v.Failure.Explain, "repeats until") {
		t.Fatalf("want a livelock failure naming the repeats, got %v", v.Msg)
	}
}

// A failure inside a repeat says which iteration.
func TestRepeatFailurePositionNamesTheIteration(t *testing.T) {
	v := checkText(t, `wbsim-scenario v1
name r
kernel 3.x
fs blockfs
task w
    open f /a
    repeat 2
        repeat 3
            fsync f expect EIO
explore
    strategy rr
`)
	if v.Failure == nil || !strings.Contains(v.Failure.Msg, "r.wbs:9:13 (iteration 1 of the repeat at 8:9, iteration 1 of the repeat at 7:5)") {
		t.Fatalf("got %v", v.Msg)
	}
}
