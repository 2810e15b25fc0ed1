package afs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// op is one step of a writer task.
type op struct {
	kind     string // "write", "fsync", "sleep" (len is the time)
	pos, len int64
}

// workload is a small scenario for exploration: writer tasks (each with a
// key and a list of ops), background writeback tasks, an optional final
// fsync once every writer is done, a fault plan and the fixes in force.
type workload struct {
	name    string
	fixes   Fixes
	plan    string
	nkeys   int
	writers []writerSpec
	// writebacks is the number of background writeback tasks; each calls
	// do_writepages (WB_SYNC_NONE, range_cyclic) wbRounds times, sleeping
	// wbSleep before each round.
	writebacks int
	wbRounds   int
	wbSleep    sim.Time
	// randomWrites, if > 0, gives each writer that many writes at offsets
	// drawn from the world's random source within maxPages pages, then an
	// fsync.
	randomWrites int
	maxPages     int64
	finalSync    bool // a closer task fsyncs once every writer is done
	noLostWrite  bool // the server must equal the oracle at the end
}

type writerSpec struct {
	key int
	ops []op
}

// setup builds one world of the workload.
func (wl *workload) setup(tb testing.TB) func(w *sim.World) {
	var plan *faultdisk.Plan
	if wl.plan != "" {
		plan = mustPlan(tb, wl.plan)
	}
	return func(w *sim.World) {
		r := newRig(tb, w, wl.fixes, plan, max(wl.nkeys, 1))
		writers := wl.writers
		if wl.randomWrites > 0 {
			writers = nil
			rng := w.Rand()
			for i := range len(wl.writers) {
				ws := writerSpec{key: wl.writers[i].key}
				for range wl.randomWrites {
					pos := rng.Int64N(wl.maxPages * mm.PageSize)
					n := 1 + rng.Int64N(min(wl.maxPages*mm.PageSize-pos, 2*mm.PageSize))
					ws.ops = append(ws.ops, op{kind: "write", pos: pos, len: n})
				}
				ws.ops = append(ws.ops, op{kind: "fsync"})
				writers = append(writers, ws)
			}
		}
		done := 0
		var doneQ sim.WaitQueue
		doneQ.Name = "writers done"
		for i, ws := range writers {
			f := r.v.OpenNoTask(r.keys[ws.key])
			w.Spawn(fmt.Sprintf("writer%d", i), func(t *sim.Task) {
				for _, o := range ws.ops {
					switch o.kind {
					case "write":
						r.write(t, f, o.pos, o.len)
					case "fsync":
						r.fsyncChecked(t, f)
					case "sleep":
						t.Sleep(sim.Time(o.len))
					}
				}
				done++
				doneQ.WakeUpAll(t)
			})
		}
		for i := range wl.writebacks {
			w.Spawn(fmt.Sprintf("writeback%d", i), func(t *sim.Task) {
				for range max(wl.wbRounds, 1) {
					if wl.wbSleep > 0 {
						t.Sleep(wl.wbSleep)
					}
					wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024, RangeCyclic: true}
					mm.DoWritepages(t, r.v.Mapping(), wbc)
				}
			})
		}
		if wl.finalSync {
			f := r.v.OpenNoTask(r.keys[0])
			w.Spawn("closer", func(t *sim.Task) {
				doneQ.WaitEvent(t, func() bool { return done == len(writers) })
				r.fsyncChecked(t, f)
			})
		}
		r.quiescentChecks()
		if wl.noLostWrite {
			r.noLostWrite()
		}
	}
}

// explore runs the workload under strategy ("pct" or "random") for n
// schedules and returns every failure (KeepGoing).
func (wl *workload) explore(tb testing.TB, strategy string, n int, keepGoing bool) sim.ExploreResult {
	opts := sim.ExploreOptions{
		Config:    sim.Config{MaxSteps: 100_000},
		Schedules: n,
		FirstSeed: 1,
		KeepGoing: keepGoing,
		Workers:   2,
	}
	switch strategy {
	case "pct":
		opts.CalibrateK = true
		opts.Strategy = func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, 3, k) }
	default:
		opts.Strategy = func(seed uint64, _ int64) sim.Strategy { return sim.NewRandom(seed) }
	}
	return sim.Explore(context.Background(), wl.setup(tb), opts)
}

// invariants counts the failures by invariant (or kind).
func invariants(res sim.ExploreResult) map[string]int {
	m := map[string]int{}
	for _, r := range res.Failures {
		id := r.Failure.Invariant
		if id == "" {
			id = string(r.Failure.Kind)
		}
		m[id]++
	}
	return m
}

func summary(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

const schedules = 2000

// cleanWorkload is 3 writers with 3 keys, 3 writes each at random offsets
// in 4 pages then an fsync, one background writeback task, and a closer's
// fsync at the end; no faults. Set fixes before use.
func cleanWorkload() workload {
	return workload{name: "clean", nkeys: 3,
		writers:      []writerSpec{{key: 0}, {key: 1}, {key: 2}},
		randomWrites: 3, maxPages: 4, writebacks: 1, wbRounds: 2, wbSleep: sim.Millisecond,
		finalSync: true, noLostWrite: true}
}

// TestExploreCleanAllFixes: 3 writers with 3 keys write at random offsets
// and fsync, a background writeback task runs, a closer fsyncs at the end;
// all fixes on, no faults. Under PCT and random walk, 2,000 schedules
// each: no invariant fires, no deadlock, every fsync is durable, and the
// server ends equal to the oracle.
func TestExploreCleanAllFixes(t *testing.T) {
	wl := cleanWorkload()
	wl.fixes = AllFixes()
	for _, strat := range []string{"pct", "random"} {
		res := wl.explore(t, strat, schedules, false)
		if len(res.Failures) > 0 {
			f := res.Failures[0]
			t.Fatalf("%s: seed %d failed after %d schedules: %s\n%s", strat, f.Seed, res.Schedules,
				f.Failure.Report(), f.Log)
		}
		t.Logf("%s: %d schedules clean, %.0f steps/schedule, %s", strat, res.Schedules,
			float64(res.Steps)/float64(res.Schedules), res.Elapsed)
	}
}

// TestExploreDeterministic: every schedule of the clean workload replays
// to the same trace hash.
func TestExploreDeterministic(t *testing.T) {
	wl := cleanWorkload()
	wl.fixes = AllFixes()
	opts := sim.ExploreOptions{Config: sim.Config{MaxSteps: 100_000}, Schedules: 200, FirstSeed: 1,
		Strategy:         func(seed uint64, _ int64) sim.Strategy { return sim.NewRandom(seed) },
		CheckDeterminism: true, Workers: 2}
	if res := sim.Explore(context.Background(), wl.setup(t), opts); len(res.Failures) > 0 {
		t.Fatal(res.Failures[0].Failure.Report())
	}
}
