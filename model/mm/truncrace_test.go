package mm

import (
	"context"
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// truncRaceMutation selects a deliberately broken variant of the scenario.
type truncRaceMutation int

const (
	mutNone      truncRaceMutation = iota
	mutSkipPut                     // the writer forgets one page_cache_release
	mutSkipEndWB                   // one write's completion never calls end_page_writeback
	mutDoublePut                   // the writer drops one reference twice
)

// truncRaceSetup builds the truncate-vs-writeback world: a writer dirtying
// pages under i_mutex, a task running filemap_fdatawrite + fdatawait with
// a writepage whose I/O completes from an interrupt after 2 ms, and a
// truncating task (vmtruncate under i_mutex) shrinking then the file.
func truncRaceSetup(v Version, mut truncRaceMutation) func(w *sim.World) {
	return func(w *sim.World) {
		fs := &testFS{Latency: 2 * sim.Millisecond}
		k, ino := newTestKernel(w, v, fs)
		m := ino.Mapping
		k.CheckQuiescent(m)
		w.Spawn("writer", func(t *sim.Task) {
			for round := range 3 {
				for i := range uint64(10) {
					ino.IMutex.Lock(t)
					if mut == mutSkipPut && round == 1 && i == 2 {
						p := GrabCachePageWriteBegin(t, m, i, 0)
						CopyToPage(t, p, 0, content.Fill(PageSize, content.Stamp(round+1), 0))
						SetPageUptodate(t, p)
						SetPageDirty(t, p)
						UnlockPage(t, p) // ... and no page_cache_release
					} else if mut == mutDoublePut && round == 1 && i == 3 {
						p := GrabCachePageWriteBegin(t, m, i, 0)
						SetPageUptodate(t, p)
						SetPageDirty(t, p)
						UnlockPage(t, p)
						PageCacheRelease(t, p)
						PageCacheRelease(t, p)
					} else {
						writePage(t, m, i, content.Stamp(round+1))
					}
					ino.IMutex.Unlock(t)
				}
			}
		})
		w.Spawn("fsync", func(t *sim.Task) {
			if mut == mutSkipEndWB {
				fs.SkipEndOnce = map[uint64]bool{0: true}
			}
			FilemapFdatawrite(t, m)
			FilemapFdatawait(t, m)
			FilemapWriteAndWait(t, m)
		})
		w.Spawn("truncate", func(t *sim.Task) {
			ino.IMutex.Lock(t)
			VMTruncate(t, ino, 4*PageSize+100)
			ino.IMutex.Unlock(t)
		})
	}
}

func exploreTruncRace(v Version, mut truncRaceMutation, n int) sim.ExploreResult {
	return sim.Explore(context.Background(), truncRaceSetup(v, mut), sim.ExploreOptions{
		CheckDeterminism: mut == mutNone,
		Config:           sim.Config{MaxSteps: 200_000},
		Strategy:         func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, 3, k) },
		FirstSeed:        1,
		Schedules:        n,
		Workers:          2,
		CalibrateK:       true,
	})
}

func TestTruncateRacingWritebackPCT(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	for _, v := range []Version{V2_6_2x, V3x} {
		res := exploreTruncRace(v, mutNone, n)
		if len(res.Failures) > 0 {
			f := res.Failures[0].Failure
			t.Fatalf("%s: seed %d: %v\n%s", v, res.Failures[0].Seed, f, f.Report())
		}
		if res.Schedules != n {
			t.Fatalf("%s: ran %d schedules, want %d", v, res.Schedules, n)
		}
	}
}

// The mutation checks: each broken variant must be caught, with the right
// failure kind and invariant id.
func TestTruncateRaceMutationsCaught(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  truncRaceMutation
		kind sim.FailureKind
		inv  string
	}{
		{"skip page_cache_release", mutSkipPut, sim.FailInvariant, InvPageRef},
		{"double page_cache_release", mutDoublePut, sim.FailInvariant, InvPageRef},
		{"skip end_page_writeback", mutSkipEndWB, sim.FailDeadlock, sim.InvProgress},
	} {
		res := exploreTruncRace(V2_6_2x, tc.mut, 50)
		if len(res.Failures) == 0 {
			t.Errorf("%s: not caught in 50 schedules", tc.name)
			continue
		}
		f := res.Failures[0].Failure
		if f.Kind != tc.kind || f.Invariant != tc.inv {
			t.Errorf("%s: caught as %s [%s], want %s [%s]: %v", tc.name, f.Kind, f.Invariant, tc.kind, tc.inv, f)
		}
	}
}
