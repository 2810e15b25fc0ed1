package run_test

import (
	"testing"

	"github.com/wbsim/wbsim/wbsimtest"
)

// TestBuiltins: every built-in scenario meets its expectation, each a
// subtest (go test -run 'TestBuiltins/first-writeback'; -short caps the
// schedules of those that must pass).
func TestBuiltins(t *testing.T) {
	wbsimtest.Run(t, "../builtin/*.wbs")
}
