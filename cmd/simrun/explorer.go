package main

import (
	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/snapshot"
)

// capture runs p under cfg with the whole trace kept: the traced replay
// of a report. A scenario's run also records the model's state at every
// step, for the report's explorer page; exploring never does, so only
// the replay pays for it.
func capture(p *program, cfg sim.Config) *reports.Run {
	if p.Record == nil {
		return reports.Capture(p.Setup, cfg)
	}
	rec := &snapshot.Recorder{}
	run := reports.Capture(p.Record(rec), cfg)
	run.States = rec.Finish()
	return run
}
