package sim

import "testing"

// TestEnterAt: EnterAt is Enter with the seed citation in the Enter
// event's Msg; the Leave event and the Fn of the events inside are as
// with Enter, and recording the citation allocates nothing.
func TestEnterAt(t *testing.T) {
	w := New(Config{Seed: 1, TraceKeep: -1})
	w.Spawn("x", func(t *Task) {
		t.EnterAt("do_mpage_readpage", "mpage-2.6.2x.c:150")
		t.Point("lock_page", Obj{}, 0)
		t.Enter("submit_bio")
		t.Leave()
		t.Leave()
	})
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure)
	}
	type want struct {
		kind   Kind
		fn, op string
		msg    string
	}
	var got []want
	for _, ev := range w.Trace().Events() {
		if ev.Kind == KindEnter || ev.Kind == KindLeave || ev.Kind == KindPoint {
			got = append(got, want{ev.Kind, ev.Fn, ev.Op, ev.Msg})
		}
	}
	exp := []want{
		{KindEnter, "do_mpage_readpage", "do_mpage_readpage", "mpage-2.6.2x.c:150"},
		{KindPoint, "do_mpage_readpage", "lock_page", ""},
		{KindEnter, "submit_bio", "submit_bio", ""},
		{KindLeave, "submit_bio", "submit_bio", ""},
		{KindLeave, "do_mpage_readpage", "do_mpage_readpage", ""},
	}
	if len(got) != len(exp) {
		t.Fatalf("events %v, want %v", got, exp)
	}
	for i := range exp {
		if got[i] != exp[i] {
			t.Errorf("event %d: %+v, want %+v", i, got[i], exp[i])
		}
	}

	// The citation is part of the hash: a run that cites differently (or
	// not at all) hashes differently.
	hash := func(cite string) uint64 {
		w := New(Config{Seed: 1})
		w.Spawn("x", func(t *Task) {
			if cite == "" {
				t.Enter("f")
			} else {
				t.EnterAt("f", cite)
			}
			t.Leave()
		})
		return w.Run().Hash
	}
	if hash("") == hash("seed.c:1") || hash("seed.c:1") == hash("seed.c:2") || hash("seed.c:1") != hash("seed.c:1") {
		t.Error("the citation should be hashed, deterministically")
	}

	// Zero allocations once the function stack has room.
	var allocs float64
	w = New(Config{Seed: 1, TraceKeep: 0})
	w.Spawn("x", func(t *Task) {
		t.EnterAt("f", "seed.c:1")
		t.Leave()
		allocs = testing.AllocsPerRun(100, func() {
			t.EnterAt("f", "seed.c:1")
			t.Leave()
		})
	})
	w.Run()
	if allocs != 0 {
		t.Errorf("EnterAt+Leave allocate %v times, want 0", allocs)
	}
}
