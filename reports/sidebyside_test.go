package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
	rep, labels := threeEras(t)
	var buf bytes.Buffer
	if err := WriteSideBySide(&buf, "t", labels, rep); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Runs []sideRun
		Rows []sideRow
	}
	d.Runs, d.Rows = sideData(t, buf.Bytes())
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

// threeEras is basics-fsync-3.x's serial run on the three mpage eras,
// recorded, as diff-versions --html captures it.
func threeEras(t testing.TB) (*Report, []string) {
	t.Helper()
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
	return rep, labels
}

// sideData reads the side-by-side page's data.
func sideData(t testing.TB, page []byte) (runs []sideRun, rows []sideRow) {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script id="data" type="application/json">(.*?)</script>`).FindSubmatch(page)
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
	return d.Runs, d.Rows
}

// TestBrowserSideBySide opens side-by-side.html in headless Chromium:
// both sides load (each reports its step to the page); clicking an
// operation moves the left side to the step its era began it and the
// right side to its own era's; no console error, no request elsewhere.
func TestBrowserSideBySide(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if inCI(os.Getenv("CI")) {
			t.Fatal("chromium not found, and CI is set: install it (apt-get install -y chromium) or set WBSIM_CHROMIUM")
		}
		t.Skip("chromium not found (apt-get install -y chromium); not in CI, so skipping")
	}
	rep, labels := threeEras(t)
	dir := t.TempDir()
	var ex, sbs bytes.Buffer
	if err := WriteExplorer(&ex, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteSideBySide(&sbs, "side by side", labels, rep); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{ExplorerFile: ex.Bytes(), SideBySideFile: sbs.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, rows := sideData(t, sbs.Bytes())
	ctx, problems := startChromium(t, bin)
	where := func(want string) string {
		t.Helper()
		var got string
		for range 50 {
			var err error
			got, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("where").textContent`))
			if err != nil {
				t.Fatal(err)
			}
			if got == want {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		return got
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.Join(dir, SideBySideFile)), chromedp.WaitReady(chromedp.CSS("#rows"))); err != nil {
		t.Fatal(err)
	}
	if got, want := where("left: 2.6.12 at step 0 · right: 2.6.2x at step 0"), "left: 2.6.12 at step 0 · right: 2.6.2x at step 0"; got != want {
		t.Fatalf("on load: %q, want %q", got, want)
	}
	i := 2 // the third operation
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf("#rows tr:nth-child(%d)", i+1)))); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("left: 2.6.12 at step %d · right: 2.6.2x at step %d", rows[i].Steps[0], rows[i].Steps[1])
	if got := where(want); got != want {
		t.Errorf("after clicking %s: %q, want %q", rows[i].Op, got, want)
	}
	for _, p := range problems() {
		t.Errorf("page problem: %s", p)
	}
}
