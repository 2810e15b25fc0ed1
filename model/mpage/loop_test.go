package mpage_test

import (
	"testing"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// failAOps is an a_ops whose ->writepage fails with ret (after unlocking
// the page, as block_write_full_page does on error) and counts its calls.
type failAOps struct {
	mm.NoAOps
	ret   int
	calls []uint64
}

func (a *failAOps) Writepage(t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int {
	a.calls = append(a.calls, p.Index)
	mm.UnlockPage(t, p)
	return a.ret
}

// bareKernel is a kernel with one file of n dirty pages on a_ops aops,
// the block layer linked in but no device or file system.
func bareKernel(v mm.Version, aops mm.AddressSpaceOperations, n uint64) (*sim.World, *mm.Kernel, *mm.Inode) {
	w := sim.New(sim.Config{Seed: 1})
	k := mm.NewKernel(w, v)
	block.Init(k)
	mpage.Setup(k, mpage.Config{})
	ino := k.NewInode(60, 12, aops, nil)
	w.Spawn("dirty", func(t *sim.Task) {
		for i := range n {
			p := mm.GrabCachePage(t, ino.Mapping, i)
			mm.CopyToPage(t, p, 0, content.Fill(mm.PageSize, 1, int64(i)*mm.PageSize))
			mm.SetPageUptodate(t, p)
			mm.SetPageDirty(t, p)
			mm.UnlockPage(t, p)
			mm.PageCacheRelease(t, p)
		}
		mm.ISizeWrite(t, ino, int64(n)*mm.PageSize)
	})
	return w, k, ino
}

// TestLoop2612WritepageError: 2.6.12's __mpage_writepages with get_block
// NULL (generic_writepages) sets AS_ENOSPC itself when ->writepage fails
// with -ENOSPC (mpage-2.6.12.numbered.c:715-724), and stops, but only
// after the rest of the current pagevec: done does not break the loop.
func TestLoop2612WritepageError(t *testing.T) {
	aops := &failAOps{ret: errno.ENOSPC.Neg()}
	w, _, ino := bareKernel(mm.V2_6_12, aops, 20)
	var ret int
	w.Spawn("writeback", func(t *sim.Task) {
		ret = mm.GenericWritepages(t, ino.Mapping, &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024})
	})
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure.Report())
	}
	if ret != errno.ENOSPC.Neg() || ino.Mapping.Flags&(1<<mm.AS_ENOSPC) == 0 || ino.Mapping.Flags&(1<<mm.AS_EIO) != 0 {
		t.Errorf("ret %d, mapping flags %#x: want -ENOSPC and AS_ENOSPC only", ret, ino.Mapping.Flags)
	}
	if len(aops.calls) != mm.PAGEVEC_SIZE {
		t.Errorf("->writepage called for %v, want the first pagevec (%d pages)", aops.calls, mm.PAGEVEC_SIZE)
	}
}

// TestConfusedWritepageError: when get_block fails, __mpage_writepage
// falls back to ->writepage; its error lands on the mapping (2.6.12
// set_bit, later mapping_set_error) in every era.
func TestConfusedWritepageError(t *testing.T) {
	failGetBlock := func(t *sim.Task, inode *mm.Inode, iblock uint64, bh *block.BufferHead, create int) int {
		return errno.ENOSPC.Neg()
	}
	for _, v := range versions {
		aops := &failAOps{ret: errno.EIO.Neg()}
		w, k, ino := bareKernel(v, aops, 3)
		var ret int
		w.Spawn("writeback", func(t *sim.Task) {
			ret = mpage.MpageWritepages(t, ino.Mapping, &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL,
				NrToWrite: 1024, RangeEnd: mm.LLONG_MAX}, failGetBlock)
		})
		if r := w.Run(); r.Failure != nil {
			t.Fatalf("%s: %s", v, r.Failure.Report())
		}
		if ret != errno.EIO.Neg() || ino.Mapping.Flags&(1<<mm.AS_EIO) == 0 {
			t.Errorf("%s: ret %d, mapping flags %#x: want -EIO and AS_EIO", v, ret, ino.Mapping.Flags)
		}
		if st := mpage.StatsOf(k); st.WriteConfused == 0 || st.WriteBios != 0 {
			t.Errorf("%s: %+v", v, st)
		}
	}
}

// TestLoop2612Range: wbc->start/end limit 2.6.12's sweep to a range
// (is_range) and leave writeback_index alone.
func TestLoop2612Range(t *testing.T) {
	aops := &failAOps{}
	w, _, ino := bareKernel(mm.V2_6_12, aops, 10)
	ino.Mapping.WritebackIndex = 7
	w.Spawn("writeback", func(t *sim.Task) {
		mm.GenericWritepages(t, ino.Mapping, &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL, NrToWrite: 1024,
			Start: 2 * mm.PageSize, End: 6*mm.PageSize - 1})
	})
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure.Report())
	}
	if want := []uint64{2, 3, 4, 5}; !equalU64(aops.calls, want) || ino.Mapping.WritebackIndex != 7 {
		t.Errorf("wrote %v (writeback_index %d), want %v (7)", aops.calls, ino.Mapping.WritebackIndex, want)
	}
}

