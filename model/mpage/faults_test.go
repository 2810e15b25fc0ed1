package mpage_test

import (
	"testing"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// failWrites makes every write request fail with EIO after good bytes.
func failWrites(e *env, good int64) {
	e.dev.Fail = func(rq *block.Request) (errno.Errno, int64) {
		if rq.Op == block.ReqWrite {
			return errno.EIO, good
		}
		return 0, rq.Len
	}
}

// backgroundWriteback is one pass of background writeback over the
// mapping (WB_SYNC_NONE; range_cyclic from 2.6.17 on), then a wait for
// the pages' writeback to end: the write completes before anyone asks.
func backgroundWriteback(t *sim.Task, f *file, nr int64) int {
	wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: nr, RangeCyclic: f.e.k.Version != mm.V2_6_12}
	ret := mm.DoWritepages(t, f.ino.Mapping, wbc)
	for i := range uint64(mm.ISizeRead(f.ino)+mm.PageSize-1) >> mm.PageCacheShift {
		if p := mm.FindGetPage(t, f.ino.Mapping, i); p != nil {
			mm.WaitOnPageWriteback(t, p)
			mm.PageCacheRelease(t, p)
		}
	}
	return ret
}

// TestWriteErrorAsync: a write bio that fails in background writeback
// leaves PG_error on its pages; 2.6.2x and 3.x also set AS_EIO
// (mpage_end_io_write / mpage_end_io), 2.6.12 does not. A later fsync
// (filemap_write_and_wait) therefore reports -EIO once on 2.6.2x and 3.x,
// and nothing on 2.6.12: the page is no longer under writeback and
// nothing on the mapping remembers the error.
func TestWriteErrorAsync(t *testing.T) {
	for _, v := range versions {
		e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: 4096}})
		f := e.newFile(30)
		wantAS := v != mm.V2_6_12
		wantFsync := errno.EIO.Neg()
		if v == mm.V2_6_12 {
			wantFsync = 0
		}
		e.run(t, func(tk *sim.Task) {
			if f.write(tk, 0, 4*mm.PageSize, 1) != 0 {
				t.Fatal("write failed")
			}
			failWrites(e, 0)
			backgroundWriteback(tk, f, 1024)
			for i := range uint64(4) {
				p := mm.FindGetPage(tk, f.ino.Mapping, i)
				if !mm.PageError(p) {
					t.Errorf("%s: page %d: no PG_error after a failed write", v, i)
				}
				mm.PageCacheRelease(tk, p)
			}
			if got := f.ino.Mapping.Flags&(1<<mm.AS_EIO) != 0; got != wantAS {
				t.Errorf("%s: AS_EIO set = %v, want %v", v, got, wantAS)
			}
			if r := mm.FilemapWriteAndWait(tk, f.ino.Mapping); r != wantFsync {
				t.Errorf("%s: first fsync after the failed write returned %d, want %d", v, r, wantFsync)
			}
			if r := mm.FilemapWriteAndWait(tk, f.ino.Mapping); r != 0 {
				t.Errorf("%s: second fsync returned %d, want 0", v, r)
			}
		})
		if st := mpage.StatsOf(e.k); st.WriteBios != 1 || st.WritePages != 4 {
			t.Errorf("%s: want the four pages in one bio: %+v", v, st)
		}
	}
}

// TestWriteErrorSync: when fsync's own write fails, every version reports
// -EIO: fdatawait finds the page under writeback and sees PG_error.
func TestWriteErrorSync(t *testing.T) {
	for _, v := range versions {
		e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: 4096}})
		f := e.newFile(31)
		e.run(t, func(tk *sim.Task) {
			if f.write(tk, 0, 4*mm.PageSize, 1) != 0 {
				t.Fatal("write failed")
			}
			failWrites(e, 0)
			if r := mm.FilemapWriteAndWait(tk, f.ino.Mapping); r != errno.EIO.Neg() {
				t.Errorf("%s: fsync whose write failed returned %d, want -EIO", v, r)
			}
		})
	}
}

