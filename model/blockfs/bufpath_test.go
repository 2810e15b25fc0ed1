package blockfs

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
	"pgregory.net/rapid"
)

// fail reports a test failure from inside a task without unwinding it
// through rapid or testing (which would lose the sim's report).
type failer struct{ msgs []string }

func (f *failer) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

// checkWritten checks a page and its buffers after its writeback ended.
func checkWritten(f *failer, p *mm.Page, isize int64) {
	if mm.PageLocked(p) || mm.PageWriteback(p) || mm.PageDirty(p) || mm.PageError(p) {
		f.Errorf("page %d after write: flags %s", p.Index, mm.FlagNames(p.Flags))
	}
	forBuffers(p, func(bh *block.BufferHead) {
		inside := int64(p.Index)*mm.PageSize+int64(bh.Offset) < isize
		if block.BufferDirty(bh) || block.BufferLocked(bh) || block.BufferAsyncWrite(bh) ||
			!block.BufferUptodate(bh) || (inside && !block.BufferMapped(bh)) {
			f.Errorf("page %d buffer at %d after write: %s", p.Index, bh.Offset, block.BhStateNames(bh.State))
		}
	})
}

// checkRead checks a page and its buffers after its read ended.
func checkRead(f *failer, p *mm.Page) {
	if mm.PageLocked(p) || !mm.PageUptodate(p) || mm.PageError(p) || mm.PageWriteback(p) {
		f.Errorf("page %d after read: flags %s", p.Index, mm.FlagNames(p.Flags))
	}
	forBuffers(p, func(bh *block.BufferHead) {
		if block.BufferLocked(bh) || block.BufferAsyncRead(bh) || !block.BufferUptodate(bh) {
			f.Errorf("page %d buffer at %d after read: %s", p.Index, bh.Offset, block.BhStateNames(bh.State))
		}
	})
}

func forBuffers(p *mm.Page, fn func(*block.BufferHead)) {
	if !block.PageHasBuffers(p) {
		return
	}
	head := block.PageBuffers(p)
	bh := head
	for {
		fn(bh)
		bh = bh.ThisPage
		if bh == head {
			break
		}
	}
}

// writeOut writes the dirty pages with block_write_full_page, waits,
// checks their state, and writes the indirect blocks.
func writeOut(f *failer, tk *sim.Task, e *env, ei *Inode, pages []*mm.Page) {
	wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL, NrToWrite: 1 << 30}
	for _, p := range pages {
		mm.LockPage(tk, p)
		if mm.ClearPageDirtyForIO(tk, p) == 0 {
			f.Errorf("page %d was not dirty", p.Index)
		}
		if r := block.BlockWriteFullPage(tk, p, e.fs.GetBlock, wbc); r != 0 {
			f.Errorf("block_write_full_page(%d) = %d", p.Index, r)
		}
	}
	for _, p := range pages {
		mm.WaitOnPageWriteback(tk, p)
		checkWritten(f, p, mm.ISizeRead(ei.VFS))
	}
	if r := block.SyncMappingBuffers(tk, ei.VFS.Mapping, e.bdev); r != 0 {
		f.Errorf("sync_mapping_buffers = %d", r)
	}
}

// dropCaches evicts the file's pages and the block device's (metadata)
// pages, so the next reads go to the disk.
func dropCaches(f *failer, tk *sim.Task, e *env, ei *Inode) {
	// The metadata pages are still dirty (their buffers were written by
	// hand): write the block device's mapping first, as the flusher would.
	writeDirtyPages(f, tk, e.bdev.Inode.Mapping)
	for _, m := range []*mm.AddressSpace{ei.VFS.Mapping, e.bdev.Inode.Mapping} {
		mm.InvalidateMappingPages(tk, m, 0, ^uint64(0))
		if m.NrPages != 0 {
			f.Errorf("mapping %d keeps %d pages after invalidate", m.Host.Ino, m.NrPages)
		}
	}
}

// readBack reads pages [0, n) with block_read_full_page and returns their
// contents, checking each page's state.
func readBack(f *failer, tk *sim.Task, e *env, ei *Inode, n uint64) content.Bytes {
	var got content.Bytes
	for i := uint64(0); i < n; i++ {
		p := mm.FindOrCreatePage(tk, ei.VFS.Mapping, i)
		if r := block.BlockReadFullPage(tk, p, e.fs.GetBlock); r != 0 {
			f.Errorf("block_read_full_page(%d) = %d", i, r)
		}
		mm.WaitOnPageLocked(tk, p)
		checkRead(f, p)
		got = got.Append(p.Data)
		mm.PageCacheRelease(tk, p)
	}
	return got
}

