package reports

import (
	"bytes"
	"html"
	"slices"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// TestTimelineHidesIdleLanes: a task with no event among those drawn (one
// whose events fell in a long run's left-out start, or one that never
// ran) gets no lane; the report says which tasks it left out. Every other
// task keeps its lane.
func TestTimelineHidesIdleLanes(t *testing.T) {
	full := captureBuiltin(t, "first-writeback", 1)
	idle := slices.IndexFunc(full.Tasks, func(ti TaskInfo) bool { return ti.Name == "pdflush" })
	if idle < 0 {
		t.Fatal("first-writeback has no pdflush task")
	}
	r := *full
	r.Events = slices.DeleteFunc(slices.Clone(full.Events), func(ev sim.Event) bool { return ev.Task == full.Tasks[idle].ID })
	tl := buildTimeline(&r)
	var lanes []string
	for _, l := range tl.Lanes {
		if l.Kind == "task" {
			lanes = append(lanes, l.Name)
		}
	}
	var want []string
	for i, ti := range full.Tasks {
		if i != idle {
			want = append(want, ti.Name)
		}
	}
	if !slices.Equal(lanes, want) || !slices.Equal(tl.Hidden, []string{"pdflush (daemon)"}) {
		t.Errorf("task lanes %v, hidden %v; want lanes %v and pdflush hidden", lanes, tl.Hidden, want)
	}

	var buf bytes.Buffer
	if err := WriteHTML(&buf, &Report{Result: NewResult("run"), Runs: []*Run{&r}}); err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(buf.String())
	if !strings.Contains(page, "Not drawn: 1 task with no event in this run (pdflush (daemon)).") {
		t.Error("the report does not say which task it left out of the timeline")
	}
	if !strings.Contains(page, `id="schedule-help"`) || !strings.Contains(page, sim.LogHelp) {
		t.Error("the report does not explain the schedule line")
	}
}
