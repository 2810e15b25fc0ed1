package block

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// GetBlockFunc is get_block_t: map file block iblock of inode into bh.
// The caller sets bh.Size to the most it wants mapped; get_block may map
// an extent of several blocks and say so in bh.Size. A mapped block gets
// BH_Mapped, Bdev and Blocknr; a newly allocated one BH_New; BH_Boundary
// says the next block needs a metadata read first. A hole (create == 0)
// returns 0 with bh unmapped. It returns 0 or a negative errno.
type GetBlockFunc func(t *sim.Task, inode *mm.Inode, iblock uint64, bh *BufferHead, create int) int

// zeroUserSegments is zero_user_segments(page, start1, end1, start2,
// end2), include/linux/highmem.h, Linux 2.6.32: each range is zeroed only
// if it is not empty (end > start). The callers in fs/buffer.c rely on
// that: they pass "to, block_end, block_start, from" where either range
// may be empty or reversed.
func zeroUserSegments(t *sim.Task, p *mm.Page, start1, end1, start2, end2 uint) {
	if end1 < start1 {
		end1 = start1
	}
	if end2 < start2 {
		end2 = start2
	}
	mm.ZeroUserSegments(t, p, start1, end1, start2, end2)
}

// BlockReadFullPage is block_read_full_page(page, get_block), fs/buffer.c,
// Linux 2.6.32: read a locked page buffer by buffer. Buffers already
// uptodate are kept; holes (and blocks past EOF) are zeroed; the others
// are locked, marked async-read and submitted one bio each. The page is
// unlocked by the last buffer's completion (end_buffer_async_read), or
// here if no I/O was needed. A get_block error sets PG_error (the page
// then never becomes uptodate).
func BlockReadFullPage(t *sim.Task, page *mm.Page, getBlock GetBlockFunc) int {
	t.Enter("block_read_full_page")
	defer t.Leave()
	inode := page.Mapping.Host
	var arr [MAX_BUF_PER_PAGE]*BufferHead
	fullyMapped := true

	t.BUG_ON(!mm.PageLocked(page), page.Obj(), "block_read_full_page: page not locked")
	blocksize := uint(1) << inode.Blkbits
	if !PageHasBuffers(page) {
		CreateEmptyBuffers(t, page, blocksize, 0)
	}
	head := PageBuffers(page)

	iblock := page.Index << (mm.PageCacheShift - inode.Blkbits) // (sector_t)page->index << ...
	lblock := uint64(mm.ISizeRead(inode)+int64(blocksize)-1) >> inode.Blkbits
	bh := head
	nr := 0
	i := uint(0)

	for {
		if BufferUptodate(bh) {
			goto next
		}
		if !BufferMapped(bh) {
			err := 0
			fullyMapped = false
			if iblock < lblock {
				if bh.Size != blocksize {
					t.World().Record(sim.KindNote, "block_read_full_page", bh.Obj(), int64(bh.Size), "WARNING: b_size != blocksize")
				}
				err = getBlock(t, inode, iblock, bh, 0)
				if err != 0 {
					mm.SetPageError(t, page)
				}
			}
			if !BufferMapped(bh) {
				mm.ZeroUser(t, page, i*blocksize, blocksize)
				if err == 0 {
					SetBufferUptodate(t, bh)
				}
				goto next
			}
			// get_block() might have updated the buffer synchronously
			if BufferUptodate(bh) {
				goto next
			}
		}
		arr[nr] = bh
		nr++
	next:
		i++
		iblock++
		bh = bh.ThisPage
		if bh == head {
			break
		}
	}

	if fullyMapped {
		mm.SetPageMappedToDisk(t, page)
	}

	if nr == 0 {
		// All buffers are uptodate - we can set the page uptodate as
		// well. But not if get_block() returned an error.
		if !mm.PageError(page) {
			mm.SetPageUptodate(t, page)
		}
		mm.UnlockPage(t, page)
		return 0
	}

	// Stage two: lock the buffers
	for i := 0; i < nr; i++ {
		bh := arr[i]
		LockBuffer(t, bh)
		MarkBufferAsyncRead(t, bh)
	}

	// Stage 3: start the IO. Check for uptodateness inside the buffer
	// lock in case another process reading the underlying blockdev
	// brought it uptodate (the sct fix).
	for i := 0; i < nr; i++ {
		bh := arr[i]
		if BufferUptodate(bh) {
			EndBufferAsyncRead(t, bh, 1)
		} else {
			SubmitBh(t, READ, bh)
		}
	}
	return 0
}

