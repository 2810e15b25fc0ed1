package sim

import (
	"github.com/google/go-cmp/cmp"
	"slices"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim/errno"
)

func run1(t *testing.T, setup func(w *World)) *Result {
	t.Helper()
	w := New(Config{Seed: 1, MaxSteps: 1000, MaxTime: Second})
	setup(w)
	return w.Run()
}

func wantFailure(t *testing.T, r *Result, kind FailureKind, inv, task string, report ...string) {
	t.Helper()
	f := r.Failure
	if f == nil {
		t.Fatalf("want %s failure, run passed", kind)
	}
	if f.Kind != kind || f.Invariant != inv || f.Task != task {
		t.Fatalf("got kind=%s inv=%q task=%q, want %s %q %q\n%s", f.Kind, f.Invariant, f.Task, kind, inv, task, f.Report())
	}
	rep := f.Report()
	for _, s := range report {
		if !strings.Contains(rep, s) {
			t.Errorf("report lacks %q:\n%s", s, rep)
		}
	}
}

func TestFailureReports(t *testing.T) {
	t.Run("bug", func(t *testing.T) {
		r := run1(t, func(w *World) {
			w.Spawn("ok", func(t *Task) { t.Yield() })
			w.Spawn("buggy", func(t *Task) {
				t.Yield()
				t.BUG_ON(true, Obj{Class: "page", A: 7, B: 3}, "PageWriteback already set")
			})
		})
		wantFailure(t, r, FailBug, "", "buggy", "PageWriteback already set", "page 7:3", "failure_test.go")
	})
	t.Run("panic", func(t *testing.T) {
		r := run1(t, func(w *World) {
			w.Spawn("nilderef", func(t *Task) {
				var m map[string]int
				m["x"] = 1
			})
		})
		wantFailure(t, r, FailPanic, "", "nilderef", "assignment to entry in nil map", "failure_test.go")
	})
	t.Run("sleep under spinlock", func(t *testing.T) {
		r := run1(t, func(w *World) {
			w.Spawn("holder", func(t *Task) {
				l := SpinLock{Name: "tree_lock"}
				l.Lock(t)
				var m Mutex
				m.Name = "i_mutex"
				m.Lock(t)
			})
		})
		wantFailure(t, r, FailInvariant, InvLock, "holder", "scheduling while atomic", "tree_lock", "mutex i_mutex")
	})
	t.Run("sleep in irq", func(t *testing.T) {
		r := run1(t, func(w *World) {
			w.AfterIRQ(Millisecond, "end_io", func(t *Task) { t.Sleep(Microsecond) })
		})
		wantFailure(t, r, FailInvariant, InvLock, "end_io", "interrupt context")
	})
	t.Run("unlock by non-owner", func(t *testing.T) {
		r := run1(t, func(w *World) {
			var m Mutex
			m.Name = "m"
			w.Spawn("owner", func(t *Task) { m.Lock(t); t.Sleep(Millisecond); m.Unlock(t) })
			w.Spawn("thief", func(t *Task) { t.Sleep(Microsecond); m.Unlock(t) })
		})
		wantFailure(t, r, FailInvariant, InvLock, "thief", "held by task owner")
	})
	t.Run("double spin unlock", func(t *testing.T) {
		r := run1(t, func(w *World) {
			l := &SpinLock{Name: "wb_lock"}
			w.Spawn("x", func(t *Task) { l.Lock(t); l.Unlock(t); l.Unlock(t) })
		})
		wantFailure(t, r, FailInvariant, InvLock, "x", "unlocked wb_lock")
	})
	t.Run("recursive spinlock", func(t *testing.T) {
		r := run1(t, func(w *World) {
			l := &SpinLock{Name: "l"}
			w.Spawn("x", func(t *Task) { l.Lock(t); l.Lock(t) })
		})
		wantFailure(t, r, FailInvariant, InvLock, "x", "recursion")
	})
	t.Run("livelock", func(t *testing.T) {
		r := run1(t, func(w *World) {
			w.Spawn("spinner", func(t *Task) {
				for {
					t.CondResched()
				}
			})
		})
		wantFailure(t, r, FailLivelock, InvProgress, "spinner", "step budget")
	})
	t.Run("time budget", func(t *testing.T) {
		r := run1(t, func(w *World) {
			w.Spawn("sleeper", func(t *Task) { t.Sleep(2 * Second) })
		})
		wantFailure(t, r, FailTimeBudget, InvProgress, "", "time budget")
	})
	t.Run("lost bit wakeup", func(t *testing.T) {
		r := run1(t, func(w *World) {
			var flags uint64 = 1
			page := Obj{Class: "page", A: 1, B: 9}
			w.Spawn("waiter", func(t *Task) { WaitOnBit(t, &flags, 0, page, "wait_on_page_writeback") })
			w.Spawn("clearer", func(t *Task) { t.Yield(); flags = 0 /* no wake_up_bit */ })
		})
		wantFailure(t, r, FailDeadlock, InvProgress, "", "waiter", "wait_on_page_writeback", "page 1:9")
	})
	t.Run("observer invariant", func(t *testing.T) {
		r := run1(t, func(w *World) {
			w.Observe(func(w *World, ev *Event) {
				if ev.Op == "set_page_dirty" && ev.Obj.B == 4 {
					w.Failf("page-state", ev.Obj, "dirtied page %d", ev.Obj.B)
				}
			})
			w.Spawn("writer", func(t *Task) {
				for i := range int64(8) {
					t.Point("set_page_dirty", Obj{Class: "page", A: 1, B: i}, 0)
				}
			})
		})
		wantFailure(t, r, FailInvariant, "page-state", "writer", "dirtied page 4", "page 1:4")
	})
}

