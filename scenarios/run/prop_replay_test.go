package run

import (
	"os"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// TestPropReplay replays a TestPropStack failure: WBSIM_PROP_SCENARIO is
// the failure's scenario text (a file), WBSIM_PROP_LOG its decision log
// (a file or the text). Skipped without them.
func TestPropReplay(t *testing.T) {
	path, logArg := os.Getenv("WBSIM_PROP_SCENARIO"), os.Getenv("WBSIM_PROP_LOG")
	if path == "" || logArg == "" {
		t.Skip("WBSIM_PROP_SCENARIO and WBSIM_PROP_LOG not set")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(logArg); err == nil {
		logArg = string(b)
	}
	s, err := scenarios.Parse(path, src)
	if err != nil {
		t.Fatal(err)
	}
	log, err := sim.ParseDecisionLog(strings.TrimSpace(logArg))
	if err != nil {
		t.Fatal(err)
	}
	w := sim.New(sim.Config{Seed: 1, Strategy: sim.NewReplay(log), MaxSteps: 2_000_000, MaxTime: 60 * sim.Second, TraceKeep: 64})
	if _, err := build(s.WithDefaults(), nil, nil, w, nil); err != nil {
		t.Fatal(err)
	}
	res := w.Run()
	if res.Divergence != nil {
		t.Logf("the replay diverged: %v", res.Divergence)
	}
	if res.Failure != nil {
		t.Fatalf("%s", res.Failure.Report())
	}
	t.Logf("passed: %d steps", res.Steps)
}
