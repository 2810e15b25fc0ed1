package run

import (
	"testing"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// The page-state rule "a page leaves the page cache only when not under
// writeback" (mm.RemoveFromPageCacheLocked): it fires on a planted removal
// of a page whose write is still in flight, in every blockfs era, and stays
// silent on each era's own truncate racing writeback.

var pageStateEras = []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x}

// TestMutationPageStateRemoveUnderWriteback: right after ->writepages
// returns, with page 0's write still in flight, a path takes the page out
// of the cache as truncate would, but without wait_on_page_writeback (the
// truncate-no-wait-writeback mutant's shape).
func TestMutationPageStateRemoveUnderWriteback(t *testing.T) {
	for _, v := range pageStateEras {
		t.Run(string(v), func(t *testing.T) {
			s := mutBlockScenario("mut-remove-under-writeback", v, func(tk *scenarios.Task) {
				tk.Open("f", "/f", 0).Write("f", 0, 8192, "A").Fsync("f")
			})
			mutationCase(t, s, mm.InvPageState, func(m *machine) {
				mutInstallAOps(m, &mutAOps{writepages: func(a *mutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
					ret := a.Ext2AOps.Writepages(t, mp, wbc)
					if p := mm.FindLockPage(t, mp, 0); p != nil {
						if mm.PageWriteback(p) {
							mm.RemoveFromPageCache(t, p) // no wait_on_page_writeback first
							mm.PageCacheRelease(t, p)    // the page cache's reference
						}
						mm.UnlockPage(t, p)
						mm.PageCacheRelease(t, p)
					}
					return ret
				}})
			})
		})
	}
}

// TestPageStateTruncateUnderWritebackSilent: every era's own truncate
// (every fix on) racing a sync(2) whose writes are in flight removes no
// page under writeback: truncate_inode_pages_range's first pass skips such
// pages and its second waits for them. The test also counts the schedules
// in which truncate did sleep on a page's writeback, so that it is known
// to have met the shape.
func TestPageStateTruncateUnderWritebackSilent(t *testing.T) {
	for _, v := range pageStateEras {
		t.Run(string(v), func(t *testing.T) {
			s := scenarios.New("truncate-under-writeback", v).
				OnBlockFS(scenarios.BlockFS{BlockSize: 4096, Capacity: 16 << 20, Latency: 500 * sim.Microsecond})
			s.WithVM(scenarios.VM{MemoryPages: 4096, DirtyRatio: 20, DirtyBackgroundRatio: 10, Flusher: scenarios.Flusher{Off: true}})
			if fx := propAllFixes(v); len(fx) > 0 {
				s.WithFixes(fx...)
			}
			s.SetupTask().Open("s", "/victim", 0).Write("s", 0, 32<<10, "A")
			s.AddTask("syncer").Sync() // with fsync, 2.6.12 never had truncate meet a page under writeback
			s.AddTask("truncator").Open("t", "/victim", 0).Sleep(100*sim.Microsecond).Truncate("t", 8192)
			waited := 0
			for seed := range uint64(20) {
				slept := false
				r := mutRun(t, s, sim.NewRandom(seed+1), func(m *machine) {
					m.w.Observe(func(_ *sim.World, ev *sim.Event) {
						if ev.Kind == sim.KindBlock && ev.Fn == "truncate_inode_pages_range" && ev.Op == "wait_on_page_writeback" {
							slept = true
						}
					})
				})
				if r.Failure != nil {
					t.Fatalf("seed %d: %s", seed+1, r.Failure.Report())
				}
				if slept {
					waited++
				}
			}
			if waited == 0 {
				t.Fatal("truncate never met a page under writeback: the test does not exercise the rule")
			}
			t.Logf("truncate waited on writeback in %d of 20 schedules", waited)
		})
	}
}
