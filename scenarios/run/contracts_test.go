package run

import (
	"testing"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/scenarios"
	"github.com/wbsim/wbsim/sim"
)

// TestMutationFsyncBounded: an fsync's ->writepages starts its sweep over
// once (a retry loop around the era's writepages) after a page it wrote
// was dirtied again: it writes that page twice, one page more than was
// dirty when it began. fsync-bounded fires in every era, the tagged one
// too (the second sweep's tagging is not the sweep's allowance).
func TestMutationFsyncBounded(t *testing.T) {
	for _, v := range []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x} {
		t.Run(string(v), func(t *testing.T) {
			s := mutBlockScenario("mut-sweep-again", v, func(tk *scenarios.Task) {
				tk.Open("f", "/f", 0).Write("f", 0, 8192, "A").Fsync("f")
			})
			mutationCase(t, s, check.InvFsyncBounded, func(m *machine) {
				mutInstallAOps(m, &mutAOps{writepages: func(a *mutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
					ret := a.Ext2AOps.Writepages(t, mp, wbc)
					if p := mp.PageTree.Lookup(0); wbc.SyncMode == mm.WB_SYNC_ALL && p != nil && !mm.PageDirty(p) {
						mm.SetPageDirty(t, p) // as a writer would
						ret = a.Ext2AOps.Writepages(t, mp, wbc)
					}
					return ret
				}})
			})
		})
	}
}

// TestMutationDirtyExpire: the kupdate passes never reach dirty page 0
// (its PAGECACHE_TAG_DIRTY is hidden from every WB_SYNC_NONE pass, a lost
// radix-tree tag), so it stays dirty while the flusher runs pass after
// pass. dirty-expire fires at the end of the second pass after it
// expired.
func TestMutationDirtyExpire(t *testing.T) {
	for _, v := range []scenarios.KernelVersion{scenarios.Kernel2_6_12, scenarios.Kernel2_6_2x, scenarios.Kernel3x} {
		t.Run(string(v), func(t *testing.T) {
			s := mutBlockScenario("mut-kupdate-misses-page", v, func(tk *scenarios.Task) {
				tk.Open("f", "/f", 0).Write("f", 0, 8192, "A").Sleep(4 * sim.Second)
			})
			mutationCase(t, s, check.InvDirtyExpire, func(m *machine) {
				mutInstallAOps(m, &mutAOps{writepages: func(a *mutAOps, t *sim.Task, mp *mm.AddressSpace, wbc *mm.WritebackControl) int {
					hid := wbc.SyncMode == mm.WB_SYNC_NONE && mp.PageTree.TagGet(0, mm.PAGECACHE_TAG_DIRTY)
					if hid {
						mp.PageTree.TagClear(0, mm.PAGECACHE_TAG_DIRTY)
					}
					ret := a.Ext2AOps.Writepages(t, mp, wbc)
					if p := mp.PageTree.Lookup(0); hid && p != nil && mm.PageDirty(p) {
						mp.PageTree.TagSet(0, mm.PAGECACHE_TAG_DIRTY)
					}
					return ret
				}})
			})
		})
	}
}