// blockWriteFullPageInner is __block_write_full_page(inode, page, get_block,
// wbc, handler), fs/buffer.c, Linux 2.6.32: write a locked page buffer by
// buffer. Dirty unmapped buffers inside i_size are mapped (allocating);
// buffers past i_size are cleaned; each dirty mapped buffer is locked,
// cleaned and marked async-write; the page goes under writeback and is
// unlocked; then the buffers are submitted. A get_block error writes what
// is mapped, sets PG_error and records the error on the mapping.
func blockWriteFullPageInner(t *sim.Task, inode *mm.Inode, page *mm.Page, getBlock GetBlockFunc,
	wbc *mm.WritebackControl, handler BhEndIO) int {
	t.Enter("__block_write_full_page")
	defer t.Leave()
	var err int
	var bh, head *BufferHead
	blocksize := uint(1) << inode.Blkbits
	nrUnderway := 0
	writeOp := uint64(WRITE)
	if wbc.SyncMode == mm.WB_SYNC_ALL {
		writeOp = WRITE_SYNC_PLUG
	}

	t.BUG_ON(!mm.PageLocked(page), page.Obj(), "__block_write_full_page: page not locked")

	// last_block = (i_size_read(inode) - 1) >> i_blkbits: a signed shift,
	// then sector_t.
	lastBlock := uint64((mm.ISizeRead(inode) - 1) >> inode.Blkbits)

	if !PageHasBuffers(page) {
		CreateEmptyBuffers(t, page, blocksize, 1<<BH_Dirty|1<<BH_Uptodate)
	}

	// Be very careful. We have no exclusion from
	// __set_page_dirty_buffers here, and the (potentially unmapped)
	// buffers may become dirty at any time. If a buffer becomes dirty
	// here after we've inspected it then we just miss that fact, and the
	// page stays dirty.
	//
	// Buffers outside i_size may be dirtied by __set_page_dirty_buffers;
	// handle that here by just cleaning them.
	block := page.Index << (mm.PageCacheShift - inode.Blkbits) // (sector_t)page->index << ...
	head = PageBuffers(page)
	bh = head

	// Get all the dirty buffers mapped to disk addresses and handle any
	// aliases from the underlying blockdev's mapping.
	for {
		if block > lastBlock {
			// mapped buffers outside i_size will occur, because this
			// page can be outside i_size when there is a truncate in
			// progress.
			//
			// The buffer was zeroed by block_write_full_page()
			ClearBufferDirty(t, bh)
			SetBufferUptodate(t, bh)
		} else if (!BufferMapped(bh) || BufferDelay(bh)) && BufferDirty(bh) {
			if bh.Size != blocksize {
				t.World().Record(sim.KindNote, "__block_write_full_page", bh.Obj(), int64(bh.Size), "WARNING: b_size != blocksize")
			}
			err = getBlock(t, inode, block, bh, 1)
			if err != 0 {
				goto recover
			}
			ClearBufferDelay(t, bh)
			if BufferNew(bh) {
				// blockdev mappings never come here
				ClearBufferNew(t, bh)
				UnmapUnderlyingMetadata(t, bh.Bdev, bh.Blocknr)
			}
		}
		bh = bh.ThisPage
		block++
		if bh == head {
			break
		}
	}

	for {
		if !BufferMapped(bh) {
			goto cont
		}
		// If it's a fully non-blocking write attempt and we cannot lock
		// the buffer then redirty the page. Note that this can
		// potentially cause a busy-wait loop from writeback threads and
		// kswapd activity, but those code paths have their own
		// higher-level throttling.
		if wbc.SyncMode != mm.WB_SYNC_NONE || !wbc.Nonblocking {
			LockBuffer(t, bh)
		} else if !TrylockBuffer(t, bh) {
			mm.RedirtyPageForWritepage(t, wbc, page)
			goto cont
		}
		if TestClearBufferDirty(t, bh) {
			markBufferAsyncWriteEndio(t, bh, handler)
		} else {
			UnlockBuffer(t, bh)
		}
	cont:
		bh = bh.ThisPage
		if bh == head {
			break
		}
	}

	// The page and its buffers are protected by PageWriteback(), so we
	// can drop the bh refcounts early.
	t.BUG_ON(mm.PageWriteback(page), page.Obj(), "__block_write_full_page: page already under writeback")
	mm.SetPageWriteback(t, page)

	for {
		next := bh.ThisPage
		if BufferAsyncWrite(bh) {
			SubmitBh(t, writeOp, bh)
			nrUnderway++
		}
		bh = next
		if bh == head {
			break
		}
	}
	mm.UnlockPage(t, page)

	err = 0
done:
	// mutant: PG_writeback left set ("ext4: don't leave PageWriteback set after memory failure")
	if nrUnderway == 0 && !mutant.On("bwfp-keeps-writeback") {
		// The page was marked dirty, but the buffers were clean. Someone
		// wrote them back by hand with ll_rw_block/submit_bh. A rare
		// case.
		mm.EndPageWriteback(t, page)
		// The page and buffer_heads can be released at any time from
		// here on.
	}
	return err

recover:
	// ENOSPC, or some other error. We may already have added some blocks
	// to the file, so we need to write these out to avoid exposing stale
	// data. The page is currently locked and not marked for writeback
	bh = head
	// Recovery: lock and submit the mapped buffers
	for {
		if BufferMapped(bh) && BufferDirty(bh) && !BufferDelay(bh) {
			LockBuffer(t, bh)
			markBufferAsyncWriteEndio(t, bh, handler)
		} else {
			// The buffer may have been set dirty during attachment to a
			// dirty page.
			ClearBufferDirty(t, bh)
		}
		bh = bh.ThisPage
		if bh == head {
			break
		}
	}
	mm.SetPageError(t, page)
	t.BUG_ON(mm.PageWriteback(page), page.Obj(), "__block_write_full_page: page already under writeback")
	if !mutant.On("bwfp-recover-lost-error") { // mutant: "buffer: use mapping_set_error instead of setting the flag"
		mm.MappingSetError(t, page.Mapping, err)
	}
	mm.SetPageWriteback(t, page)
	for {
		next := bh.ThisPage
		if BufferAsyncWrite(bh) {
			ClearBufferDirty(t, bh)
			SubmitBh(t, writeOp, bh)
			nrUnderway++
		}
		bh = next
		if bh == head {
			break
		}
	}
	mm.UnlockPage(t, page)
	goto done
}

