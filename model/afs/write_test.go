package afs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// recView is what the per-function tests compare about a record.
type recView struct {
	First, Last           uint64
	OffsetFirst, ToLast   uint
	Usage                 int
	State                 WbState
	Key                   string
	OnList, Freed, Marker bool
}

func viewOf(v *Vnode, wb *Writeback) recView {
	list, _ := v.ListRecords()
	on := false
	for _, x := range list {
		on = on || x == wb
	}
	return recView{First: wb.First, Last: wb.Last, OffsetFirst: wb.OffsetFirst, ToLast: wb.ToLast,
		Usage: wb.Usage, State: wb.State, Key: keyName(wb.Key), OnList: on, Freed: wb.freed, Marker: wb.marker}
}

func liveViews(r *rig) []recView {
	var out []recView
	for _, wb := range r.fs.LiveRecords() {
		out = append(out, viewOf(r.v, wb))
	}
	return out
}

func mustOK(tb testing.TB, res *sim.Result) {
	tb.Helper()
	if res.Failure != nil {
		tb.Fatalf("run failed: %s", res.Failure.Report())
	}
}

// TestWriteBeginNewRecord: the first write to a page makes a new record
// (the "new" exit): on the list, usage 1, page->private set, key taken.
func TestWriteBeginNewRecord(t *testing.T) {
	r, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		if n := r.write(st, f, 100, 50); n != 50 {
			st.World().Failf("test", sim.Obj{}, "write returned %d", n)
		}
	})
	mustOK(t, res)
	want := []recView{{First: 0, Last: 0, OffsetFirst: 100, ToLast: 150, Usage: 1, State: AFS_WBACK_PENDING,
		Key: "k0", OnList: true}}
	if d := cmp.Diff(want, liveViews(r)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	p := r.v.PagesOf()[0]
	if pagePrivateWb(p) == nil || !mm.PagePrivate(p) || !mm.PageDirty(p) {
		t.Errorf("page 0: private %v, flags %s", pagePrivateWb(p), mm.FlagNames(p.Flags))
	}
	if got := r.keys[0].Usage(); got != 3 { // keyring + file + record
		t.Errorf("key usage %d, want 3", got)
	}
	if vs := append(r.fs.CheckRecords(), r.fs.CheckPages()...); len(vs) != 0 {
		t.Errorf("violations: %v", vs)
	}
}

// TestWriteBeginSubsume: a second write to the same page with the same key
// joins the page's pending record and widens its byte range (the "sub"
// exit); the candidate is freed.
func TestWriteBeginSubsume(t *testing.T) {
	r, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 100, 50)
		r.write(st, f, 10, 20)
		r.write(st, f, 200, 300)
	})
	mustOK(t, res)
	want := []recView{{First: 0, Last: 0, OffsetFirst: 10, ToLast: 500, Usage: 1, State: AFS_WBACK_PENDING,
		Key: "k0", OnList: true}}
	if d := cmp.Diff(want, liveViews(r)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	if n := len(r.fs.Records()); n != 3 {
		t.Errorf("%d records allocated, want 3 (two candidates freed)", n)
	}
}

// TestWriteBeginAppend: writing the page after a pending record's last
// page with the same key extends that record (the "app" exit).
func TestWriteBeginAppend(t *testing.T) {
	r, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 4000, 96)      // page 0 [4000,4096)
		r.write(st, f, 4096, 4096+70) // pages 1 and 2
	})
	mustOK(t, res)
	want := []recView{{First: 0, Last: 2, OffsetFirst: 4000, ToLast: 70, Usage: 3, State: AFS_WBACK_PENDING,
		Key: "k0", OnList: true}}
	if d := cmp.Diff(want, liveViews(r)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	for _, p := range r.v.PagesOf() {
		if pagePrivateWb(p) != r.fs.LiveRecords()[0] {
			t.Errorf("page %d not in the record", p.Index)
		}
	}
}

