package run

import (
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// crashScenario is a writer that fsyncs and crashes while another task is
// still writing; what follows the crash in the crashing task must not run
// (the read's expectation is impossible: it would fail the run).
func crashScenario(flush string) string {
	return `wbsim-scenario v1
name crash-test
kernel 3.x
fs blockfs
    fsync-flush ` + flush + `
task db
    open f /db
    write f 0+16KiB as A
    fsync f expect ok
    crash
    open g /db rdonly
    read g 0+16KiB expect zero:16KiB
task other
    open h /other
    write h 0+64KiB as B
    write h 64KiB+64KiB as C
    fsync h
check crash progress
explore
    strategy random
    schedules 30
`
}

// TestCrashEndsRun: with the flush on, what fsync promised survives the
// crash on every schedule, the other task is killed without a progress
// failure, and the ops after the crash are not run; with the flush off the
// crash check finds the loss.
func TestCrashEndsRun(t *testing.T) {
	for _, tc := range []struct {
		flush string
		want  string
	}{{"on", "ok"}, {"off", "failure crash"}} {
		s, err := scenarios.Parse("crash.wbs", []byte(crashScenario(tc.flush)+"expect "+tc.want+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		v := Check(s)
		if !v.Pass {
			t.Errorf("fsync-flush %s: %s", tc.flush, v.Msg)
			if v.Failure != nil {
				t.Log(v.Failure.Report())
			}
		}
		if tc.want != "ok" && (v.Failure == nil || !strings.Contains(v.Failure.Msg, "crash]")) {
			t.Errorf("fsync-flush %s: failure %v does not name the crash", tc.flush, v.Failure)
		}
	}
}