// TestLoop2612Congestion: a nonblocking pass on a congested queue writes
// nothing and reports the congestion (652-655).
func TestLoop2612Congestion(t *testing.T) {
	aops := &failAOps{}
	w, _, ino := bareKernel(mm.V2_6_12, aops, 4)
	mm.SetBdiCongested(ino.Mapping.BDI)
	wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024, Nonblocking: true}
	w.Spawn("writeback", func(t *sim.Task) { mm.GenericWritepages(t, ino.Mapping, wbc) })
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure.Report())
	}
	if len(aops.calls) != 0 || !wbc.EncounteredCongestion {
		t.Errorf("wrote %v, encountered_congestion %v", aops.calls, wbc.EncounteredCongestion)
	}
}

// TestLoop2612WritebackIndex: a cyclic pass resumes at writeback_index,
// which ends up past the last page looked up.
func TestLoop2612WritebackIndex(t *testing.T) {
	aops := &failAOps{}
	w, _, ino := bareKernel(mm.V2_6_12, aops, 20)
	w.Spawn("writeback", func(t *sim.Task) {
		// nr_to_write 3 stops the sweep after the first pagevec (14 pages).
		mm.GenericWritepages(t, ino.Mapping, &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 3})
	})
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure.Report())
	}
	if len(aops.calls) != mm.PAGEVEC_SIZE || ino.Mapping.WritebackIndex != mm.PAGEVEC_SIZE {
		t.Errorf("wrote %v, writeback_index %d", aops.calls, ino.Mapping.WritebackIndex)
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCleancache3x: on 3.x a one-block page that cleancache holds is
// filled from it, not read (mpage-3.x.c:275-279); with cleancache off, and
// on the other eras, it is read from disk.
func TestCleancache3x(t *testing.T) {
	for _, v := range versions {
		for _, on := range []bool{false, true} {
			cc := &mpage.MemCleancache{}
			cfg := mpage.Config{}
			if on {
				cfg.Cleancache = cc
			}
			e := newEnv(envOpts{version: v, cfg: cfg, fs: blockfs.Options{BlockSize: 4096}})
			f := e.newFile(61)
			var from int
			e.run(t, func(tk *sim.Task) {
				writeAndDrop(t, tk, f, 4*mm.PageSize)
				// cleancache_put_page when the pages left the cache.
				for i := range int64(4) {
					cc.Put(61, uint64(i), f.oracle.Slice(i*mm.PageSize, mm.PageSize))
				}
				from = len(e.dev.Log)
				got, err := f.readAll(tk, 4)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(got, f.want()); d != "" {
					t.Errorf("%s cleancache=%v: %s", v, on, d)
				}
			})
			reads := len(e.requests(from, block.ReqRead))
			hits := mpage.StatsOf(e.k).CleancacheHits
			if on && v == mm.V3x {
				if reads != 0 || hits != 4 {
					t.Errorf("%s cleancache on: %d reads, %d hits; want 0, 4", v, reads, hits)
				}
			} else if reads == 0 || hits != 0 {
				t.Errorf("%s cleancache=%v: %d reads, %d hits; want reads, no hits", v, on, reads, hits)
			}
		}
	}
}

// TestLoop2612ErrorStaysSet: 2.6.12's __mpage_writepage writes the
// caller's ret only on its confused path (mpage-2.6.12.numbered.c:586-590).
// Page 0's get_block fails, so it is confused and its ->writepage fails
// with -EIO; pages 1-3 map and join the bio, which leaves ret at -EIO. The
// loop goes on through the pagevec (done does not break it), writes them,
// counts none of the four in nr_to_write (730 short-circuits on ret) and
// returns -EIO (753). A model that reset ret for each page would return 0
// and count three pages. On 2.6.2x and 3.x write_cache_pages stops at the
// first error: page 0 only.
func TestLoop2612ErrorStaysSet(t *testing.T) {
	for _, v := range versions {
		e := newEnv(envOpts{version: v})
		aops := &failAOps{ret: errno.EIO.Neg()}
		ino := e.k.NewInode(60, 12, aops, nil)
		getBlock := func(t *sim.Task, inode *mm.Inode, iblock uint64, bh *block.BufferHead, create int) int {
			if iblock == 0 {
				return errno.ENOSPC.Neg()
			}
			block.MapBh(t, bh, e.bdev, 1<<inode.Blkbits, 1000+iblock)
			return 0
		}
		wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024}
		var ret int
		e.run(t, func(t *sim.Task) {
			for i := range uint64(4) {
				p := mm.GrabCachePage(t, ino.Mapping, i)
				mm.CopyToPage(t, p, 0, content.Fill(mm.PageSize, 1, int64(i)*mm.PageSize))
				mm.SetPageUptodate(t, p)
				mm.SetPageDirty(t, p)
				mm.UnlockPage(t, p)
				mm.PageCacheRelease(t, p)
			}
			mm.ISizeWrite(t, ino, 4*mm.PageSize)
			ret = mpage.MpageWritepages(t, ino.Mapping, wbc, getBlock)
		})
		wantBios, wantNr := int64(1), int64(1024)
		if v != mm.V2_6_12 {
			wantBios = 0
		}
		if ret != errno.EIO.Neg() || ino.Mapping.Flags&(1<<mm.AS_EIO) == 0 {
			t.Errorf("%s: ret %d, mapping flags %#x: want -EIO and AS_EIO", v, ret, ino.Mapping.Flags)
		}
		if st := mpage.StatsOf(e.k); !equalU64(aops.calls, []uint64{0}) || st.WriteBios != wantBios || wbc.NrToWrite != wantNr {
			t.Errorf("%s: ->writepage of %v, %d write bios, nr_to_write %d; want [0], %d, %d",
				v, aops.calls, st.WriteBios, wbc.NrToWrite, wantBios, wantNr)
		}
	}
}
