package mm

import (
	"strings"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// TestDeadlockNamesInodeLocks: a lock-order deadlock on two files' i_mutex
// is reported with the locks by name and owner (SetName: "i_mutex of /a"),
// and an unnamed inode's by its number ("i_mutex of inode 7").
func TestDeadlockNamesInodeLocks(t *testing.T) {
	setup := func(w *sim.World) {
		k := NewKernel(w, V2_6_2x)
		a, b, c := k.NewInode(1, 12, nil, nil), k.NewInode(2, 12, nil, nil), k.NewInode(7, 12, nil, nil)
		a.SetName("/a")
		b.SetName("/b")
		w.Spawn("ab", func(t *sim.Task) {
			c.IMutex.Lock(t)
			a.IMutex.Lock(t)
			t.Yield()
			b.IMutex.Lock(t)
		})
		w.Spawn("ba", func(t *sim.Task) {
			b.IMutex.Lock(t)
			t.Yield()
			a.IMutex.Lock(t)
		})
	}
	for seed := uint64(1); seed <= 50; seed++ {
		w := sim.New(sim.Config{Seed: seed, Strategy: sim.NewRandom(seed)})
		setup(w)
		res := w.Run()
		if res.Failure == nil || res.Failure.Kind != sim.FailDeadlock {
			continue
		}
		text := strings.Join(res.Failure.Waits, "\n")
		for _, want := range []string{"on mutex i_mutex of /b, held by task ba", "on mutex i_mutex of /a, held by task ab",
			"it holds i_mutex of inode 7, i_mutex of /a"} {
			if !strings.Contains(text, want) {
				t.Errorf("deadlock report lacks %q:\n%s", want, text)
			}
		}
		return
	}
	t.Fatal("no deadlock in 50 seeds")
}
