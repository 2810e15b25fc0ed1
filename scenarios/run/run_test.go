package run

import (
	"testing"

	"github.com/wbsim/wbsim/scenarios"
)

// TestBuiltins: every built-in scenario meets its expectation.
func TestBuiltins(t *testing.T) {
	all, err := scenarios.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			v := Check(s)
			t.Logf("%s: pass=%v schedules=%d found=%q in %v: %s", s.Name, v.Pass, v.Schedules, v.Found, v.Elapsed, v.Msg)
			if !v.Pass {
				if v.Failure != nil {
					t.Logf("%s", v.Failure.Report())
				}
				t.Errorf("%s: %s", s.Name, v.Msg)
			}
		})
	}
}
