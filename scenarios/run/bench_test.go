package run

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// BenchmarkReference runs the reference scenarios (tag reference) the way
// issue 9 measures them: schedules/s on one worker and on GOMAXPROCS
// workers, bytes allocated per schedule, allocations and nanoseconds per
// step, under the random walk and "serial", the instrumentation-overhead
// baseline: the same scenario through the same scheduling points, none of
// which ever switches (RoundRobin with quantum 0). One op is one
// exploration of the scenario's own budget of schedules.
func BenchmarkReference(b *testing.B) {
	all := []struct {
		name     string
		versions []scenarios.KernelVersion
	}{
		{"afs-3writers-fsync", nil},
		{"mpage-2writers-flusher-fsync", []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x}},
		{"mpage-truncate-race", nil},
	}
	strategies := []struct {
		name string
		f    sim.StrategyFactory
	}{
		{"random", func(seed uint64, _ int64) sim.Strategy { return sim.NewRandom(seed) }},
		{"serial", func(uint64, int64) sim.Strategy { return &sim.RoundRobin{Quantum: 0} }},
		{"pct-d3", func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, 3, k) }}, // k from CalibrateK
	}
	for _, ref := range all {
		s, err := scenarios.Builtin(ref.name)
		if err != nil {
			b.Fatal(err)
		}
		versions := ref.versions
		if versions == nil {
			versions = []scenarios.KernelVersion{s.Kernel}
		}
		for _, v := range versions {
			c := *s
			c.Kernel = v
			setup, cfg, err := Build(&c)
			if err != nil {
				b.Fatalf("%s on %s: %v", ref.name, v, err)
			}
			for _, st := range strategies {
				for _, workers := range []struct {
					name string
					n    int
				}{{"1", 1}, {"all", runtime.GOMAXPROCS(0)}} {
					name := fmt.Sprintf("scenario=%s/version=%s/strategy=%s/workers=%s", ref.name, v, st.name, workers.name)
					b.Run(name, func(b *testing.B) {
						benchExplore(b, setup, sim.ExploreOptions{
							Config:     cfg,
							Strategy:   st.f,
							Schedules:  c.Explore.Schedules,
							Workers:    workers.n,
							CalibrateK: st.name == "pct-d3",
						})
					})
				}
			}
		}
	}
}

// benchExplore runs opts once per op and reports per-schedule and per-step
// rates; ns/op is set to 0 because an op is a batch, not a unit.
func benchExplore(b *testing.B, setup func(*sim.World), opts sim.ExploreOptions) {
	var before, after runtime.MemStats
	var steps int64
	schedules := 0
	runtime.ReadMemStats(&before)
	for b.Loop() {
		res := sim.Explore(context.Background(), setup, opts)
		if len(res.Failures) != 0 {
			b.Fatal(res.Failures[0].Failure.Report())
		}
		steps += res.Steps
		schedules += res.Schedules
	}
	runtime.ReadMemStats(&after)
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(schedules)/sec, "schedules/s")
	b.ReportMetric(float64(steps)/float64(schedules), "steps/schedule")
	b.ReportMetric(sec*1e9/float64(steps), "ns/step")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(schedules), "B/schedule")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(steps), "allocs/step")
	b.ReportMetric(0, "ns/op")
}
