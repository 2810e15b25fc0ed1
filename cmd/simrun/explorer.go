package main

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/wbsim/wbsim/reports"
	"github.com/wbsim/wbsim/scenarios"
	srun "github.com/wbsim/wbsim/scenarios/run"
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

// unrecorded is p without state recording, for a traced run that writes
// no explorer page (explain, a run or replay without --out, shrink's
// check): recording reads every page at every step, which a long run pays
// for in seconds.
func (p *program) unrecorded() *program {
	q := *p
	q.Record = nil
	return &q
}

// writeSideBySide runs each era's scenario under the serial schedule,
// traced and recorded, and writes explorer.html (one run per era) and
// side-by-side.html into dir; it returns the side-by-side page's path.
func writeSideBySide(dir, name string, eras []*scenarios.Scenario) (string, error) {
	rep := &reports.Report{Title: "simrun diff-versions " + name}
	var labels []string
	for _, s := range eras {
		setup, cfg, err := srun.BuildWith(s, srun.Options{})
		if err != nil {
			return "", err
		}
		cfg.Strategy = &sim.RoundRobin{}
		run := capture(&program{Name: name, Setup: setup,
			Record: func(rec *snapshot.Recorder) func(*sim.World) { return srun.BuildRecording(s, srun.Options{}, rec) }}, cfg)
		run.Program, run.Title, run.Strategy = name, "on "+string(s.Kernel), "serial (rr)"
		rep.Runs = append(rep.Runs, run)
		labels = append(labels, string(s.Kernel))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var ex, sbs bytes.Buffer
	if err := reports.WriteExplorer(&ex, rep); err != nil {
		return "", err
	}
	if err := reports.WriteSideBySide(&sbs, rep.Title, labels, rep); err != nil {
		return "", err
	}
	if err := reports.WriteFileAtomic(filepath.Join(dir, reports.ExplorerFile), ex.Bytes()); err != nil {
		return "", err
	}
	page := filepath.Join(dir, reports.SideBySideFile)
	if err := reports.WriteFileAtomic(page, sbs.Bytes()); err != nil {
		return "", err
	}
	if abs, err := filepath.Abs(page); err == nil {
		page = abs
	}
	return page, nil
}