// TestPartialCompletion2612: a write request that fails after its first
// page ends the bio in two pieces. 2.6.12's bi_end_io(bio, bytes_done,
// err) is called for each: the first call sees bi_size != 0 and returns 1
// without touching a page (mpage-2.6.12.numbered.c:73-74); the second
// ends every page, with PG_error (BIO_UPTODATE was cleared). The later
// eras' handler runs once.
func TestPartialCompletion2612(t *testing.T) {
	for _, v := range versions {
		e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: 4096}})
		f := e.newFile(32)
		calls := 0
		e.w.Observe(func(w *sim.World, ev *sim.Event) {
			if ev.Kind == sim.KindEnter && (ev.Op == "mpage_end_io_write" || ev.Op == "mpage_end_io") {
				calls++
			}
		})
		e.run(t, func(tk *sim.Task) {
			if f.write(tk, 0, 2*mm.PageSize, 1) != 0 {
				t.Fatal("write failed")
			}
			failWrites(e, mm.PageSize)
			backgroundWriteback(tk, f, 1024)
			for i := range uint64(2) {
				p := mm.FindGetPage(tk, f.ino.Mapping, i)
				if !mm.PageError(p) || mm.PageWriteback(p) {
					t.Errorf("%s: page %d: %v, want PG_error and no PG_writeback", v, i, p)
				}
				mm.PageCacheRelease(tk, p)
			}
		})
		want := 1
		if v == mm.V2_6_12 {
			want = 2
		}
		if calls != want {
			t.Errorf("%s: the write completion handler ran %d times for one bio, want %d", v, calls, want)
		}
	}
}

// TestBioAllocFailure: when bio_alloc fails, mpage sends the page down the
// confused path (->writepage, block_read_full_page), which still moves
// the data.
func TestBioAllocFailure(t *testing.T) {
	for _, v := range versions {
		for _, nobh := range []bool{false, true} {
			e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: 4096, Nobh: nobh}})
			e.bdev.Layer().AllocFault = func(site string) bool { return site == "bio_alloc" }
			f := e.newFile(33)
			e.run(t, func(tk *sim.Task) {
				writeAndDrop(t, tk, f, 6*mm.PageSize+10)
				got, err := f.readAll(tk, 8)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(got, f.want()); d != "" {
					t.Errorf("%s nobh=%v: read: %s", v, nobh, d)
				}
			})
			if d := diff(f.diskImage(), f.wantBlocks()); d != "" {
				t.Errorf("%s nobh=%v: disk: %s", v, nobh, d)
			}
			st := mpage.StatsOf(e.k)
			// nobh_writepage tries mpage_writepage first, which is
			// confused again (-EAGAIN) before __block_write_full_page.
			wantWC := int64(7)
			if nobh {
				wantWC = 14
			}
			if st.WriteBios != 0 || st.ReadBios != 0 || st.WriteConfused != wantWC || st.ReadConfused != 7 {
				t.Errorf("%s nobh=%v: every page should have taken the confused paths: %+v", v, nobh, st)
			}
		}
	}
}

// TestBioAllocMemalloc: a task in reclaim (PF_MEMALLOC) retries a failed
// bio_alloc with half as many vecs (mpage_alloc); the smaller bios still
// carry the data.
func TestBioAllocMemalloc(t *testing.T) {
	for _, v := range versions {
		e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: 4096, Layout: blockfs.LayoutExtent},
			cfg: mpage.Config{Memalloc: func(*sim.Task) bool { return true }}})
		n := 0
		e.bdev.Layer().AllocFault = func(site string) bool {
			n++
			return site == "bio_alloc" && n%3 != 0 // two failures, then one success
		}
		f := e.newFile(34)
		e.run(t, func(tk *sim.Task) {
			writeAndDrop(t, tk, f, 64*mm.PageSize)
			got, err := f.readAll(tk, 64)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(got, f.want()); d != "" {
				t.Errorf("%s: read: %s", v, d)
			}
		})
		if d := diff(f.diskImage(), f.wantBlocks()); d != "" {
			t.Errorf("%s: disk: %s", v, d)
		}
		st := mpage.StatsOf(e.k)
		if st.WriteConfused != 0 || st.ReadConfused != 0 || st.WriteBios <= 2 {
			t.Errorf("%s: want only mpage bios, smaller than usual: %+v", v, st)
		}
	}
}
