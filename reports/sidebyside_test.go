package reports

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/snapshot"
)

// TestScenarioTableName: the explorer reads the table scenarios/run
// records under this name.
func TestScenarioTableName(t *testing.T) {
	if scenarioTable != srun.ScenarioTable {
		t.Fatalf("reports reads %q, scenarios/run records %q", scenarioTable, srun.ScenarioTable)
	}
}

// TestSideBySide: one scenario on the three mpage eras, serial schedule,
// gives a side-by-side page whose rows are the scenario's operations,
// each with the step at which every era began it, steps rising down the
// rows; and every run's first operation row points inside its run.
func TestSideBySide(t *testing.T) {
	base, err := scenarios.Builtin("basics-fsync-3.x")
	if err != nil {
		t.Fatal(err)
	}
	rep := &Report{Title: "side by side"}
	var labels []string
	for _, v := range []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x} {
		s := *base
		s.Kernel = v
		_, cfg, err := srun.Build(&s)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Strategy = &sim.RoundRobin{}
		rec := &snapshot.Recorder{}
		run := Capture(srun.BuildRecording(&s, srun.Options{}, rec), cfg)
		run.States = rec.Finish()
		rep.Runs = append(rep.Runs, run)
		labels = append(labels, string(v))
	}
	var buf bytes.Buffer
	if err := WriteSideBySide(&buf, "t", labels, rep); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<script id="data" type="application/json">(.*?)</script>`).FindSubmatch(buf.Bytes())
	if m == nil {
		t.Fatal("no data in the page")
	}
	var d struct {
		Runs []sideRun
		Rows []sideRow
	}
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 3 || len(d.Rows) < 4 {
		t.Fatalf("%d runs, %d rows: want 3 runs and a row per operation (open, write, fsync, ...)", len(d.Runs), len(d.Rows))
	}
	for i, row := range d.Rows {
		for j, s := range row.Steps {
			if s < 0 || s >= len(rep.Runs[j].Events) {
				t.Errorf("row %d (%s %s): step %d on %s is outside its run (%d events)", i, row.Task, row.Op, s, labels[j], len(rep.Runs[j].Events))
			}
			if i > 0 && s < d.Rows[i-1].Steps[j] {
				t.Errorf("row %d (%s): step %d on %s comes before the previous operation's %d", i, row.Op, s, labels[j], d.Rows[i-1].Steps[j])
			}
		}
	}
}
