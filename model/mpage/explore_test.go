package mpage_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/sim"
)

// raceSetup is the race scenario: two writers, a background writeback
// task, an fsync and a truncate on one file. The block size and the write
// path (buffer heads or nobh) vary with the seed.
func raceSetup(v mm.Version, fixes mpage.Fixes) func(w *sim.World) {
	return func(w *sim.World) {
		bs := []uint{1024, 4096}[w.Seed()%2]
		nobh := bs == mm.PageSize && w.Seed()/2%2 == 1
		e := newEnvOn(w, envOpts{version: v, cfg: mpage.Config{Fixes: fixes},
			fs: blockfs.Options{BlockSize: bs, Nobh: nobh}, latency: 30 * sim.Microsecond})
		f := e.newFile(40)
		m := f.ino.Mapping
		e.k.CheckQuiescent(m, e.bdev.Inode.Mapping)
		w.Spawn("writer1", func(t *sim.Task) {
			f.write(t, 0, 4*mm.PageSize, 1)
			f.write(t, 5000, 6000, 3)
			f.write(t, 7*mm.PageSize, 2*mm.PageSize+300, 5)
		})
		w.Spawn("writer2", func(t *sim.Task) {
			f.write(t, 2*mm.PageSize+100, 3*mm.PageSize, 2)
			f.write(t, 100, 9000, 4)
		})
		w.Spawn("writeback", func(t *sim.Task) {
			for range 4 {
				wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 4, RangeCyclic: v != mm.V2_6_12}
				mm.DoWritepages(t, m, wbc)
				t.CondResched()
			}
		})
		w.Spawn("fsync", func(t *sim.Task) {
			mm.FilemapWriteAndWait(t, m)
			mm.FilemapWriteAndWait(t, m)
		})
		w.Spawn("truncate", func(t *sim.Task) {
			f.setSize(t, 3*mm.PageSize+10)
			f.setSize(t, 6*mm.PageSize)
		})
	}
}

// TestExploreRaces: under PCT exploration (depths 2 and 3, 2,000
// schedules each per version) of the race scenario with every fix on, no
// invariant fires on any version: page-state, page-ref and bio-shape (and
// the rest: any failure fails the test).
func TestExploreRaces(t *testing.T) {
	schedules := 2000
	if testing.Short() {
		schedules = 200
	}
	for _, v := range versions {
		for _, depth := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/pct%d", v, depth), func(t *testing.T) {
				exploreRaces(t, v, depth, schedules)
			})
		}
	}
}

func exploreRaces(t *testing.T, v mm.Version, depth, schedules int) {
	res := sim.Explore(context.Background(), raceSetup(v, mpage.AllFixes()), sim.ExploreOptions{
		Config:     sim.Config{MaxSteps: 200_000, TraceKeep: 16},
		Strategy:   func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, depth, k) },
		FirstSeed:  1,
		Schedules:  schedules,
		Workers:    runtime.GOMAXPROCS(0),
		KeepGoing:  true,
		CalibrateK: true,
	})
	t.Logf("%s pct%d: %d schedules, %d steps (k=%d), %v", v, depth, res.Schedules, res.Steps, res.K, res.Elapsed)
	for i, r := range res.Failures {
		if i == 3 {
			t.Errorf("... and %d more failures", len(res.Failures)-3)
			break
		}
		t.Errorf("seed %d: %s\n  %s", r.Seed, r.Failure.Report(), r.Log)
	}
}

// TestDeterminism: the same seed gives the same trace hash, run twice,
// for the race scenario on every version (no map order, no wall clock).
func TestDeterminism(t *testing.T) {
	for _, v := range versions {
		res := sim.Explore(context.Background(), raceSetup(v, mpage.AllFixes()), sim.ExploreOptions{
			Config:           sim.Config{MaxSteps: 200_000, TraceKeep: 16},
			Strategy:         func(seed uint64, k int64) sim.Strategy { return sim.NewRandom(seed) },
			FirstSeed:        1,
			Schedules:        100,
			Workers:          runtime.GOMAXPROCS(0),
			KeepGoing:        true,
			CheckDeterminism: true,
		})
		for _, r := range res.Failures {
			if r.Failure.Kind == sim.FailNondeterminism {
				t.Errorf("%s: %s", v, r.Failure.Msg)
			}
		}
	}
}
