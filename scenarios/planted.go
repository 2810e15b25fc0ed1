package scenarios

// The planted-race programs show the scheduler working: small sim-only
// programs with a known bug that the strategies must find. The tour runs
// them.

import "github.com/wbsim/wbsim/sim"

// Planted is a small program with a known concurrency bug.
type Planted struct {
	Name        string
	Description string
	Setup       func(w *sim.World)
	// Depth is the bug's depth in the PCT sense: the number of ordering
	// constraints it needs. PCT with d >= Depth is expected to find it.
	Depth int
	// Preemptions is the fewest preemptions that expose it; bounded
	// exhaustive search with at least this bound must find it.
	Preemptions int
	// RandomWalkHard marks a bug random walk is not expected to find.
	RandomWalkHard bool
}

// PlantedRaces lists the built-in planted-race programs, in a stable order.
func PlantedRaces() []Planted {
	return []Planted{
		{
			Name: "abba-deadlock",
			Description: "two tasks take mutexes a and b in opposite orders; it deadlocks only " +
				"if the first is preempted between its two locks",
			Setup: abba, Depth: 2, Preemptions: 1,
		},
		{
			Name: "lost-update",
			Description: "two tasks increment a shared counter with a read, a scheduling point " +
				"and a write, without the lock; one increment can be lost",
			Setup: lostUpdate, Depth: 2, Preemptions: 1,
		},
		{
			Name: "pct-hard-case",
			Description: "the PCT paper's example: the bug needs one task to finish 20 steps " +
				"before the other takes its first; random walk almost never gets there",
			Setup: hardCase, Depth: 1, Preemptions: 0, RandomWalkHard: true,
		},
	}
}

func abba(w *sim.World) {
	a, b := &sim.Mutex{Name: "a"}, &sim.Mutex{Name: "b"}
	w.Spawn("A", func(t *sim.Task) {
		a.Lock(t)
		b.Lock(t)
		b.Unlock(t)
		a.Unlock(t)
	})
	w.Spawn("B", func(t *sim.Task) {
		b.Lock(t)
		a.Lock(t)
		a.Unlock(t)
		b.Unlock(t)
	})
}

func lostUpdate(w *sim.World) {
	counter := 0
	counterObj := sim.Obj{Class: "counter"}
	for _, name := range []string{"inc1", "inc2"} {
		w.Spawn(name, func(t *sim.Task) {
			t.Point("load", counterObj, 0)
			v := counter
			t.Point("store", counterObj, int64(v+1))
			counter = v + 1
		})
	}
	w.AtEnd(func() {
		if counter != 2 {
			w.Failf("no-lost-write", counterObj, "counter is %d after two increments", counter)
		}
	})
}

func hardCase(w *sim.World) {
	done := false
	w.Spawn("A", func(t *sim.Task) {
		for range 20 {
			t.Point("step", sim.Obj{}, 0)
		}
		done = true
	})
	w.Spawn("B", func(t *sim.Task) {
		t.Point("check", sim.Obj{}, 0)
		t.BUG_ON(done, sim.Obj{Class: "flag", Name: "done"}, "B ran after all of A's steps")
	})
}