func TestBitLockAndWake(t *testing.T) {
	var flags uint64
	order := []string{}
	r := run1(t, func(w *World) {
		obj := Obj{Class: "page", B: 1}
		for _, n := range []string{"a", "b", "c"} {
			w.Spawn(n, func(t *Task) {
				WaitOnBitLock(t, &flags, 0, obj, "lock_page")
				order = append(order, n)
				t.Yield()
				flags &^= 1
				WakeUpBit(t, &flags, 0, obj)
			})
		}
	})
	if !r.OK() || len(order) != 3 || flags != 0 {
		t.Fatalf("want three exclusive holders, got %v order=%v flags=%b", r.Failure, order, flags)
	}
}

func TestSignalInterruptsWait(t *testing.T) {
	var got errno.Errno = -1
	r := run1(t, func(w *World) {
		var q WaitQueue
		q.Name = "wq"
		waiter := w.Spawn("waiter", func(t *Task) {
			got = q.WaitEventInterruptible(t, func() bool { return false })
		})
		w.After(Millisecond, "kill", func() { w.Signal(waiter) })
	})
	if !r.OK() || got != errno.ERESTARTSYS {
		t.Fatalf("want ERESTARTSYS from the interrupted wait, got %v (failure %v)", got, r.Failure)
	}
}

func TestCompletion(t *testing.T) {
	var c Completion
	c.Name = "io"
	var at Time
	r := run1(t, func(w *World) {
		w.Spawn("waiter", func(t *Task) { c.Wait(t); at = t.World().Now() })
		w.AfterIRQ(5*Millisecond, "end_io", func(t *Task) { c.Complete(t) })
	})
	if !r.OK() || at < 5*Millisecond {
		t.Fatalf("waiter must wake after the completion at 5ms: at=%s failure=%v", at, r.Failure)
	}
}

func TestReplayReportsDivergence(t *testing.T) {
	setup := func(n int) func(w *World) {
		return func(w *World) {
			for i := range n {
				w.Spawn(string(rune('A'+i)), func(t *Task) { t.Yield(); t.Yield() })
			}
		}
	}
	w := New(Config{Seed: 5, Strategy: NewRandom(5)})
	setup(2)(w)
	r := w.Run()
	// The "model" changed: a third task now exists.
	w2 := New(Config{Seed: 5, Strategy: NewReplay(r.Log)})
	setup(3)(w2)
	r2 := w2.Run()
	if r2.Divergence == nil || !r2.OK() {
		t.Fatalf("want a reported divergence and a completed run, got %+v %v", r2.Divergence, r2.Failure)
	}
	if r2.Divergence.Decision != 0 || r2.Divergence.Want != 2 || r2.Divergence.Got != 3 {
		t.Fatalf("divergence at the wrong place: %+v", r2.Divergence)
	}
}

