package sim

import (
	"context"
	"iter"
	"testing"
)

// BenchmarkRawCoroSwitch is the floor: one bare iter.Pull resume/yield
// round trip, with nothing else.
func BenchmarkRawCoroSwitch(b *testing.B) {
	next, stop := iter.Pull(func(yield func(int) bool) {
		for i := 0; ; i++ {
			if !yield(i) {
				return
			}
		}
	})
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		next()
	}
}

// BenchmarkSchedulerDecision is one scheduling point with 4 runnable tasks
// under Random: yield, pick, resume, trace record. Target: at most 3x
// BenchmarkRawCoroSwitch in the same run, 0 allocs/op.
func BenchmarkSchedulerDecision(b *testing.B) {
	b.ReportAllocs()
	n := int64(b.N)
	w := New(Config{Seed: 1, Strategy: NewRandom(1), MaxSteps: n + 100})
	obj := Obj{Class: "page", A: 1}
	for range 4 {
		w.Spawn("t", func(t *Task) {
			for t.World().Step() < n {
				t.Point("set_page_dirty", obj, 0)
			}
		})
	}
	b.ResetTimer()
	if r := w.Run(); !r.OK() {
		b.Fatal(r.Failure)
	}
}

// tiny is a 3-task program of about 50 scheduling points with a mutex.
func tiny(w *World) {
	var m Mutex
	m.Name = "m"
	for _, name := range []string{"a", "b", "c"} {
		w.Spawn(name, func(t *Task) {
			for range 4 {
				m.Lock(t)
				t.Point("work", Obj{}, 0)
				t.Point("work", Obj{}, 1)
				m.Unlock(t)
			}
		})
	}
}

// BenchmarkExploreTiny reports schedules/s for a 3-task, ~50-step program
// on a single worker.
func BenchmarkExploreTiny(b *testing.B) {
	b.ReportAllocs()
	var steps int64
	for b.Loop() {
		res := Explore(context.Background(), tiny, ExploreOptions{
			Strategy:  func(seed uint64, _ int64) Strategy { return NewRandom(seed) },
			Schedules: 100,
		})
		if len(res.Failures) != 0 {
			b.Fatal(res.Failures[0].Failure)
		}
		steps += res.Steps
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "schedules/s")
	b.ReportMetric(float64(steps)/float64(b.N*100), "steps/schedule")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPointNoSwitch is one scheduling point with 4 runnable tasks
// where the strategy keeps the running task (RoundRobin, no preemption):
// the strategy is asked in the task's own goroutine and no coroutine
// switch happens. Untraced, as Explore runs schedules; "traced" adds the
// trace hash every point pays under simrun run. Target (untraced): at most
// 0.4x BenchmarkRawCoroSwitch in the same run, 0 allocs/op.
func BenchmarkPointNoSwitch(b *testing.B) {
	for _, traced := range []bool{false, true} {
		name := "untraced"
		if traced {
			name = "traced"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := int64(b.N)
			w := New(Config{Seed: 1, Strategy: &RoundRobin{}, MaxSteps: n + 100, Untraced: !traced})
			obj := Obj{Class: "page", A: 1}
			for range 4 {
				w.Spawn("t", func(t *Task) {
					for t.World().Step() < n {
						t.Point("set_page_dirty", obj, 0)
					}
				})
			}
			b.ResetTimer()
			if r := w.Run(); !r.OK() {
				b.Fatal(r.Failure)
			}
		})
	}
}
