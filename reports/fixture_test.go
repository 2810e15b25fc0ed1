package reports

import (
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// toyWriteback is a test fixture with what the renderers draw: tasks in
// kernel functions (Enter/Leave), page-flag operations on page objects,
// a bio submitted by one task and completed by an interrupt, and a planted
// race: the writer dirties page 1:2 without its page lock, which the
// observer flags when the page is under writeback at that moment.
func toyWriteback(w *sim.World) {
	const npages = 3
	var flags [npages]uint64 // bit 0: PG_locked
	const pgLocked = 0
	page := func(i int) sim.Obj { return sim.Obj{Class: PageClass, A: 1, B: int64(i)} }
	writeback := map[int64]bool{}
	w.Observe(func(w *sim.World, ev *sim.Event) {
		if ev.Obj.Class != PageClass {
			return
		}
		switch ev.Op {
		case "set_page_writeback":
			writeback[ev.Obj.B] = true
		case "end_page_writeback":
			writeback[ev.Obj.B] = false
		case "set_page_dirty":
			if writeback[ev.Obj.B] && flags[ev.Obj.B]&(1<<pgLocked) == 0 {
				w.Failf("page-state", ev.Obj, "set_page_dirty on %s under writeback without the page lock", ev.Obj)
			}
		}
	})
	lockPage := func(t *sim.Task, i int) {
		sim.WaitOnBitLock(t, &flags[i], pgLocked, page(i), "lock_page")
	}
	unlockPage := func(t *sim.Task, i int) {
		t.Point("unlock_page", page(i), 0)
		flags[i] &^= 1 << pgLocked
		sim.WakeUpBit(t, &flags[i], pgLocked, page(i))
	}
	w.Spawn("writer", func(t *sim.Task) {
		t.Enter("sys_write")
		defer t.Leave()
		for i := range npages {
			t.Enter("generic_perform_write")
			if i != 2 {
				lockPage(t, i)
			}
			t.Point("SetPageUptodate", page(i), 0)
			t.Point("set_page_dirty", page(i), 0)
			if i != 2 {
				unlockPage(t, i)
			}
			t.Leave()
		}
	})
	w.Spawn("flusher", func(t *sim.Task) {
		t.Enter("write_cache_pages")
		defer t.Leave()
		for i := range npages {
			lockPage(t, i)
			t.Point("clear_page_dirty_for_io", page(i), 0)
			t.Enter("mpage_writepage")
			t.Point("set_page_writeback", page(i), 0)
			bio := sim.Obj{Class: "bio", A: int64(i + 1)}
			t.Point("submit_bio", bio, 0)
			w.AfterIRQ(3*sim.Microsecond, "bio_endio", func(t *sim.Task) {
				t.Enter("mpage_end_io")
				t.Point("bio_endio", bio, 0)
				t.Point("end_page_writeback", page(i), 0)
				t.Leave()
			})
			t.Leave()
			unlockPage(t, i)
		}
	})
}

// abbaFixture is the lock-order deadlock, for a second run in reports.
func abbaFixture(w *sim.World) {
	a, b := &sim.Mutex{Name: "a"}, &sim.Mutex{Name: "b"}
	w.Spawn("A", func(t *sim.Task) {
		t.Enter("sys_a")
		defer t.Leave()
		a.Lock(t)
		b.Lock(t)
		b.Unlock(t)
		a.Unlock(t)
	})
	w.Spawn("B", func(t *sim.Task) {
		t.Enter("sys_b")
		defer t.Leave()
		b.Lock(t)
		a.Lock(t)
		a.Unlock(t)
		b.Unlock(t)
	})
}

// firstFailure runs setup under random walk from seed 1 until a run fails.
func firstFailure(t testing.TB, setup func(*sim.World)) *Run {
	t.Helper()
	for seed := uint64(1); seed < 5000; seed++ {
		r := Capture(setup, sim.Config{Seed: seed, Strategy: sim.NewRandom(seed)})
		if r.Failed() {
			return r
		}
	}
	t.Fatal("no failure in 5000 seeds")
	return nil
}

// sampleReport is a report with two programs that failed and a timeline
// of each failing run.
func sampleReport(t testing.TB) *Report {
	t.Helper()
	res := NewResult("explore")
	var runs []*Run
	for _, p := range []struct {
		name  string
		setup func(*sim.World)
	}{{"toy-writeback", toyWriteback}, {"abba", abbaFixture}} {
		run := firstFailure(t, p.setup)
		run.Program, run.Title, run.Strategy = p.name, "first failing schedule", "random"
		pr := ProgramResult{Program: p.name, Description: "a test fixture", Tags: []string{"test"},
			Strategy: StrategyInfo{Name: "random", Text: "random"}, Expect: ExpectPass,
			Seeds: SeedRange{First: 1, Count: 5000, Shards: 1, Done: []int{0}}, Budget: BudgetOf(sim.Config{}),
			Schedules: int(run.Seed), Invariants: []InvariantInfo{{"page-state", "page flags change only along legal transitions"}, {"progress", "no deadlock"}}}
		fi := NewFailureInfo(run.Result)
		fi.Replay = "replays/" + p.name + ".replay"
		pr.Failures = []FailureInfo{fi}
		pr.FailuresFound = 1
		pr.Minimal = &Minimal{Seed: run.Seed, PreemptionsBefore: fi.Preemptions, PreemptionsAfter: fi.Preemptions,
			Decisions: fi.Decisions, Hash: fi.Hash, Signature: fi.Signature, Schedule: fi.Schedule, Replay: fi.Replay}
		pr.Judge()
		res.Programs = append(res.Programs, pr)
		runs = append(runs, run)
	}
	return &Report{Title: "simrun explore (test)", Result: res, Runs: runs}
}
