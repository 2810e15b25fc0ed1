package mm

import (
	"testing"

	"github.com/wbsim/wbsim/sim"
)

func TestPageLockOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		second func(t *sim.Task, m *AddressSpace) *Page
		order  []uint64
		want   bool // a lock failure
	}{
		{"ascending", func(t *sim.Task, m *AddressSpace) *Page { return FindLockPage(t, m, 5) }, []uint64{2, 5}, false},
		{"descending", func(t *sim.Task, m *AddressSpace) *Page { return FindLockPage(t, m, 2) }, []uint64{5, 2}, true},
		{"descending trylock", func(t *sim.Task, m *AddressSpace) *Page {
			p := FindGetPage(t, m, 2)
			if !TrylockPage(t, p) {
				t.BUG(p.Obj(), "trylock failed")
			}
			return p
		}, []uint64{5, 2}, false},
	} {
		w := sim.New(sim.Config{Seed: 1})
		_, ino := newTestKernel(w, V2_6_2x, &testFS{})
		m := ino.Mapping
		w.Spawn("t", func(t *sim.Task) {
			writePage(t, m, 2, 1)
			writePage(t, m, 5, 2)
			first := FindLockPage(t, m, tc.order[0])
			second := tc.second(t, m)
			UnlockPage(t, second)
			UnlockPage(t, first)
			PageCacheRelease(t, second)
			PageCacheRelease(t, first)
		})
		r := w.Run()
		got := r.Failure != nil && r.Failure.Invariant == InvLock
		if got != tc.want || (r.Failure != nil && !got) {
			t.Errorf("%s: want lock failure %v, got %v", tc.name, tc.want, r.Failure)
		}
	}
}
