package afs

import (
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// lastStore is the server's last store request.
func lastStore(tb testing.TB, r *rig) Op {
	tb.Helper()
	for i := len(r.srv.Log()) - 1; i >= 0; i-- {
		if op := r.srv.Log()[i]; op.Op == faultdisk.OpStore {
			return op
		}
	}
	tb.Fatal("no store reached the server")
	return Op{}
}

// serverHas checks that the server's file is exactly want.
func serverHas(tb testing.TB, r *rig, want *content.Store) {
	tb.Helper()
	got := r.srv.File(r.v.FileID()).Data
	if !got.Equal(want) {
		n := max(got.Size(), want.Size())
		g, w := got.Read(0, n), want.Read(0, n)
		d := w.FirstDiff(g)
		tb.Errorf("server file (size %d) differs from the expected (size %d) at byte %d: got %s want %s",
			got.Size(), want.Size(), d, g.Slice(d, 1), w.Slice(d, 1))
	}
}

// TestSetattrTruncateShrinksAndExtends: ftruncate of a synced file sends
// FS.StoreData with no bytes and the new length; the server drops the
// bytes past it (or adds zeros) and i_size follows the reply.
func TestSetattrTruncateShrinksAndExtends(t *testing.T) {
	for _, size := range []int64{0, 3000, 4096, 9000, 20000} {
		var ret int
		r, res := runOne(t, AllFixes(), nil, 1, func(r *rig, st *sim.Task) {
			f := AfsOpen(st, r.v, r.keys[0])
			r.write(st, f, 0, 10000)
			if e := r.fsyncChecked(st, f); e != 0 {
				st.World().Failf("test", r.v.Obj(), "fsync returned %d", e)
			}
			r.oracle.Truncate(size)
			ret = vfs.Ftruncate(st, f.VFS, size)
			AfsRelease(st, f)
		})
		r.quiescentChecks()
		mustOK(t, res)
		if ret != 0 {
			t.Fatalf("size %d: ftruncate returned %d", size, ret)
		}
		serverHas(t, r, r.oracle)
		if got := mm.ISizeRead(r.v.VFSInode); got != size {
			t.Errorf("size %d: i_size %d", size, got)
		}
		if op := lastStore(t, r); op.Off != 0 || op.Len != 0 || op.Key != "k0" || op.Err != 0 {
			t.Errorf("size %d: last store %v, want 0+0 under k0", size, op)
		}
		if u := r.keys[0].Usage(); u != 1 {
			t.Errorf("size %d: key usage %d after close, want 1 (the keyring's)", size, u)
		}
		if r.v.TestBit(AFS_VNODE_ZAP_DATA) {
			t.Errorf("size %d: ZAP_DATA set: the reply's data version was the expected one", size)
		}
	}
}

// TestSetattrFlushesDirtyPagesFirst: data written and not yet stored,
// below the new size, reaches the server before the size-setting store
// (filemap_write_and_wait and afs_writeback_all in afs_setattr). Without
// the flush the truncate would find nothing on the server (zeros up to
// the new length) and the dirty pages' later store would send the
// record's whole range with FileLength = its end, growing the file back
// past the truncate.
func TestSetattrFlushesDirtyPagesFirst(t *testing.T) {
	var ret int
	var atTrunc *content.Store
	r, res := runOne(t, AllFixes(), nil, 2, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[1])
		r.write(st, f, 0, 10000) // pages 0-2, dirty
		r.oracle.Truncate(6000)
		ret = vfs.Ftruncate(st, f.VFS, 6000)
		atTrunc = r.srv.File(r.v.FileID()).Data.Clone()
		if e := VfsFsync(st, f, 0); e != 0 {
			st.World().Failf("test", r.v.Obj(), "fsync returned %d", e)
		}
		AfsRelease(st, f)
	})
	r.quiescentChecks()
	mustOK(t, res)
	if ret != 0 {
		t.Fatalf("ftruncate returned %d", ret)
	}
	if !atTrunc.Equal(r.oracle) {
		t.Errorf("when ftruncate returned the server had %d bytes (%s...), want the written bytes up to 6000",
			atTrunc.Size(), atTrunc.Read(0, min(atTrunc.Size(), 16)))
	}
	serverHas(t, r, r.oracle)
	// the data store went first, under the file's key; then the size
	var stores []Op
	for _, op := range r.srv.Log() {
		if op.Op == faultdisk.OpStore {
			stores = append(stores, op)
		}
	}
	if len(stores) != 2 || stores[0].Len != 10000 || stores[1].Len != 0 || stores[1].Key != "k1" {
		t.Errorf("stores %v, want the 10000 written bytes then the size-setting store under k1", stores)
	}
	for _, p := range r.v.PagesOf() {
		if mm.PageDirty(p) || mm.PageWriteback(p) {
			t.Errorf("page %d still %s", p.Index, mm.FlagNames(p.Flags))
		}
	}
}