// TestWriteBeginAppendNeedsSameKey: another key's record is not appended
// to: the page gets its own record.
func TestWriteBeginAppendNeedsSameKey(t *testing.T) {
	r, res := runOne(t, AllFixes(), nil, 2, func(r *rig, st *sim.Task) {
		f0 := AfsOpen(st, r.v, r.keys[0])
		f1 := AfsOpen(st, r.v, r.keys[1])
		r.write(st, f0, 0, 10)
		r.write(st, f1, 4096, 10)
	})
	mustOK(t, res)
	want := []recView{
		{First: 0, Last: 0, OffsetFirst: 0, ToLast: 10, Usage: 1, State: AFS_WBACK_PENDING, Key: "k0", OnList: true},
		{First: 1, Last: 1, OffsetFirst: 0, ToLast: 10, Usage: 1, State: AFS_WBACK_PENDING, Key: "k1", OnList: true},
	}
	if d := cmp.Diff(want, liveViews(r)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

// TestWriteBeginFlushConflicting: a write with another key to a dirty page
// bound to a pending record takes the flush_conflicting_wb path: the old
// record is marked CONFLICTING, the page is stored synchronously under the
// old key, the old record goes, and the page joins a new record.
func TestWriteBeginFlushConflicting(t *testing.T) {
	var firstStamp string
	r, res := runOne(t, AllFixes(), nil, 2, func(r *rig, st *sim.Task) {
		f0 := AfsOpen(st, r.v, r.keys[0])
		f1 := AfsOpen(st, r.v, r.keys[1])
		r.write(st, f0, 0, 100)
		firstStamp = r.oracle.Read(0, 100).String()
		r.write(st, f1, 50, 100)
	})
	mustOK(t, res)
	want := []recView{{First: 0, Last: 0, OffsetFirst: 50, ToLast: 150, Usage: 1, State: AFS_WBACK_PENDING,
		Key: "k1", OnList: true}}
	if d := cmp.Diff(want, liveViews(r)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	var log []Op
	for _, op := range r.srv.Log() {
		if op.Op == faultdisk.OpStore {
			log = append(log, op)
		}
	}
	if len(log) != 1 || log[0].Key != "k0" || log[0].Err != 0 || log[0].Off != 0 || log[0].Len != 100 {
		t.Fatalf("server log %v, want one store of bytes 0+100 under k0", log)
	}
	if got := r.srv.File(1).Data.Read(0, 100).String(); got != firstStamp {
		t.Errorf("server has %s, want %s", got, firstStamp)
	}
	if vs := append(r.fs.CheckRecords(), r.fs.CheckPages()...); len(vs) != 0 {
		t.Errorf("violations: %v", vs)
	}
}

// TestWriteBeginFlushConflictingDoublePut: with the seed's flush path, the
// page's reference on the old record is dropped twice (once by
// afs_pages_written_back, once by afs_write_begin): the record is used
// after it was freed.
func TestWriteBeginFlushConflictingDoublePut(t *testing.T) {
	fixes := AllFixes()
	fixes.FlushConflictDoublePut = false
	_, res := runOne(t, fixes, nil, 2, func(r *rig, st *sim.Task) {
		f0 := AfsOpen(st, r.v, r.keys[0])
		f1 := AfsOpen(st, r.v, r.keys[1])
		r.write(st, f0, 0, 100)
		r.write(st, f1, 50, 100)
	})
	if res.Failure == nil || res.Failure.Invariant != InvWbRecord || !strings.Contains(res.Failure.Msg, "after kfree") {
		t.Fatalf("want a wb-record use-after-free, got %v", res.Failure)
	}
}

// TestWriteBeginFlushFailureCandidate: when the synchronous store on the
// flush path fails, the seed puts the never-linked candidate, whose
// kzalloc'd link is NULL: list_del_init oopses. With the candidate's link
// initialised the error comes back to the writer.
func TestWriteBeginFlushFailureCandidate(t *testing.T) {
	plan := mustPlan(t, "store key k0: fail EIO")
	for _, fix := range []bool{false, true} {
		fixes := AllFixes()
		fixes.CandidateListInit = fix
		var got int64
		_, res := runOne(t, fixes, plan, 2, func(r *rig, st *sim.Task) {
			f0 := AfsOpen(st, r.v, r.keys[0])
			f1 := AfsOpen(st, r.v, r.keys[1])
			r.write(st, f0, 0, 100)
			got = r.write(st, f1, 50, 100)
		})
		if !fix {
			if res.Failure == nil || res.Failure.Invariant != InvWbRecord || !strings.Contains(res.Failure.Msg, "list_del_init") {
				t.Fatalf("seed: want a wb-record oops in list_del_init, got %v", res.Failure)
			}
			continue
		}
		mustOK(t, res)
		if got != int64(errno.EIO.Neg()) {
			t.Errorf("write returned %d, want -EIO", got)
		}
	}
}

// TestWriteEndExtendsISize: afs_write_end grows i_size to the end of the
// copy, never shrinks it.
func TestWriteEndExtendsISize(t *testing.T) {
	var sizes []int64
	r, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 5000, 100)
		sizes = append(sizes, mm.ISizeRead(r.v.VFSInode))
		r.write(st, f, 10, 10)
		sizes = append(sizes, mm.ISizeRead(r.v.VFSInode))
		r.write(st, f, 8190, 10)
		sizes = append(sizes, mm.ISizeRead(r.v.VFSInode))
	})
	mustOK(t, res)
	if d := cmp.Diff([]int64{5100, 5100, 8200}, sizes); d != "" {
		t.Errorf("i_size (-want +got):\n%s", d)
	}
	_ = r
}

