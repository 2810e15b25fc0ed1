package sim

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// abba is the classic lock-order deadlock: A takes a then b, B takes b
// then a. It deadlocks only if A is preempted between its two locks.
func abba(w *World) {
	var a, b Mutex
	a.Name, b.Name = "a", "b"
	w.Spawn("A", func(t *Task) {
		a.Lock(t)
		b.Lock(t)
		b.Unlock(t)
		a.Unlock(t)
	})
	w.Spawn("B", func(t *Task) {
		b.Lock(t)
		a.Lock(t)
		a.Unlock(t)
		b.Unlock(t)
	})
}

func TestABBAIsCleanWithoutPreemption(t *testing.T) {
	w := New(Config{Seed: 1})
	abba(w)
	if r := w.Run(); !r.OK() {
		t.Fatalf("round robin without preemption must pass, got %v", r.Failure)
	}
}

func TestDFSFindsABBAWithBoundOne(t *testing.T) {
	res := ExhaustiveSearch(abba, DFSOptions{Bound: 0})
	if len(res.Failures) != 0 || !res.Exhausted {
		t.Fatalf("bound 0: want exhausted and clean, got %d failures, exhausted=%v", len(res.Failures), res.Exhausted)
	}
	res = ExhaustiveSearch(abba, DFSOptions{Bound: 1})
	if len(res.Failures) == 0 {
		t.Fatalf("bound 1: DFS did not find the ABBA deadlock in %d schedules", res.Schedules)
	}
	f := res.Failures[0].Failure
	if f.Kind != FailDeadlock || f.Invariant != InvProgress {
		t.Fatalf("want a deadlock, got %v", f)
	}
	report := f.Report()
	for _, want := range []string{"task A", "task B", "mutex a", "mutex b", "held by task"} {
		if !strings.Contains(report, want) {
			t.Errorf("deadlock report lacks %q:\n%s", want, report)
		}
	}
	t.Logf("DFS found ABBA after %d schedules:\n%s", res.Schedules, report)
}

func TestDFSExhaustsSmallSpace(t *testing.T) {
	clean := func(w *World) {
		var m Mutex
		for _, n := range []string{"A", "B"} {
			w.Spawn(n, func(t *Task) { m.Lock(t); t.Yield(); m.Unlock(t) })
		}
	}
	r1 := ExhaustiveSearch(clean, DFSOptions{Bound: 1})
	r2 := ExhaustiveSearch(clean, DFSOptions{Bound: 2})
	if !r1.Exhausted || !r2.Exhausted || len(r1.Failures)+len(r2.Failures) != 0 {
		t.Fatalf("want clean exhausted searches, got %+v %+v", r1, r2)
	}
	if r2.Schedules <= r1.Schedules || r1.Schedules < 2 {
		t.Fatalf("a larger bound must explore more schedules: bound1=%d bound2=%d", r1.Schedules, r2.Schedules)
	}
}

func TestPCTFindsABBAWithin1000(t *testing.T) {
	res := Explore(context.Background(), abba, ExploreOptions{
		Strategy:   func(seed uint64, k int64) Strategy { return NewPCT(seed, 2, k) },
		Schedules:  1000,
		CalibrateK: true,
	})
	if len(res.Failures) == 0 {
		t.Fatalf("PCT d=2 did not find ABBA in 1000 schedules (k=%d)", res.K)
	}
	t.Logf("PCT d=2 found ABBA at schedule %d (k=%d)", res.Schedules, res.K)
}

// orderingBug is a depth-2 bug: B must run after A's first write and
// before its second.
func orderingBug(m int) func(w *World) {
	return func(w *World) {
		x, y := 0, 0
		w.Spawn("A", func(t *Task) {
			t.Point("x=1", Obj{}, 0)
			x = 1
			for range m {
				t.Point("work", Obj{}, 0)
			}
			y = 1
		})
		w.Spawn("B", func(t *Task) {
			t.Point("check", Obj{}, 0)
			t.BUG_ON(x == 1 && y == 0, Obj{Class: "var", A: 1}, "saw x set but not y")
		})
	}
}

