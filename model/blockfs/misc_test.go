package blockfs

import (
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// TestWriteBoundaryBlock: with contiguous allocation ext2 puts the first
// indirect block right after the last direct block, which get_block
// flags BH_Boundary; write_boundary_block(bdev, that block) finds the
// dirty indirect block and writes it.
func TestWriteBoundaryBlock(t *testing.T) {
	e := newEnv(1, mm.V2_6_2x, Options{BlockSize: 1024}, 1<<20)
	ei := e.fs.NewInode(10)
	f := &failer{}
	e.run(t, func(tk *sim.Task) {
		var last uint64
		for i := uint64(0); i <= EXT2_NDIR_BLOCKS; i++ {
			bh := &block.BufferHead{Size: 1024}
			if r := e.fs.GetBlock(tk, ei.VFS, i, bh, 1); r != 0 {
				f.Errorf("get_block(%d) = %d", i, r)
			}
			if block.BufferBoundary(bh) != (i == EXT2_NDIR_BLOCKS-1) {
				f.Errorf("block %d boundary %v", i, block.BufferBoundary(bh))
			}
			if i == EXT2_NDIR_BLOCKS-1 {
				last = bh.Blocknr
			}
		}
		ind := uint64(ei.Data[EXT2_IND_BLOCK])
		if ind != last+1 {
			f.Errorf("indirect block at %d, want right after block 11's %d", ind, last)
		}
		bh := block.FindGetBlock(tk, e.bdev, ind, 1024)
		if bh == nil || !block.BufferDirty(bh) {
			f.Errorf("the indirect block is not cached and dirty: %v", bh)
			return
		}
		n := len(e.dev.Log)
		block.WriteBoundaryBlock(tk, e.bdev, last, 1024)
		block.WaitOnBuffer(tk, bh)
		if block.BufferDirty(bh) || !block.BufferUptodate(bh) {
			f.Errorf("after write_boundary_block: %s", block.BhStateNames(bh.State))
		}
		if len(e.dev.Log) != n+1 || e.dev.Log[n].Op != block.ReqWrite || e.dev.Log[n].Sector != int64(ind)*2 {
			f.Errorf("requests %v, want a write of sector %d", e.dev.Log[n:], ind*2)
		}
		block.PutBh(tk, bh)
	})
	for _, m := range f.msgs {
		t.Error(m)
	}
}

// TestTryToFreeBuffers: clean, unreferenced buffers are freed and the page
// loses PG_private and the reference they held; dirty ones are kept.
func TestTryToFreeBuffers(t *testing.T) {
	e := newEnv(2, mm.V2_6_2x, Options{BlockSize: 1024}, 1<<20)
	ei := e.fs.NewInode(10)
	f := &failer{}
	e.run(t, func(tk *sim.Task) {
		mm.ISizeWrite(tk, ei.VFS, mm.PageSize)
		p := dirtyPage(tk, ei.VFS.Mapping, 0, content.Fill(mm.PageSize, 3, 0))
		mm.LockPage(tk, p)
		block.CreateEmptyBuffers(tk, p, 1024, 0)
		count := mm.PageCount(p)
		if r := block.TryToFreeBuffers(tk, p); r != 0 {
			f.Errorf("freed dirty buffers")
		}
		mm.ClearPageDirtyForIO(tk, p)
		block.BlockWriteFullPage(tk, p, e.fs.GetBlock, &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL})
		mm.WaitOnPageWriteback(tk, p)
		mm.LockPage(tk, p)
		before := e.bdev.Layer().NrBufferHeads
		if r := block.TryToFreeBuffers(tk, p); r != 1 {
			f.Errorf("try_to_free_buffers = %d on clean buffers", r)
		}
		if block.PageHasBuffers(p) || mm.PageCount(p) != count-1 {
			f.Errorf("after freeing: %s count %d (was %d)", mm.FlagNames(p.Flags), mm.PageCount(p), count)
		}
		if d := before - e.bdev.Layer().NrBufferHeads; d != 4 {
			f.Errorf("%d buffer heads freed, want 4", d)
		}
		mm.UnlockPage(tk, p)
		mm.PageCacheRelease(tk, p)
	})
	for _, m := range f.msgs {
		t.Error(m)
	}
}