// TestBufferPathRoundTrip writes a file with block_write_full_page (some
// pages left as holes, junk past EOF in the last page), drops every cache,
// and reads it back with block_read_full_page, which must go to the disk
// for the data and, for the indirect layout, for the indirect blocks: the
// contents must match exactly (holes and the tail past i_size zero), for
// every block size, layout, policy and era, with every page and buffer in
// the right state after each I/O.
func TestBufferPathRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		bs := rapid.SampledFrom([]uint{512, 1024, 2048, 4096}).Draw(rt, "blocksize")
		layout := rapid.SampledFrom([]Layout{LayoutIndirect, LayoutExtent}).Draw(rt, "layout")
		policy := rapid.SampledFrom([]AllocPolicy{AllocContiguous, AllocFragmented, AllocInterleaved}).Draw(rt, "policy")
		version := rapid.SampledFrom([]mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x}).Draw(rt, "version")
		npages := rapid.Uint64Range(1, 24).Draw(rt, "pages")
		size := int64(npages-1)*mm.PageSize + rapid.Int64Range(1, mm.PageSize).Draw(rt, "tail")
		written := make([]bool, npages)
		var writes []write
		for i := range written {
			written[i] = i == int(npages-1) || rapid.IntRange(0, 3).Draw(rt, "written") > 0
			if written[i] {
				writes = append(writes, write{int64(i) * mm.PageSize, mm.PageSize, content.Stamp(100 + i)})
			}
		}
		want := fileData(size, writes).Truncate(int64(npages) * mm.PageSize)

		e := newEnv(rapid.Uint64().Draw(rt, "seed"), version, Options{BlockSize: bs, Layout: layout,
			Policy: policy, Blocks: 4096, FragmentRun: 2}, 1<<20)
		ei := e.fs.NewInode(10)
		f := &failer{}
		var got content.Bytes
		e.w.Spawn("test", func(tk *sim.Task) {
			mm.ISizeWrite(tk, ei.VFS, size)
			var pages []*mm.Page
			for i, w := range written {
				if !w {
					continue
				}
				data := want.Slice(int64(i)*mm.PageSize, mm.PageSize)
				if i == int(npages-1) { // junk past EOF, which writeout must zero
					tail := size - int64(i)*mm.PageSize
					data = data.Overwrite(tail, content.Fill(mm.PageSize-tail, 999, 0))
				}
				pages = append(pages, dirtyPage(tk, ei.VFS.Mapping, uint64(i), data))
			}
			writeOut(f, tk, e, ei, pages)
			for _, p := range pages {
				mm.PageCacheRelease(tk, p)
			}
			dropCaches(f, tk, e, ei)
			got = readBack(f, tk, e, ei, npages)
		})
		res := e.w.Run()
		if res.Failure != nil {
			rt.Fatalf("run failed: %s", res.Failure.Report())
		}
		for _, m := range f.msgs {
			rt.Error(m)
		}
		if d := cmp.Diff(want.String(), got.String()); d != "" {
			rt.Fatalf("file contents (-want +got):\n%s", d)
		}
		if err := e.fs.Fsck(e.dev.Read); err != nil {
			rt.Fatal(err)
		}
	})
}

// TestMetadataReadFault fails the read of the indirect block: get_block
// returns -EIO, and block_read_full_page leaves the page unlocked, not
// uptodate, with PG_error; pages mapped without the indirect block still
// read.
func TestMetadataReadFault(t *testing.T) {
	for _, bs := range []uint{512, 1024, 2048, 4096} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			e := newEnv(5, mm.V2_6_2x, Options{BlockSize: bs}, 1<<20)
			ei := e.fs.NewInode(10)
			npages := uint64(EXT2_NDIR_BLOCKS*bs/mm.PageSize) + 2 // past the direct blocks
			size := int64(npages) * mm.PageSize
			want := fileData(size, []write{{0, size, 5}})
			f := &failer{}
			e.run(t, func(tk *sim.Task) {
				mm.ISizeWrite(tk, ei.VFS, size)
				var pages []*mm.Page
				for i := uint64(0); i < npages; i++ {
					pages = append(pages, dirtyPage(tk, ei.VFS.Mapping, i, want.Slice(int64(i)*mm.PageSize, mm.PageSize)))
				}
				writeOut(f, tk, e, ei, pages)
				for _, p := range pages {
					mm.PageCacheRelease(tk, p)
				}
				dropCaches(f, tk, e, ei)

				indSector := int64(ei.Data[EXT2_IND_BLOCK]) * int64(bs) / block.SectorSize
				e.dev.Fail = func(rq *block.Request) (errno.Errno, int64) {
					if rq.Op == block.ReqRead && rq.Sector <= indSector && indSector < rq.Sector+rq.Len/block.SectorSize {
						return errno.EIO, 0
					}
					return 0, 0
				}
				bh := &block.BufferHead{Size: bs}
				if r := e.fs.GetBlock(tk, ei.VFS, EXT2_NDIR_BLOCKS, bh, 0); r != eio {
					f.Errorf("get_block past the direct blocks = %d, want -EIO", r)
				}
				last := mm.FindOrCreatePage(tk, ei.VFS.Mapping, npages-1)
				block.BlockReadFullPage(tk, last, e.fs.GetBlock)
				mm.WaitOnPageLocked(tk, last)
				if !mm.PageError(last) || mm.PageUptodate(last) || mm.PageLocked(last) {
					f.Errorf("page after a failed metadata read: %s, want error, not uptodate, unlocked", mm.FlagNames(last.Flags))
				}
				first := mm.FindOrCreatePage(tk, ei.VFS.Mapping, 0)
				block.BlockReadFullPage(tk, first, e.fs.GetBlock)
				mm.WaitOnPageLocked(tk, first)
				checkRead(f, first)
				if !first.Data.Equal(want.Slice(0, mm.PageSize)) {
					f.Errorf("page 0: %v", first.Data)
				}
			})
			for _, m := range f.msgs {
				t.Error(m)
			}
		})
	}
}

