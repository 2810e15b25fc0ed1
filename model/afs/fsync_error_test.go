package afs

import (
	"testing"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// fixesWithout is AllFixes with the given fixes off.
func fixesWithout(tb testing.TB, ids ...string) Fixes {
	f := AllFixes()
	for _, id := range ids {
		if err := f.Set(id, false); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

// TestFsyncAfterFailedBackgroundStore: a background writeback's store
// fails; a later fsync of the file must report the error. With every fix
// but fsync-marker-wait, an EIO-group failure leaves the killed record at
// the head of vnode->writebacks (afs_kill_pages drops no usage) and
// afs_fsync's marker waits behind it for ever: progress. With the fix
// (v4.15's afs_fsync: file_write_and_wait_range) fsync returns -EIO for
// every group: killed (EIO group) or redirtied and stored again (key group,
// ENOSPC, default branch: the one-shot failure is gone, so the store
// succeeds, but AS_EIO/AS_ENOSPC from the failure is reported).
func TestFsyncAfterFailedBackgroundStore(t *testing.T) {
	body := func(e errno.Errno, ret *int) func(r *rig, st *sim.Task) {
		return func(r *rig, st *sim.Task) {
			f := AfsOpen(st, r.v, r.keys[0])
			r.write(st, f, 0, 100)
			r.srv.FailNextStore(e)
			wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024, RangeCyclic: true}
			if got := mm.DoWritepages(st, r.v.Mapping(), wbc); got != e.Neg() {
				st.World().Failf("test", r.v.Obj(), "writepages returned %d, want %d", got, e.Neg())
			}
			*ret = VfsFsync(st, f, 0)
		}
	}

	// The seed: an EIO-group failure hangs the next fsync.
	for _, e := range []errno.Errno{errno.EIO, errno.ENOENT, errno.EROFS} {
		var ret int
		r, res := runOne(t, fixesWithout(t, "fsync-marker-wait"), nil, 1, body(e, &ret))
		if res.Failure == nil || res.Failure.Invariant != "progress" {
			t.Fatalf("%v, fix off: want a progress failure (fsync waits behind the killed record), got %v", e, res.Failure)
		}
		var killed *Writeback
		for _, wb := range r.fs.records {
			if !wb.freed && !wb.marker {
				killed = wb
			}
		}
		if killed == nil || killed.Usage != 1 || killed.State != AFS_WBACK_WRITING || killed.Link.prev != &r.v.Writebacks {
			t.Errorf("%v, fix off: want the killed record at the head of the queue, usage 1, WRITING; got %v", e, killed)
		}
	}

	// The fix: fsync reports the error, whatever the group.
	want := map[errno.Errno]int{errno.ENOSPC: errno.ENOSPC.Neg()}
	for _, e := range []errno.Errno{errno.EIO, errno.ENOENT, errno.EROFS, errno.EKEYEXPIRED, errno.EACCES,
		errno.ENOKEY, errno.ENOSPC, errno.ETIMEDOUT} {
		var ret int
		_, res := runOne(t, AllFixes(), nil, 1, body(e, &ret))
		mustOK(t, res)
		w, ok := want[e]
		if !ok {
			w = errno.EIO.Neg()
		}
		if ret != w {
			t.Errorf("%v, fix on: fsync returned %d, want %d", e, ret, w)
		}
	}
}

// TestFlushConflictStoreErrorUnlocksPage: k0's dirty page 0 cannot be
// stored (k0's key has expired); k1 writes to the same page, and
// afs_write_begin's flush_conflicting_wb store fails. Without
// flush-conflict-page-leak the write returns the error with page 0 still
// locked, and k1's fsync sleeps in lock_page for ever; with it the write
// fails cleanly and fsync reports the error (its own store of k0's page
// fails again).
func TestFlushConflictStoreErrorUnlocksPage(t *testing.T) {
	plan := mustPlan(t, "store key k0: fail EKEYEXPIRED")
	var wret int64
	var fret int
	body := func(r *rig, st *sim.Task) {
		f0 := AfsOpen(st, r.v, r.keys[0])
		f1 := AfsOpen(st, r.v, r.keys[1])
		r.write(st, f0, 0, 100)
		wret = r.write(st, f1, 200, 100)
		fret = VfsFsync(st, f1, 0)
		AfsRelease(st, f0)
		AfsRelease(st, f1)
	}
	_, res := runOne(t, fixesWithout(t, "flush-conflict-page-leak"), plan, 2, body)
	if res.Failure == nil || res.Failure.Invariant != "progress" {
		t.Fatalf("fix off: want a progress failure (lock_page of the leaked page), got %v", res.Failure)
	}
	if wret != int64(errno.EKEYEXPIRED.Neg()) {
		t.Errorf("fix off: k1's write returned %d, want %d", wret, errno.EKEYEXPIRED.Neg())
	}

	r, res := runOne(t, AllFixes(), plan, 2, body)
	mustOK(t, res)
	// fsync stores k0's page again (the key is still expired): its own
	// writepages returns the error
	if wret != int64(errno.EKEYEXPIRED.Neg()) || fret != errno.EKEYEXPIRED.Neg() {
		t.Errorf("fix on: write %d, fsync %d; want %d for both", wret, fret, errno.EKEYEXPIRED.Neg())
	}
	if vs := append(r.fs.CheckRecords(), r.fs.CheckPages()...); len(vs) > 0 {
		t.Errorf("fix on: %v", vs)
	}
}
