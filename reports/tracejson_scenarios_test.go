package reports

import (
	"bytes"
	"os"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
)

// TestTraceJSONOfBuiltinScenarios: for every built-in scenario, a seed
// under random walk and one under PCT (a different pair per scenario;
// WBSIM_LONG=1 runs eight of each) give a well-formed trace
// (checkTraceJSON), and across them the traces show faults, failures,
// disk I/O and bio flows (submission to completion) and page counters,
// so that none of the checks is vacuous.
func TestTraceJSONOfBuiltinScenarios(t *testing.T) {
	all, err := scenarios.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	seeds := uint64(1)
	if os.Getenv("WBSIM_LONG") != "" {
		seeds = 8
	}
	var faults, fails, diskFlows, bioFlows, counters int
	for i, s := range all {
		setup, cfg, err := srun.Build(s)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		var runs []*Run
		for j := range seeds {
			seed := uint64(i)*seeds + j + 1
			c := cfg
			c.Seed, c.Strategy = seed, sim.NewRandom(seed)
			r := Capture(setup, c)
			c.Strategy = sim.NewPCT(seed, 2, r.Result.Steps)
			runs = append(runs, r, Capture(setup, c))
		}
		for _, r := range runs {
			r.Program = s.Name
		}
		var buf bytes.Buffer
		if err := WriteTraceJSON(&buf, runs); err != nil {
			t.Fatal(err)
		}
		evs := parseChrome(t, buf.Bytes())
		if err := checkTraceJSON(evs, runs); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		for _, e := range evs {
			switch {
			case e.Ph == "i" && e.Cat == "fault":
				faults++
			case e.Ph == "i" && e.Cat == "fail":
				fails++
			case e.Ph == "f" && e.Name == "disk I/O":
				diskFlows++
			case e.Ph == "f" && e.Name == "bio":
				bioFlows++
			case e.Ph == "C" && e.Name == "pages dirty":
				counters++
			}
		}
	}
	if faults == 0 || fails == 0 || diskFlows == 0 || bioFlows == 0 || counters == 0 {
		t.Errorf("over %d scenarios: %d fault instants, %d failure instants, %d disk I/O flows, %d bio flows, %d dirty-page counter samples; want each > 0",
			len(all), faults, fails, diskFlows, bioFlows, counters)
	}
}