// TestDataReadFault fails a data block's read: the page gets PG_error and
// is unlocked without becoming uptodate.
func TestDataReadFault(t *testing.T) {
	e := newEnv(6, mm.V2_6_2x, Options{BlockSize: 1024}, 1<<20)
	ei := e.fs.NewInode(10)
	f := &failer{}
	e.run(t, func(tk *sim.Task) {
		mm.ISizeWrite(tk, ei.VFS, mm.PageSize)
		p := dirtyPage(tk, ei.VFS.Mapping, 0, content.Fill(mm.PageSize, 3, 0))
		writeOut(f, tk, e, ei, []*mm.Page{p})
		mm.PageCacheRelease(tk, p)
		dropCaches(f, tk, e, ei)
		phys, _, _ := ei.Lookup(2)
		e.dev.Fail = func(rq *block.Request) (errno.Errno, int64) {
			if rq.Sector == int64(phys)*2 {
				return errno.EIO, 0
			}
			return 0, 0
		}
		p = mm.FindOrCreatePage(tk, ei.VFS.Mapping, 0)
		block.BlockReadFullPage(tk, p, e.fs.GetBlock)
		mm.WaitOnPageLocked(tk, p)
		if !mm.PageError(p) || mm.PageUptodate(p) {
			f.Errorf("page after a failed read: %s", mm.FlagNames(p.Flags))
		}
		forBuffers(p, func(bh *block.BufferHead) {
			if block.BufferLocked(bh) || block.BufferAsyncRead(bh) || block.BufferUptodate(bh) != (bh.Blocknr != phys) {
				f.Errorf("buffer %d: %s", bh.Blocknr, block.BhStateNames(bh.State))
			}
		})
	})
	for _, m := range f.msgs {
		t.Error(m)
	}
}

// TestDataWriteFault fails a data write: end_buffer_async_write sets
// PG_error and AS_EIO and still ends the page's writeback.
func TestDataWriteFault(t *testing.T) {
	e := newEnv(7, mm.V2_6_2x, Options{BlockSize: 2048}, 1<<20)
	ei := e.fs.NewInode(10)
	e.dev.Fail = func(rq *block.Request) (errno.Errno, int64) {
		if rq.Op == block.ReqWrite {
			return errno.EIO, 0
		}
		return 0, 0
	}
	e.run(t, func(tk *sim.Task) {
		mm.ISizeWrite(tk, ei.VFS, mm.PageSize)
		p := dirtyPage(tk, ei.VFS.Mapping, 0, content.Fill(mm.PageSize, 3, 0))
		mm.LockPage(tk, p)
		mm.ClearPageDirtyForIO(tk, p)
		block.BlockWriteFullPage(tk, p, e.fs.GetBlock, &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL})
		mm.WaitOnPageWriteback(tk, p)
		if !mm.PageError(p) || mm.PageWriteback(p) || mm.PageLocked(p) {
			t.Errorf("page after a failed write: %s", mm.FlagNames(p.Flags))
		}
		if ei.VFS.Mapping.Flags&(1<<mm.AS_EIO) == 0 {
			t.Errorf("AS_EIO not set")
		}
		forBuffers(p, func(bh *block.BufferHead) {
			if !block.BufferWriteIOError(bh) || block.BufferUptodate(bh) || block.BufferLocked(bh) {
				t.Errorf("buffer %d: %s", bh.Blocknr, block.BhStateNames(bh.State))
			}
		})
	})
}

// writeDirtyPages writes every dirty page of m with its ->writepage and
// waits: generic_writepages without mm's era switch (2.6.12's needs
// model/mpage).
func writeDirtyPages(f *failer, tk *sim.Task, m *mm.AddressSpace) {
	var pages [16]*mm.Page
	index := uint64(0)
	for {
		n := mm.FindGetPagesTag(tk, m, &index, mm.PAGECACHE_TAG_DIRTY, len(pages), pages[:])
		if n == 0 {
			return
		}
		for _, p := range pages[:n] {
			mm.LockPage(tk, p)
			if mm.ClearPageDirtyForIO(tk, p) != 0 {
				wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL, NrToWrite: 1}
				if r := m.AOps.(mm.WritepageOp).Writepage(tk, p, wbc); r != 0 {
					f.Errorf("writepage(%d:%d) = %d", p.Ino(), p.Index, r)
				}
			} else {
				mm.UnlockPage(tk, p)
			}
			mm.WaitOnPageWriteback(tk, p)
			mm.PageCacheRelease(tk, p)
		}
		if index == 0 {
			return
		}
	}
}