// BlockWriteFullPageEndio is block_write_full_page_endio(page, get_block,
// wbc, handler), fs/buffer.c, Linux 2.6.32: the page straddling i_size is
// zeroed past it first; a page wholly past i_size (truncate in progress)
// is invalidated and unlocked without I/O.
func BlockWriteFullPageEndio(t *sim.Task, page *mm.Page, getBlock GetBlockFunc,
	wbc *mm.WritebackControl, handler BhEndIO) int {
	inode := page.Mapping.Host
	iSize := mm.ISizeRead(inode)
	endIndex := uint64(iSize) >> mm.PageCacheShift

	// Is the page fully inside i_size?
	if page.Index < endIndex {
		return blockWriteFullPageInner(t, inode, page, getBlock, wbc, handler)
	}

	// Is the page fully outside i_size? (truncate in progress)
	offset := uint(iSize & (mm.PageSize - 1))
	// mutant: "page->index >= end_index" (81eb69062588's test off by one)
	if page.Index >= endIndex+1 || offset == 0 || mutant.On("bwfp-eof-off-by-one") {
		// The page may have dirty, unmapped buffers. For example, they
		// may have been added in ext3_writepage(). Make them freeable
		// here, so the page does not leak.
		mm.DoInvalidatepage(t, page, 0)
		mm.UnlockPage(t, page)
		return 0 // don't care
	}

	// The page straddles i_size. It must be zeroed out on each and every
	// writepage invokation because it may be mmapped. "A file is mapped
	// in multiples of the page size. For a file that is not a multiple of
	// the page size, the remaining memory is zeroed when mapped, and
	// writes to that region are not written out to the file."
	mm.ZeroUserSegment(t, page, offset, mm.PageSize)
	return blockWriteFullPageInner(t, inode, page, getBlock, wbc, handler)
}

// BlockWriteFullPage is block_write_full_page(page, get_block, wbc),
// fs/buffer.c, Linux 2.6.32: the generic ->writepage of buffer-backed
// mappings, and mpage's fallback for a page it cannot put in a bio.
func BlockWriteFullPage(t *sim.Task, page *mm.Page, getBlock GetBlockFunc, wbc *mm.WritebackControl) int {
	t.Enter("block_write_full_page")
	defer t.Leave()
	return BlockWriteFullPageEndio(t, page, getBlock, wbc, EndBufferAsyncWrite)
}
