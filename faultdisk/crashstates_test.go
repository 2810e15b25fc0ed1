package faultdisk

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"pgregory.net/rapid"
)

// statesOf returns every state of cs as sector lists.
func statesOf(cs *CrashStates, sectors int64) [][]string {
	var out [][]string
	for i := range cs.Len() {
		out = append(out, storeSectors(cs.Image(i), sectors))
	}
	return out
}

// TestCrashStatesSmall: a flushed write, then three cached writes (two on
// the same sector, the second of them the same bytes as the first) and a
// FUA write: the states are the durable data plus every subset of the
// cached writes, counted once per distinct image, the FUA write always
// there, in the documented order (prefixes first).
func TestCrashStatesSmall(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	d := mustDisk(t, w, Config{Sectors: 8})
	var cs, torn, capped *CrashStates
	w.Spawn("t", func(t *sim.Task) {
		syncIO(t, d, write(0, 1, 1))
		syncIO(t, d, flush())
		syncIO(t, d, write(1, 1, 2))
		syncIO(t, d, write(2, 1, 3))
		syncIO(t, d, write(2, 1, 3)) // same bytes again: no new state
		fua := write(3, 1, 4)
		fua.FUA = true
		syncIO(t, d, fua)
		cs = d.CrashStates(false, 100)
		torn = d.CrashStates(true, 100)
		capped = d.CrashStates(false, 2)
	})
	run(t, w)
	s := func(stamps ...int) []string {
		var out []string
		for _, st := range stamps {
			b := content.Zeros(SectorSize)
			if st != 0 {
				b = content.Fill(SectorSize, content.Stamp(st), 0)
			}
			out = append(out, sectorsOf(b)[0])
		}
		for len(out) < 8 {
			out = append(out, sectorsOf(content.Zeros(SectorSize))[0])
		}
		return out
	}
	want := [][]string{
		s(1, 0, 0, 4), // nothing kept: drop-all
		s(1, 2, 0, 4), // the first
		s(1, 2, 3, 4), // the first two (and three: the same image)
		s(1, 0, 3, 4), // the other subset
	}
	got := statesOf(cs, 8)
	if len(got) != len(want) {
		t.Fatalf("%d states, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("state %d = %v, want %v", i, got[i], want[i])
		}
	}
	if cs.Capped {
		t.Error("Capped without a cap")
	}
	if torn.Len() != cs.Len() {
		t.Errorf("torn: %d states with nothing in flight, want %d", torn.Len(), cs.Len())
	}
	if capped.Len() != 2 || !capped.Capped {
		t.Errorf("max 2: %d states, capped %v", capped.Len(), capped.Capped)
	}
}

// TestCrashStatesInFlight: a 4-sector write in flight lands whole or not
// (2 states), or, torn, any subset of its sectors (16 states).
func TestCrashStatesInFlight(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	d := mustDisk(t, w, Config{Sectors: 16, Write: Fixed(10 * us)})
	var whole, torn *CrashStates
	w.Spawn("t", func(t *sim.Task) {
		io := write(8, 4, 2)
		io.Done = func(*sim.Task, *IO) {}
		d.Submit(t, io)
		whole, torn = d.CrashStates(false, 1000), d.CrashStates(true, 1000)
	})
	run(t, w)
	if whole.Len() != 2 || torn.Len() != 16 {
		t.Fatalf("%d whole and %d torn states, want 2 and 16", whole.Len(), torn.Len())
	}
}

// TestCrashStatesAllowed: at a random time of a random workload, every
// state is one the reference allows (keep-random's: whole non-durable
// writes over the durable data; torn: whole sectors of them), the states
// are distinct, drop-all is state 0, and uncapped keep-all is among them.
func TestCrashStatesAllowed(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		wl := genWorkload(rt, false)
		r := wl.start(rt, nil)
		torn := rapid.Bool().Draw(rt, "torn")
		var states [][]string
		var keepAll []string
		capped := false
		completedAt := map[*IO]bool{}
		var inFlight []*IO
		r.w.At(wl.CrashAt, "crash-check", func() {
			cs := r.d.CrashStates(torn, 4096)
			states, capped = statesOf(cs, wl.Sectors), cs.Capped
			keepAll = storeSectors(r.d.CrashImage(CrashKeepAll, nil), wl.Sectors)
			for _, io := range r.ios {
				if io.Completed != 0 {
					completedAt[io] = true
				} else if io.Dispatched != 0 && io.Op == OpWrite {
					inFlight = append(inFlight, io)
				}
			}
			slices.SortFunc(inFlight, func(a, b *IO) int { return cmp.Compare(a.seq, b.seq) })
		})
		run(rt, r.w)
		if states == nil {
			return
		}
		ref := r.crashRefAt(wl.Sectors, completedAt, inFlight)
		mode := CrashKeepRandom
		if torn {
			mode = CrashTear
		}
		seen := map[string]bool{}
		for i, st := range states {
			if msg := ref.check(mode, st); msg != "" {
				rt.Fatalf("state %d: %s", i, msg)
			}
			k := fmtSectors(st)
			if seen[k] {
				rt.Fatalf("state %d repeats an earlier one", i)
			}
			seen[k] = true
		}
		if !slices.Equal(states[0], ref.durable) {
			rt.Fatalf("state 0 is not drop-all")
		}
		if !capped && !seen[fmtSectors(keepAll)] {
			rt.Fatalf("keep-all is not among the %d states", len(states))
		}
	})
}

func fmtSectors(s []string) string { return strings.Join(s, ";") }