func hitRate(setup func(*World), runs int, strat StrategyFactory) (rate float64, k int64) {
	res := Explore(context.Background(), setup, ExploreOptions{
		Strategy: strat, Schedules: runs, KeepGoing: true, CalibrateK: true, Workers: 2,
	})
	return float64(len(res.Failures)) / float64(res.Schedules), res.K
}

func TestPCTDepth2MeetsItsBound(t *testing.T) {
	const n = 2
	rate, k := hitRate(orderingBug(8), 2000, func(seed uint64, k int64) Strategy { return NewPCT(seed, 2, k) })
	bound := 1 / float64(n*k)
	t.Logf("depth-2 ordering bug: PCT d=2 hit rate %.4f over 2000 runs; bound 1/(n·k) = %.4f (k=%d)", rate, bound, k)
	if rate < bound {
		t.Fatalf("PCT d=2 hit rate %.4f below its guarantee %.4f", rate, bound)
	}
}

// hardCase is the PCT paper's example of a bug random walk almost never
// finds: B's check must come after every one of A's m steps.
func hardCase(m int) func(w *World) {
	return func(w *World) {
		done := false
		w.Spawn("A", func(t *Task) {
			for range m {
				t.Point("step", Obj{}, 0)
			}
			done = true
		})
		w.Spawn("B", func(t *Task) {
			t.Point("check", Obj{}, 0)
			t.BUG_ON(done, Obj{Class: "var", A: 2}, "B ran after all of A")
		})
	}
}

func TestPCTHardCase(t *testing.T) {
	rw, _ := hitRate(hardCase(20), 2000, func(seed uint64, _ int64) Strategy { return NewRandom(seed) })
	pct, _ := hitRate(hardCase(20), 2000, func(seed uint64, k int64) Strategy { return NewPCT(seed, 1, k) })
	t.Logf("hard case (m=20): random walk hit rate %.4f, PCT d=1 hit rate %.4f", rw, pct)
	if rw > 0.01 {
		t.Errorf("random walk should almost never find it, hit %.4f", rw)
	}
	if pct < 0.4 || pct > 0.6 {
		t.Errorf("PCT d=1 should find it about half the time, hit %.4f", pct)
	}
}

func TestShrinkABBAToTwoPreemptions(t *testing.T) {
	// A busier ABBA so a random walk's failing log carries spare preemptions.
	setup := func(w *World) {
		abba(w)
		w.Spawn("C", func(t *Task) {
			for range 20 {
				t.Yield()
			}
		})
	}
	res := Explore(context.Background(), setup, ExploreOptions{
		Strategy: func(seed uint64, _ int64) Strategy { return NewRandom(seed) }, Schedules: 500,
	})
	if len(res.Failures) == 0 {
		t.Fatal("random walk did not find ABBA in 500 schedules")
	}
	orig := res.Failures[0]
	small, r := Shrink(setup, Config{}, orig.Log, 0)
	if r.Failure == nil || r.Failure.Signature() != orig.Failure.Signature() {
		t.Fatalf("shrunk run must fail the same way: got %v, want %v", r.Failure, orig.Failure)
	}
	t.Logf("shrink: %d -> %d preemptions", orig.Log.Preemptions(), small.Preemptions())
	if small.Preemptions() > 2 {
		t.Fatalf("shrunk ABBA has %d preemptions, want <= 2", small.Preemptions())
	}
	// The shrunk log replays exactly.
	w := New(Config{Seed: small.Seed, Strategy: NewReplay(small)})
	setup(w)
	rr := w.Run()
	if rr.Hash != small.Hash || rr.Divergence != nil || rr.Failure.Signature() != orig.Failure.Signature() {
		t.Fatalf("replay of shrunk log: hash %x want %x, divergence %+v, failure %v", rr.Hash, small.Hash, rr.Divergence, rr.Failure)
	}
}