// TestFsyncStoresEverything: a write then fsync puts the bytes on the
// server and frees every record; fsync returns 0.
func TestFsyncStoresEverything(t *testing.T) {
	var ret int
	r, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 100, 3*4096)
		ret = r.fsyncChecked(st, f)
	})
	mustOK(t, res)
	if ret != 0 {
		t.Fatalf("fsync returned %d", ret)
	}
	if !r.srv.File(1).Data.Equal(r.oracle) {
		t.Errorf("server %s, oracle %s", r.srv.File(1).Data, r.oracle)
	}
	if n := len(r.fs.LiveRecords()); n != 0 {
		t.Errorf("%d records live after fsync", n)
	}
	if vs := append(r.fs.CheckRecords(), r.fs.CheckPages()...); len(vs) != 0 {
		t.Errorf("violations: %v", vs)
	}
}

// TestWritepageErrorReturnsZero: afs_writepage returns 0 even when the
// store fails; the error only shows in the mapping flags. (Called as
// reclaim calls it, after clear_page_dirty_for_io, it BUG()s first: see
// TestWritepageFromReclaimBUGs; here the page is redirtied so that the
// store is reached.)
func TestWritepageErrorReturnsZero(t *testing.T) {
	plan := mustPlan(t, "store: fail EIO")
	var ret int
	r, res := runOne(t, AllFixes(), plan, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 0, 100)
		p := mm.FindLockPage(st, r.v.Mapping(), 0)
		mm.ClearPageDirtyForIO(st, p) // as pageout/write_cache_pages do
		mm.SetPageDirtyNobuffers(st, p)
		ret = AfsWritepage(st, p, &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1})
		mm.PutPage(st, p)
	})
	mustOK(t, res)
	if ret != 0 {
		t.Errorf("afs_writepage returned %d, want 0", ret)
	}
	if r.v.Mapping().Flags&(1<<mm.AS_EIO) == 0 {
		t.Errorf("AS_EIO not set after a failed store")
	}
}

// TestListPoison: list_del poisons, and a second list_del oopses with a
// wb-record failure.
func TestListPoison(t *testing.T) {
	_, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		wb := r.fs.kzallocWriteback(r.v)
		ListAddTail(st, &wb.Link, &r.v.Writebacks)
		ListDel(st, &wb.Link)
		if !wb.Link.Poisoned() || !ListEmpty(&r.v.Writebacks) {
			st.World().Failf("test", sim.Obj{}, "list_del did not poison or unlink")
		}
		ListDel(st, &wb.Link)
	})
	if res.Failure == nil || res.Failure.Invariant != InvWbRecord || !strings.Contains(res.Failure.Msg, "LIST_POISON") {
		t.Fatalf("want a LIST_POISON oops, got %v", res.Failure)
	}
}

