package reports

import (
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/snapshot"
)

// TaskInfo describes one task of a captured run.
type TaskInfo struct {
	ID     int32
	Name   string
	Daemon bool
	IRQ    bool
}

// Run is one run captured with its whole trace, ready to render as a
// narrated trace, a timeline and a Chrome trace.
type Run struct {
	Program  string // the program's name: a planted race, scenario or bug seed
	Title    string // what this run is, e.g. "minimal failing schedule"
	Strategy string // how its schedule was chosen, e.g. "pct depth=2 k=8"
	Seed     uint64
	Tasks    []TaskInfo  // every task, by id
	Events   []sim.Event // every event kept, oldest first
	Result   *sim.Result
	// Complete is false when events were left out: early ones dropped by
	// the trace ring, or (Omitted > 0) the middle of a long captured run.
	Complete bool
	// Omitted counts the events left out between Events[Gap-1] and
	// Events[Gap]: Capture keeps the first CaptureHead and the last
	// CaptureTail events of a long run.
	Omitted int64
	Gap     int
	// States is the model's state at every step, for the explorer (nil
	// when the run was captured without recording it).
	States *snapshot.Log
}

// Trim is r with at most n events: its first n/2 and last n - n/2 kept
// events, the rest counted as omitted (r itself if it has at most n).
func (r *Run) Trim(n int) *Run {
	if len(r.Events) <= n {
		return r
	}
	h := n / 2
	if r.Omitted > 0 {
		// The cut must cover the gap Capture left: keep at most its head
		// before it and its tail after it.
		h = max(min(h, r.Gap), n-r.TailLen())
	}
	t := n - h
	c := *r
	c.Events = append(r.Events[:h:h], r.Events[len(r.Events)-t:]...)
	c.Omitted = r.Omitted + int64(len(r.Events)-n)
	c.Gap = h
	c.Complete = false
	return &c
}

// TailLen is the number of events kept after the gap.
func (r *Run) TailLen() int { return len(r.Events) - r.Gap }

// Failed reports whether the run ended in a failure.
func (r *Run) Failed() bool { return r.Result != nil && r.Result.Failure != nil }

// TaskName is the name of task id, or "[world]" for events outside tasks.
func (r *Run) TaskName(id int32) string {
	if id >= 0 && int(id) < len(r.Tasks) {
		return r.Tasks[id].Name
	}
	return "[world]"
}

// A captured run keeps at most the first CaptureHead and the last
// CaptureTail events, and counts the ones between (Run.Omitted): so
// capturing a long run costs little memory and its reports stay small
// (index.html under 10 MB, trace.json and trace.txt a few MB). A
// teaching run is far shorter and is kept whole.
const (
	CaptureHead = 5000
	CaptureTail = 5000
)

// Capture runs setup's world under cfg and returns the captured run: every
// event of a run of at most CaptureHead+CaptureTail events, else the first
// and last ones. cfg.TraceKeep is overridden; the run, its result and
// trace hash are the same as uncaptured.
func Capture(setup func(*sim.World), cfg sim.Config) *Run {
	cfg.TraceKeep = CaptureTail
	w := sim.New(cfg)
	var head []sim.Event
	w.Observe(func(_ *sim.World, ev *sim.Event) {
		if len(head) < CaptureHead {
			head = append(head, *ev)
		}
	})
	setup(w)
	res := w.Run()
	r := FromWorld(w, res)
	tail := r.Events // the ring: the last min(total, CaptureTail) events
	total := w.Trace().Total()
	if missing := total - int64(len(tail)); missing > 0 {
		n := min(missing, int64(len(head)))
		r.Events = append(head[:n:n], tail...)
		r.Gap, r.Omitted = int(n), missing-n
	}
	r.Complete = r.Omitted == 0
	return r
}

// FromWorld captures a world that has run, with res its result.
func FromWorld(w *sim.World, res *sim.Result) *Run {
	r := &Run{Seed: res.Seed, Result: res, Events: w.Trace().Events()}
	for _, t := range w.Tasks() {
		r.Tasks = append(r.Tasks, TaskInfo{ID: t.ID(), Name: t.Name(), Daemon: t.Daemon(), IRQ: t.IRQ()})
	}
	r.Complete = int64(len(r.Events)) == w.Trace().Total()
	return r
}
