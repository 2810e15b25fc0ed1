package reports

import (
	"bytes"
	"html"
	"slices"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// TestTimelineHidesIdleLanes: a task with no event to show gets no lane,
// and the report says which tasks it left out; every other task keeps its
// lane. In first-writeback the flusher (pdflush, 3.x) wakes, finds nothing
// to do and exits: it only enters and leaves a function. A task whose
// events all fell in a long run's left-out start is left out too (here:
// the writer, its events removed).
func TestTimelineHidesIdleLanes(t *testing.T) {
	full := captureBuiltin(t, "first-writeback", 1)
	taskLanes := func(tl *timeline) []string {
		var lanes []string
		for _, l := range tl.Lanes {
			if l.Kind == "task" {
				lanes = append(lanes, l.Name)
			}
		}
		return lanes
	}
	want := []string{"init", "writer", "reader", "closer", "irq/sda", "irq/sda", "irq/sda", "irq/sda", "irq/sda"}
	tl := buildTimeline(full)
	if got := taskLanes(tl); !slices.Equal(got, want) || !slices.Equal(tl.Hidden, []string{"pdflush (daemon)"}) {
		t.Errorf("task lanes %v, hidden %v; want lanes %v and pdflush hidden", got, tl.Hidden, want)
	}

	writer := full.Tasks[slices.IndexFunc(full.Tasks, func(ti TaskInfo) bool { return ti.Name == "writer" })].ID
	r := *full
	r.Events = slices.DeleteFunc(slices.Clone(full.Events), func(ev sim.Event) bool { return ev.Task == writer })
	tl = buildTimeline(&r)
	if got := taskLanes(tl); slices.Contains(got, "writer") || !slices.Equal(tl.Hidden, []string{"writer", "pdflush (daemon)"}) {
		t.Errorf("without the writer's events: task lanes %v, hidden %v", got, tl.Hidden)
	}

	var buf bytes.Buffer
	if err := WriteHTML(&buf, &Report{Result: NewResult("run"), Runs: []*Run{full}}); err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(buf.String())
	if !strings.Contains(page, "Not drawn: 1 task with nothing to show in this run (pdflush (daemon)).") {
		t.Error("the report does not say which task it left out of the timeline")
	}
	if !strings.Contains(page, `id="schedule-help"`) || !strings.Contains(page, sim.LogHelp) {
		t.Error("the report does not explain the schedule line")
	}
}
