package run

import (
	"slices"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/snapshot"
)

// recorded runs seed of builtin scenario name traced, once plainly and
// once recording the state, and returns the recorded world's events and
// log. Recording must only read: both runs have the same trace hash.
func recorded(t *testing.T, name string, seed uint64) ([]sim.Event, *sim.Result, *snapshot.Log) {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	setup, cfg, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed, cfg.TraceKeep = seed, -1
	cfg.Strategy = factory(s.WithDefaults().Explore.Strategy)(seed, 200)
	plain := sim.New(cfg)
	setup(plain)
	want := plain.Run()

	rec := &snapshot.Recorder{}
	cfg.Strategy = factory(s.WithDefaults().Explore.Strategy)(seed, 200)
	w := sim.New(cfg)
	BuildRecording(s, Options{}, rec)(w)
	got := w.Run()
	log := rec.Finish()
	if got.Hash != want.Hash {
		t.Fatalf("%s seed %d: recording changed the run: hash %016x, %016x without", name, seed, got.Hash, want.Hash)
	}
	ev := w.Trace().Events()
	if len(log.Frames) != len(ev)+1 {
		t.Fatalf("%s: %d frames for %d events, want one more frame than events", name, len(log.Frames), len(ev))
	}
	return ev, got, log
}

// replayState applies frames [0, n] of log and returns table -> key -> cells.
func replayState(log *snapshot.Log, n int) map[string]map[string][]string {
	st := map[string]map[string][]string{}
	for i := 0; i <= n; i++ {
		f := log.Frames[i]
		if f.Key {
			st = map[string]map[string][]string{}
		}
		for _, c := range f.Changes {
			name := log.Tables[c.Table].Name
			if st[name] == nil {
				st[name] = map[string][]string{}
			}
			if c.Cells == nil {
				delete(st[name], c.Key)
			} else {
				st[name][c.Key] = c.Cells
			}
		}
	}
	return st
}

// TestRecordingBlockFS: a 3.x fsync run records every page of the file,
// shows one under writeback at some step with its WRITEBACK tag, a write
// bio that goes from in flight to done, and a clean, written-back page at
// the end; the last frame rebuilt from keyframe and deltas matches a
// fresh capture.
func TestRecordingBlockFS(t *testing.T) {
	ev, _, log := recorded(t, "basics-fsync-3.x", 1)
	var names []string
	for _, ti := range log.Tables {
		names = append(names, ti.Name)
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "pages of /") }) ||
		!slices.Contains(names, "bios") || !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "mapping and inode of /") }) {
		t.Fatalf("tables %v: want pages, mapping and bios tables", names)
	}
	sawWB, sawInFlight, sawDone := false, false, false
	for i := range ev {
		st := replayState(log, i+1)
		for name, rows := range st {
			for _, cells := range rows {
				switch {
				case strings.HasPrefix(name, "pages of "):
					if cells[3] == "1" && cells[8] == "1" {
						sawWB = true
					}
				case name == "bios" && cells[1] == "WRITE":
					sawInFlight = sawInFlight || strings.HasPrefix(cells[5], "in flight")
					sawDone = sawDone || cells[5] == "done"
				}
			}
		}
	}
	if !sawWB || !sawInFlight || !sawDone {
		t.Errorf("writeback page %v, bio in flight %v, bio done %v: want all", sawWB, sawInFlight, sawDone)
	}
	last := replayState(log, len(log.Frames)-1)
	for name, rows := range last {
		if !strings.HasPrefix(name, "pages of ") {
			continue
		}
		for _, cells := range rows {
			if cells[2] != "" || cells[3] != "" {
				t.Errorf("%s page %s still dirty or under writeback at the end: %v", name, cells[0], cells)
			}
		}
	}
}

// TestRecordingAFS: an AFS run records writeback records and the server.
func TestRecordingAFS(t *testing.T) {
	ev, _, log := recorded(t, "basics-fsync-afs", 1)
	sawRecord := false
	for i := range ev {
		for name, rows := range replayState(log, i+1) {
			if strings.HasPrefix(name, "AFS writeback records of ") {
				for k := range rows {
					sawRecord = sawRecord || k != "server"
				}
			}
		}
	}
	if !sawRecord {
		t.Error("no AFS writeback record recorded at any step")
	}
}

// TestRecordingOnlyReads: for every built-in scenario, a seed's recorded
// replay has the trace hash of its plain one (recorded checks it), so
// recording the state changes nothing the model does.
func TestRecordingOnlyReads(t *testing.T) {
	all, err := scenarios.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range all {
		recorded(t, s.Name, uint64(i%7+1))
	}
}
