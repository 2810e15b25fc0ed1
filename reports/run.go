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
	Events   []sim.Event // every event, oldest first
	Result   *sim.Result
	// Complete is false when the trace ring dropped early events (the
	// world was not run with TraceKeep < 0).
	Complete bool
	// States is the model's state at every step, for the explorer (nil
	// when the run was captured without recording it).
	States *snapshot.Log
}

// Failed reports whether the run ended in a failure.
func (r *Run) Failed() bool { return r.Result != nil && r.Result.Failure != nil }

// TaskName is the name of task id, or "[world]" for events outside tasks.
func (r *Run) TaskName(id int32) string {
	if id >= 0 && int(id) < len(r.Tasks) {
		return r.Tasks[id].Name
	}
	return "[world]"
}

// Capture runs setup's world under cfg, keeping every event, and returns
// the captured run. cfg.TraceKeep is overridden.
func Capture(setup func(*sim.World), cfg sim.Config) *Run {
	cfg.TraceKeep = -1
	w := sim.New(cfg)
	setup(w)
	res := w.Run()
	return FromWorld(w, res)
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
