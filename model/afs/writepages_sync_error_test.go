package afs

import (
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// TestWritepagesSyncErrorGoesOnPastTheStore: a WB_SYNC_ALL sweep of a
// two-page record stores pages 0-1 at once; the store fails ENOSPC and
// afs_redirty_pages redirties both. Under writepages-sync-error the sweep
// goes on (the 4.20 rule, 3fa750dcf29e) past the failed store, as
// write_cache_pages goes on past a failed page or folio: it must not meet
// page 1 again and store it a second time (fsync-bounded: "pages: 1
// (again)"). writepages-towrite is off, so the region walks the DIRTY tag
// and meets the redirtied page whenever it resumes before it; with the tag
// on, it meets it only when another sweep tagged it TOWRITE meanwhile
// (the TestPropStack failure this test came from). The sweep returns the
// error and leaves both pages dirty for the next one.
func TestWritepagesSyncErrorGoesOnPastTheStore(t *testing.T) {
	var ret int
	var stores []Op
	var dirty []bool
	_, res := runOne(t, fixesWithout(t, "writepages-towrite"), nil, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 0, 2*mm.PageSize)
		before := len(r.srv.Log())
		r.srv.FailNextStore(errno.ENOSPC)
		wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL, NrToWrite: mm.LLONG_MAX, RangeEnd: mm.LLONG_MAX}
		ret = AfsWritepages(st, f.Mapping, wbc)
		for _, op := range r.srv.Log()[before:] {
			if op.Op == faultdisk.OpStore {
				stores = append(stores, op)
			}
		}
		for i := uint64(0); i < 2; i++ {
			dirty = append(dirty, mm.PageDirty(f.Mapping.PageTree.Lookup(i)))
		}
	})
	mustOK(t, res)
	if ret != errno.ENOSPC.Neg() {
		t.Errorf("writepages returned %d, want %d", ret, errno.ENOSPC.Neg())
	}
	if len(stores) != 1 || stores[0].Err != errno.ENOSPC {
		t.Errorf("the sweep sent %d stores %v; want one, the failed store of pages 0-1", len(stores), stores)
	}
	if len(dirty) != 2 || !dirty[0] || !dirty[1] {
		t.Errorf("pages 0-1 dirty after the sweep: %v; want both (redirtied)", dirty)
	}
}