func TestExploreFailuresDoNotDependOnWorkers(t *testing.T) {
	seedsOf := func(workers int, keepGoing bool) []uint64 {
		res := Explore(context.Background(), orderingBug(3), ExploreOptions{
			Strategy:  func(seed uint64, _ int64) Strategy { return NewRandom(seed) },
			Schedules: 300, Workers: workers, KeepGoing: keepGoing, FirstSeed: 1000,
		})
		var out []uint64
		for _, f := range res.Failures {
			out = append(out, f.Seed)
		}
		return out
	}
	for _, keep := range []bool{true, false} {
		one := seedsOf(1, keep)
		if len(one) == 0 {
			t.Fatal("random walk found nothing; the test would prove nothing")
		}
		for _, w := range []int{2, 4, 7} {
			if d := cmp.Diff(one, seedsOf(w, keep)); d != "" {
				t.Errorf("keepGoing=%v workers=%d: failing seeds differ from 1 worker (-1 +%d):\n%s", keep, w, w, d)
			}
		}
	}
}

func TestShardsPartitionSeeds(t *testing.T) {
	collect := func(shard, shards int) map[uint64]bool {
		seen := map[uint64]bool{}
		Explore(context.Background(), func(w *World) {
			seed := w.Seed()
			w.Spawn("x", func(t *Task) { t.Yield() })
			w.AtEnd(func() { seen[seed] = true })
		}, ExploreOptions{
			Strategy:  func(seed uint64, _ int64) Strategy { return NewRandom(seed) },
			Schedules: 50, Shard: shard, Shards: shards, FirstSeed: 7,
		})
		return seen
	}
	whole := collect(0, 1)
	union := map[uint64]bool{}
	for i := range 3 {
		for s := range collect(i, 3) {
			if union[s] {
				t.Fatalf("seed %d in two shards", s)
			}
			union[s] = true
		}
	}
	if d := cmp.Diff(whole, union); d != "" {
		t.Fatalf("shards do not cover the whole run:\n%s", d)
	}
}

// TestExploreHugeRangeCostsNoMemory: a range of 2^40 seeds is fine as long
// as the context stops it: nothing is kept per schedule.
func TestExploreHugeRangeCostsNoMemory(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := Explore(ctx, tiny, ExploreOptions{
		Strategy:  func(seed uint64, _ int64) Strategy { return NewRandom(seed) },
		Schedules: 1 << 40, Workers: 2, ProgressEvery: 50,
		Progress: func(p Progress) {
			if p.Done >= 200 {
				cancel()
			}
		},
	})
	if !res.Stopped || res.Schedules < 200 || res.Schedules > 1000 {
		t.Fatalf("want a stopped run of about 200 schedules, got stopped=%v schedules=%d", res.Stopped, res.Schedules)
	}
}

func TestExhaustiveSearchStopsAndReports(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var seen int
	res := ExhaustiveSearch(abba, DFSOptions{Bound: 3, KeepGoing: true, Context: ctx,
		OnFailure: func(*Result) {
			seen++
			if seen == 2 {
				cancel()
			}
		}})
	if !res.Stopped || seen != 2 || len(res.Failures) != 2 || res.Exhausted {
		t.Fatalf("want the search stopped after the second failure, got %+v (seen %d)", res, seen)
	}
}

// TestCheckDeterminismCatchesHiddenState: a program whose behaviour
// depends on state outside the world (here a counter shared between runs,
// standing in for map order or the wall clock) is reported.
func TestCheckDeterminismCatchesHiddenState(t *testing.T) {
	runs := 0
	leaky := func(w *World) {
		runs++
		n := runs % 2
		w.Spawn("x", func(t *Task) {
			for range 1 + n {
				t.Yield()
			}
		})
	}
	res := Explore(context.Background(), leaky, ExploreOptions{
		Strategy:         func(seed uint64, _ int64) Strategy { return NewRandom(seed) },
		Schedules:        3,
		CheckDeterminism: true,
	})
	if len(res.Failures) == 0 || res.Failures[0].Failure.Kind != FailNondeterminism {
		t.Fatalf("hidden state not reported: %+v", res.Failures)
	}
	res = Explore(context.Background(), tiny, ExploreOptions{
		Strategy:         func(seed uint64, _ int64) Strategy { return NewRandom(seed) },
		Schedules:        50,
		CheckDeterminism: true,
	})
	if len(res.Failures) != 0 {
		t.Fatalf("a deterministic program was reported: %s", res.Failures[0].Failure.Report())
	}
}