// TestSetattrStoreErrorReturned: a failing size-setting store (an armed
// one-shot failure, a fault-plan rule, or the server's own EACCES for a
// key that may not write) returns its error; neither i_size nor the
// server's file changes.
func TestSetattrStoreErrorReturned(t *testing.T) {
	cases := []struct {
		name string
		plan string
		arm  errno.Errno
		key  int
		want errno.Errno
	}{
		{name: "armed EIO", arm: errno.EIO, want: errno.EIO},
		{name: "plan ENOSPC", plan: "store after 1: fail ENOSPC", want: errno.ENOSPC},
		{name: "plan EKEYEXPIRED", plan: "store key k0 after 1: fail EKEYEXPIRED", want: errno.EKEYEXPIRED},
		{name: "not a writer", key: 1, want: errno.EACCES},
	}
	for _, c := range cases {
		var plan *faultdisk.Plan
		if c.plan != "" {
			plan = mustPlan(t, c.plan)
		}
		var ret int
		var before *content.Store
		r, res := runOne(t, AllFixes(), plan, 2, func(r *rig, st *sim.Task) {
			r.srv.Revoke(r.v.FileID(), "k1")
			f := AfsOpen(st, r.v, r.keys[0])
			r.write(st, f, 0, 10000)
			if e := VfsFsync(st, f, 0); e != 0 {
				st.World().Failf("test", r.v.Obj(), "fsync returned %d", e)
			}
			before = r.srv.File(r.v.FileID()).Data.Clone()
			if c.arm != 0 {
				r.srv.FailNextStore(c.arm)
			}
			tf := f
			if c.key != 0 {
				tf = AfsOpen(st, r.v, r.keys[c.key])
			}
			ret = vfs.Ftruncate(st, tf.VFS, 100)
			AfsRelease(st, f)
			if tf != f {
				AfsRelease(st, tf)
			}
		})
		r.quiescentChecks()
		mustOK(t, res)
		if ret != c.want.Neg() {
			t.Errorf("%s: ftruncate returned %d, want %d", c.name, ret, c.want.Neg())
		}
		if got := mm.ISizeRead(r.v.VFSInode); got != 10000 {
			t.Errorf("%s: i_size %d, want 10000 (unchanged)", c.name, got)
		}
		serverHas(t, r, before)
		if before.Size() != 10000 {
			t.Errorf("%s: server had %d bytes before the truncate, want 10000", c.name, before.Size())
		}
		if op := lastStore(t, r); op.Len != 0 || op.Err != c.want {
			t.Errorf("%s: last store %v, want the size-setting store failing with %v", c.name, op, c.want)
		}
	}
}

// TestSetattrKeyWithoutFile: a truncate with no file (open's O_TRUNC:
// do_truncate without ATTR_FILE) uses afs_request_key's key, in the model
// the volume's first key, and puts it again; ftruncate uses the file's.
func TestSetattrKeyWithoutFile(t *testing.T) {
	var ret int
	r, res := runOne(t, AllFixes(), nil, 2, func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[1])
		r.write(st, f, 0, 5000)
		ret = vfs.DoTruncate(st, r.v.Inode, 0, vfs.ATTR_MTIME|vfs.ATTR_CTIME, nil)
		AfsRelease(st, f)
	})
	r.quiescentChecks()
	mustOK(t, res)
	if ret != 0 {
		t.Fatalf("do_truncate returned %d", ret)
	}
	if op := lastStore(t, r); op.Key != "k0" || op.Len != 0 {
		t.Errorf("last store %v, want the size-setting store under k0", op)
	}
	if got := r.srv.File(r.v.FileID()).Data.Size(); got != 0 {
		t.Errorf("server size %d, want 0", got)
	}
	for i, k := range r.keys {
		if k.Usage() != 1 {
			t.Errorf("key %d usage %d, want 1", i, k.Usage())
		}
	}
}