// TestDeterministic: the same seed gives the same trace.
func TestDeterministic(t *testing.T) {
	run := func() uint64 {
		e := newEnvStrategy(7, mm.V3x, Options{BlockSize: 1024, Policy: AllocFragmented}, sim.NewRandom(7), faultdisk.Config{})
		ei := e.fs.NewInode(10)
		f := &failer{}
		for i := range 2 {
			e.w.Spawn("w", func(tk *sim.Task) {
				writeFile(f, tk, ei, int64(i)*30000, content.Fill(20000, content.Stamp(i+1), 0))
				e.fs.Fsync(tk, ei, 0, mm.LLONG_MAX, 0)
			})
		}
		res := e.w.Run()
		if res.Failure != nil {
			t.Fatal(res.Failure.Report())
		}
		for _, m := range f.msgs {
			t.Error(m)
		}
		return res.Hash
	}
	if a, b := run(), run(); a != b {
		t.Errorf("trace hashes differ: %x %x", a, b)
	}
}

// TestBlockToPath32: ext2_block_to_path takes a long, so on a 32-bit
// kernel a block number of 2^31 or more is negative and unmappable
// (depth 0, -EIO); on 64-bit it is just too big for the indirect layout.
func TestBlockToPath32(t *testing.T) {
	for _, bits32 := range []bool{false, true} {
		e := newEnv(3, mm.V2_6_2x, Options{BlockSize: 4096}, 1<<20)
		e.k.Bits32 = bits32
		ei := e.fs.NewInode(10)
		e.run(t, func(tk *sim.Task) {
			var off [4]uint
			bnd := 0
			if d := ext2BlockToPath(ei.VFS, 1<<31, &off, &bnd); d != 0 {
				t.Errorf("depth of block 2^31 = %d", d)
			}
			bh := &block.BufferHead{Size: 4096}
			// 2^32 + 5 truncates to 5 on a 32-bit kernel.
			r := e.fs.GetBlock(tk, ei.VFS, 1<<32+5, bh, 1)
			if bits32 && (r != 0 || !block.BufferMapped(bh)) {
				t.Errorf("32-bit: get_block(2^32+5) = %d %s, want block 5's mapping", r, block.BhStateNames(bh.State))
			}
			if !bits32 && r != eio {
				t.Errorf("64-bit: get_block(2^32+5) = %d, want -EIO", r)
			}
		})
	}
}

// TestWritepageENOSPC: block_write_full_page on a full file system takes
// the recover path: the mapped buffers are still written, the page gets
// PG_error, the mapping AS_ENOSPC, and its writeback ends.
func TestWritepageENOSPC(t *testing.T) {
	e := newEnv(4, mm.V2_6_2x, Options{BlockSize: 1024, Blocks: 7}, 1<<20)
	ei := e.fs.NewInode(10)
	f := &failer{}
	e.run(t, func(tk *sim.Task) {
		mm.ISizeWrite(tk, ei.VFS, 2*mm.PageSize)
		p0 := dirtyPage(tk, ei.VFS.Mapping, 0, content.Fill(mm.PageSize, 3, 0))
		p1 := dirtyPage(tk, ei.VFS.Mapping, 1, content.Fill(mm.PageSize, 3, mm.PageSize))
		for i, p := range []*mm.Page{p0, p1} {
			mm.LockPage(tk, p)
			mm.ClearPageDirtyForIO(tk, p)
			r := block.BlockWriteFullPage(tk, p, e.fs.GetBlock, &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL})
			mm.WaitOnPageWriteback(tk, p)
			if i == 0 && (r != 0 || mm.PageError(p)) {
				f.Errorf("page 0: %d %s", r, mm.FlagNames(p.Flags))
			}
			if i == 1 {
				if r != enospc || !mm.PageError(p) || mm.PageLocked(p) || mm.PageWriteback(p) {
					f.Errorf("page 1: %d %s, want -ENOSPC, error, unlocked, no writeback", r, mm.FlagNames(p.Flags))
				}
				mapped := 0
				forBuffers(p, func(bh *block.BufferHead) {
					if block.BufferMapped(bh) {
						mapped++
					}
					if block.BufferDirty(bh) || block.BufferLocked(bh) {
						f.Errorf("buffer after recover: %s", block.BhStateNames(bh.State))
					}
				})
				if mapped != 2 { // 6 usable blocks: 4 for page 0, 2 for page 1
					f.Errorf("%d buffers mapped, want 2", mapped)
				}
			}
		}
		if ei.VFS.Mapping.Flags&(1<<mm.AS_ENOSPC) == 0 {
			f.Errorf("AS_ENOSPC not set")
		}
	})
	for _, m := range f.msgs {
		t.Error(m)
	}
	if err := e.fs.Fsck(nil); err != nil {
		t.Fatal(err)
	}
}
