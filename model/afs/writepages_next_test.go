package afs

import (
	"testing"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// TestWritepagesNextAfterRegionError: afs_writepages_region does not set
// *_next when a store fails (afs-write-2.6.3x.c:521-524), and the seed's
// next is uninitialised (542); the model's is 0, so writeback_index ends
// at 0 after the error, in the cyclic branch (554) and in the whole-file
// branch while nr_to_write > 0 (558-559). With no error it is where the
// last region's lookup stopped: 1, past page 0, which led the last store
// (the cyclic pass stores pages 2-3, then wraps and stores 0-1; the
// whole-file pass stores 0-3 at once).
func TestWritepagesNextAfterRegionError(t *testing.T) {
	cyclic := mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024, RangeCyclic: true}
	whole := mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024, RangeEnd: mm.LLONG_MAX}
	for _, c := range []struct {
		name      string
		wbc       mm.WritebackControl
		plan      string
		wantRet   int
		wantIndex uint64
	}{
		{"cyclic, store fails", cyclic, "store key k0: fail EIO", errno.EIO.Neg(), 0},
		{"whole file, store fails", whole, "store key k0: fail EIO", errno.EIO.Neg(), 0},
		{"cyclic, store ok", cyclic, "", 0, 1},
		{"whole file, store ok", whole, "", 0, 1},
	} {
		plan := mustPlan(t, c.plan)
		var ret int
		var index uint64
		_, res := runOne(t, AllFixes(), plan, 1, func(r *rig, st *sim.Task) {
			f := AfsOpen(st, r.v, r.keys[0])
			r.write(st, f, 0, 4*mm.PageSize)
			f.Mapping.WritebackIndex = 2
			wbc := c.wbc
			ret = AfsWritepages(st, f.Mapping, &wbc)
			index = f.Mapping.WritebackIndex
			AfsRelease(st, f)
		})
		mustOK(t, res)
		if ret != c.wantRet || index != c.wantIndex {
			t.Errorf("%s: returned %d, writeback_index %d; want %d, %d", c.name, ret, index, c.wantRet, c.wantIndex)
		}
	}
}