// TestKeyPutBelowZero: a key put more often than got fails.
func TestKeyPutBelowZero(t *testing.T) {
	_, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		k := r.keys[0]
		KeyPut(st, k)
		KeyPut(st, k)
	})
	if res.Failure == nil || !strings.Contains(res.Failure.Msg, "below zero") {
		t.Fatalf("want key put below zero, got %v", res.Failure)
	}
}

// TestStoreErrnoGroupsSeed: a single-page store failing with each errno
// the plan can inject, handled by the seed's switch in
// afs_write_back_from_locked_page (no fix), seen through the page flags
// and the mapping's AS_* bits.
func TestStoreErrnoGroupsSeed(t *testing.T) {
	type outcome struct {
		Ret                                 int
		Writeback, Dirty, Uptodate, PGError bool
		ASEIO, ASENOSPC                     bool
	}
	stuck := outcome{Writeback: true, Uptodate: true}
	killed := outcome{}
	cases := map[errno.Errno]outcome{}
	for _, e := range []errno.Errno{errno.EDQUOT, errno.ENOSPC} {
		o := stuck
		o.ASENOSPC = true
		cases[e] = o
	}
	for _, e := range []errno.Errno{errno.EROFS, errno.EIO, errno.EREMOTEIO, errno.EFBIG, errno.ENOENT, errno.ENOMEDIUM, errno.ENXIO} {
		o := killed
		o.PGError, o.ASEIO = true, true
		cases[e] = o
	}
	for _, e := range []errno.Errno{errno.EACCES, errno.EPERM, errno.ENOKEY, errno.EKEYEXPIRED, errno.EKEYREJECTED, errno.EKEYREVOKED} {
		cases[e] = killed
	}
	for _, e := range []errno.Errno{errno.ETIMEDOUT, errno.EINTR} {
		cases[e] = stuck
	}
	for _, e := range errnoGroups {
		want := cases[e]
		want.Ret = e.Neg()
		var got outcome
		r, res := runOne(t, Fixes{}, mustPlan(t, "store: fail "+e.String()), 1, func(r *rig, st *sim.Task) {
			f := AfsOpen(st, r.v, r.keys[0])
			r.write(st, f, 0, 100)
			wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 16, RangeCyclic: true}
			got.Ret = mm.DoWritepages(st, r.v.Mapping(), wbc)
		})
		mustOK(t, res)
		p := r.v.PagesOf()[0]
		got.Writeback, got.Dirty, got.Uptodate = mm.PageWriteback(p), mm.PageDirty(p), mm.PageUptodate(p)
		got.PGError = mm.PageError(p)
		got.ASEIO = r.v.Mapping().Flags&(1<<mm.AS_EIO) != 0
		got.ASENOSPC = r.v.Mapping().Flags&(1<<mm.AS_ENOSPC) != 0
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", e, d)
		}
	}
}

// TestWritepageFromReclaimBUGs: reclaim's pageout cleans the page with
// clear_page_dirty_for_io before ->writepage; afs_writepage's
// afs_write_back_from_locked_page then finds the primary page clean and
// BUG()s.
func TestWritepageFromReclaimBUGs(t *testing.T) {
	_, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 0, 100)
		p := mm.FindLockPage(st, r.v.Mapping(), 0)
		if mm.ClearPageDirtyForIO(st, p) != 0 {
			AfsWritepage(st, p, &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 32, ForReclaim: true})
		}
	})
	if res.Failure == nil || res.Failure.Invariant != mm.InvPageState || !strings.Contains(res.Failure.Msg, "primary page not dirty") {
		t.Fatalf("want the page-state BUG, got %v", res.Failure)
	}
}
