package main

import (
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// TestHelpExplainsSchedules: simrun --help explains the one-line schedule
// that every failure prints.
func TestHelpExplainsSchedules(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != exitOK || !strings.Contains(out, sim.LogHelp) {
		t.Errorf("--help: exit %d; want 0 and the schedule line explained:\n%s", code, out)
	}
}
