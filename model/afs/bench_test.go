package afs

import (
	"context"
	"fmt"
	"testing"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// benchSetup is 3 writers, each with its own key, writing 16 pages of its
// own region one page at a time, then fsyncing; every fix on.
func benchSetup(tb testing.TB) func(w *sim.World) {
	return func(w *sim.World) {
		r := newRig(tb, w, AllFixes(), nil, 3)
		for i := range 3 {
			f := r.v.OpenNoTask(r.keys[i])
			w.Spawn(fmt.Sprintf("writer%d", i), func(t *sim.Task) {
				for p := range int64(16) {
					r.write(t, f, (int64(i)*16+p)*mm.PageSize, mm.PageSize)
				}
				if ret := r.fsyncChecked(t, f); ret != 0 {
					t.World().Failf("fsync", r.v.Obj(), "fsync returned %d", ret)
				}
			})
		}
		r.quiescentChecks()
	}
}

// BenchmarkAFSWriteFsync reports schedules/s of the 3 writers x 16 pages +
// fsync workload under the random walk on one worker.
func BenchmarkAFSWriteFsync(b *testing.B) {
	setup := benchSetup(b)
	const per = 100
	var steps int64
	for b.Loop() {
		res := sim.Explore(context.Background(), setup, sim.ExploreOptions{
			Config:    sim.Config{MaxSteps: 200_000},
			Strategy:  func(seed uint64, _ int64) sim.Strategy { return sim.NewRandom(seed) },
			Schedules: per,
			Workers:   1,
		})
		if len(res.Failures) != 0 {
			b.Fatal(res.Failures[0].Failure.Report())
		}
		steps += res.Steps
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "schedules/s")
	b.ReportMetric(float64(steps)/float64(b.N*per), "steps/schedule")
	b.ReportMetric(0, "ns/op")
}