// TestSetattrLeavesPagesBeyondEOF pins the era's behaviour: afs_setattr
// truncates no page cache (no vmtruncate, no truncate_pagecache), so
// after a shrinking truncate the pages past the new i_size stay cached,
// clean and uptodate, with their old bytes. With
// setattr-truncate-pagecache (later kernels' truncate_pagecache) they are
// gone and the partial page's tail is zeroed.
func TestSetattrLeavesPagesBeyondEOF(t *testing.T) {
	var want content.Bytes
	body := func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 0, 3*mm.PageSize)
		want = r.oracle.Read(2*mm.PageSize, 100)
		if ret := vfs.Ftruncate(st, f.VFS, 100); ret != 0 {
			st.World().Failf("test", r.v.Obj(), "ftruncate returned %d", ret)
		}
		AfsRelease(st, f)
	}
	r, res := runOne(t, fixesWithout(t, "setattr-truncate-pagecache"), nil, 1, body)
	r.quiescentChecks()
	mustOK(t, res)
	pages := r.v.PagesOf()
	if len(pages) != 3 {
		t.Fatalf("fix off: %d pages cached after the truncate, want 3 (none dropped)", len(pages))
	}
	p := pages[2]
	if !mm.PageUptodate(p) || mm.PageDirty(p) {
		t.Errorf("fix off: page 2: %s, want uptodate and clean", mm.FlagNames(p.Flags))
	}
	if stale := mm.PageData(p, 0, 100); !stale.Equal(want) {
		t.Errorf("fix off: page 2 holds %s, want its old bytes %s", stale, want)
	}
	if got := mm.ISizeRead(r.v.VFSInode); got != 100 {
		t.Errorf("fix off: i_size %d, want 100", got)
	}

	r, res = runOne(t, AllFixes(), nil, 1, body)
	r.quiescentChecks()
	mustOK(t, res)
	pages = r.v.PagesOf()
	if len(pages) != 1 {
		t.Fatalf("fix on: %d pages cached after the truncate, want 1 (page 0)", len(pages))
	}
	if tail := mm.PageData(pages[0], 100, mm.PageSize-100); !tail.Equal(content.Zeros(mm.PageSize - 100)) {
		t.Errorf("fix on: page 0 past byte 100 is %s, want zeros", tail)
	}
}

// TestSetattrStaleBytesAfterRegrow: write a byte, truncate to 0, truncate
// to 1, read it. The server has a zero; without setattr-truncate-pagecache
// the read returns the old byte from the page the truncate left behind.
func TestSetattrStaleBytesAfterRegrow(t *testing.T) {
	var got content.Bytes
	body := func(r *rig, st *sim.Task) {
		f := AfsOpen(st, r.v, r.keys[0])
		r.write(st, f, 0, 1)
		for _, size := range []int64{0, 1} {
			if ret := vfs.Ftruncate(st, f.VFS, size); ret != 0 {
				st.World().Failf("test", r.v.Obj(), "ftruncate %d returned %d", size, ret)
			}
		}
		got, _ = vfs.Pread(st, f.VFS, 0, 1)
		AfsRelease(st, f)
	}
	r, res := runOne(t, fixesWithout(t, "setattr-truncate-pagecache"), nil, 1, body)
	mustOK(t, res)
	if sv := r.srv.File(r.v.FileID()).Data.Read(0, 1); !sv.Equal(content.Zeros(1)) {
		t.Errorf("server byte 0 is %s, want a zero", sv)
	}
	if got.Len() != 1 || got.Equal(content.Zeros(1)) {
		t.Errorf("fix off: read %s, want the stale written byte", got)
	}
	_, res = runOne(t, AllFixes(), nil, 1, body)
	mustOK(t, res)
	if !got.Equal(content.Zeros(1)) {
		t.Errorf("fix on: read %s, want a zero", got)
	}
}