func TestTraceRingKeepsLastEvents(t *testing.T) {
	w := New(Config{Seed: 1, TraceKeep: 10})
	w.Spawn("x", func(t *Task) {
		for i := range int64(50) {
			t.Point("tick", Obj{}, i)
		}
	})
	r := w.Run()
	evs := w.Trace().Events()
	if len(evs) != 10 || r.Events <= 50 {
		t.Fatalf("want 10 kept of >50 events, got %d of %d", len(evs), r.Events)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Step < evs[i-1].Step {
			t.Fatalf("kept events out of order at %d: %v", i, evs)
		}
	}
	if evs[len(evs)-1].Kind != KindExit {
		t.Fatalf("last kept event should be the exit, got %v", evs[len(evs)-1].Kind)
	}
}

// TestKill: power loss kills tasks wherever they are; the wakeups they
// would have taken go to the tasks still alive.
func TestKill(t *testing.T) {
	var m Mutex
	m.Name = "m"
	var order []string
	deferred := 0
	r := run1(t, func(w *World) {
		w.Spawn("holder", func(t *Task) { m.Lock(t); t.Sleep(Millisecond); m.Unlock(t); order = append(order, "holder") })
		victim := w.Spawn("victim", func(t *Task) {
			defer func() { deferred++ }()
			t.Sleep(Microsecond)
			m.Lock(t) // queued first behind holder
			order = append(order, "victim")
		})
		w.Spawn("survivor", func(t *Task) {
			t.Sleep(2 * Microsecond)
			m.Lock(t) // queued behind victim
			order = append(order, "survivor")
			m.Unlock(t)
		})
		w.Spawn("crash", func(t *Task) {
			t.Sleep(10 * Microsecond)
			w.Kill(victim)
		})
	})
	if !r.OK() {
		t.Fatalf("run failed: %s", r.Failure.Report())
	}
	if d := cmp.Diff([]string{"holder", "survivor"}, order); d != "" || deferred != 1 {
		t.Fatalf("order (-want +got):\n%s deferred=%d", d, deferred)
	}
}

// scripted is a strategy that takes choice 1 at the decisions in at and 0
// elsewhere, and remembers what it chose.
type scripted struct {
	at   map[int]bool
	made []Choice
}

func (s *scripted) Choose(d *Decision) int {
	c := 0
	if s.at[len(s.made)] {
		c = 1
	}
	s.made = append(s.made, Choice{C: uint16(c), N: uint16(len(d.Candidates)), Preemptible: d.CurrentRunnable})
	return c
}

// TestDecisionLogKeepsLongRuns: the world keeps its choices run-length
// encoded; a run longer than one encoded run holds (65535), then a
// preemption, must come out as every decision in order, and replay.
func TestDecisionLogKeepsLongRuns(t *testing.T) {
	setup := func(w *World) {
		for _, name := range []string{"A", "B"} {
			w.Spawn(name, func(t *Task) {
				for range 70_000 {
					t.Yield()
				}
			})
		}
	}
	s := &scripted{at: map[int]bool{65535: true, 65536: true, 69_000: true}}
	w := New(Config{Seed: 1, Strategy: s, MaxSteps: 1 << 20, TraceKeep: 1})
	setup(w)
	r := w.Run()
	if !r.OK() {
		t.Fatal(r.Failure.Report())
	}
	if !slices.Equal(s.made, r.Log.Choices()) {
		t.Fatalf("log of %d choices differs from the %d decisions made", r.Log.Len(), len(s.made))
	}
	w2 := New(Config{Seed: 1, Strategy: NewReplay(r.Log), MaxSteps: 1 << 20, TraceKeep: 1})
	setup(w2)
	if r2 := w2.Run(); r2.Hash != r.Hash || r2.Divergence != nil {
		t.Fatalf("replay: hash %x, want %x; divergence %+v", r2.Hash, r.Hash, r2.Divergence)
	}
}
