package block

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// The write paths of buffer-backed files: block_write_begin/
// block_write_end (with buffer heads) and nobh_write_begin/nobh_write_end
// (without), fs/buffer.c, Linux 2.6.32. File systems without truncate (the
// model's) do not trim blocks allocated past i_size when a write fails;
// the kernel's vmtruncate calls are noted where they would be.

// PageZeroNewBuffers is page_zero_new_buffers(page, from, to), fs/buffer.c,
// Linux 2.6.32: zero the parts of new buffers in [from, to) and mark them
// uptodate and dirty, so that no uninitialised block data leaks.
func PageZeroNewBuffers(t *sim.Task, page *mm.Page, from, to uint) {
	t.BUG_ON(!mm.PageLocked(page), page.Obj(), "page_zero_new_buffers: page not locked")
	if !PageHasBuffers(page) {
		return
	}
	head := PageBuffers(page)
	bh := head
	blockStart := uint(0)
	for {
		blockEnd := blockStart + bh.Size
		if BufferNew(bh) {
			if blockEnd > from && blockStart < to {
				if !mm.PageUptodate(page) {
					start := max(from, blockStart)
					size := min(to, blockEnd) - start
					mm.ZeroUser(t, page, start, size)
					SetBufferUptodate(t, bh)
				}
				ClearBufferNew(t, bh)
				MarkBufferDirty(t, bh)
			}
		}
		blockStart = blockEnd
		bh = bh.ThisPage
		if bh == head {
			break
		}
	}
}

// blockPrepareWriteInner is __block_prepare_write(inode, page, from, to,
// get_block), fs/buffer.c, Linux 2.6.32: map (allocating) the buffers the
// write [from, to) touches; zero the parts of new blocks outside it; read
// the blocks it covers only partly; wait for those reads.
func blockPrepareWriteInner(t *sim.Task, inode *mm.Inode, page *mm.Page, from, to uint, getBlock GetBlockFunc) int {
	var blockStart, blockEnd uint
	err := 0
	var wait []*BufferHead

	t.BUG_ON(!mm.PageLocked(page), page.Obj(), "__block_prepare_write: page not locked")
	t.BUG_ON(from > mm.PageSize || to > mm.PageSize || from > to, page.Obj(), "__block_prepare_write: bad range")

	blocksize := uint(1) << inode.Blkbits
	if !PageHasBuffers(page) {
		CreateEmptyBuffers(t, page, blocksize, 0)
	}
	head := PageBuffers(page)

	bbits := inode.Blkbits
	block := page.Index << (mm.PageCacheShift - bbits)

	for bh := head; bh != head || blockStart == 0; block, blockStart, bh = block+1, blockEnd, bh.ThisPage {
		blockEnd = blockStart + blocksize
		if blockEnd <= from || blockStart >= to {
			if mm.PageUptodate(page) {
				if !BufferUptodate(bh) {
					SetBufferUptodate(t, bh)
				}
			}
			continue
		}
		if BufferNew(bh) {
			ClearBufferNew(t, bh)
		}
		if !BufferMapped(bh) {
			if bh.Size != blocksize {
				t.World().Record(sim.KindNote, "__block_prepare_write", bh.Obj(), int64(bh.Size), "WARNING: b_size != blocksize")
			}
			err = getBlock(t, inode, block, bh, 1)
			if err != 0 {
				break
			}
			if BufferNew(bh) {
				UnmapUnderlyingMetadata(t, bh.Bdev, bh.Blocknr)
				if mm.PageUptodate(page) {
					ClearBufferNew(t, bh)
					SetBufferUptodate(t, bh)
					MarkBufferDirty(t, bh)
					continue
				}
				if blockEnd > to || blockStart < from {
					zeroUserSegments(t, page, to, blockEnd, blockStart, from)
				}
				continue
			}
		}
		if mm.PageUptodate(page) {
			if !BufferUptodate(bh) {
				SetBufferUptodate(t, bh)
			}
			continue
		}
		if !BufferUptodate(bh) && !BufferDelay(bh) && !BufferUnwritten(bh) &&
			(blockStart < from || blockEnd > to) {
			LlRwBlock(t, READ, []*BufferHead{bh})
			wait = append(wait, bh)
		}
	}
	// If we issued read requests - let them complete.
	for i := len(wait) - 1; i >= 0; i-- {
		WaitOnBuffer(t, wait[i])
		if !BufferUptodate(wait[i]) {
			err = eio
		}
	}
	if err != 0 {
		PageZeroNewBuffers(t, page, from, to)
	}
	return err
}

// blockCommitWriteInner is __block_commit_write(inode, page, from, to),
// fs/buffer.c, Linux 2.6.32: the buffers written become uptodate and
// dirty; if every buffer is now uptodate, so is the page.
func blockCommitWriteInner(t *sim.Task, inode *mm.Inode, page *mm.Page, from, to uint) int {
	var blockStart, blockEnd uint
	partial := false
	blocksize := uint(1) << inode.Blkbits

	head := PageBuffers(page)
	for bh := head; bh != head || blockStart == 0; blockStart, bh = blockEnd, bh.ThisPage {
		blockEnd = blockStart + blocksize
		if blockEnd <= from || blockStart >= to {
			if !BufferUptodate(bh) {
				partial = true
			}
		} else {
			SetBufferUptodate(t, bh)
			MarkBufferDirty(t, bh)
		}
		ClearBufferNew(t, bh)
	}
	// If this is a partial write which happened to make all buffers
	// uptodate then we can optimize away a bogus readpage() for the next
	// read(). Here we 'discover' whether the page went uptodate as a
	// result of this (potentially partial) write.
	if !partial {
		mm.SetPageUptodate(t, page)
	}
	return 0
}

// BlockWriteBegin is block_write_begin(file, mapping, pos, len, flags,
// pagep, fsdata, get_block), fs/buffer.c, Linux 2.6.32: lock the page for
// a write of length bytes at pos (grab_cache_page_write_begin, unless
// *pagep already holds a locked page) and prepare its buffers. On error
// the page is released (if it was ours) and *pagep set to nil.
func BlockWriteBegin(t *sim.Task, file any, mapping *mm.AddressSpace, pos int64, length, flags uint,
	pagep **mm.Page, fsdata *any, getBlock GetBlockFunc) int {
	t.Enter("block_write_begin")
	defer t.Leave()
	inode := mapping.Host
	status := 0
	ownpage := false

	index := uint64(pos) >> mm.PageCacheShift
	start := uint(pos & (mm.PageSize - 1))
	end := start + length

	page := *pagep
	if page == nil {
		ownpage = true
		page = mm.GrabCachePageWriteBegin(t, mapping, index, flags)
		if page == nil {
			return errno.ENOMEM.Neg()
		}
		*pagep = page
	} else {
		t.BUG_ON(!mm.PageLocked(page), page.Obj(), "block_write_begin: page not locked")
	}

	status = blockPrepareWriteInner(t, inode, page, start, end, getBlock)
	if status != 0 {
		mm.ClearPageUptodate(t, page)
		if ownpage {
			mm.UnlockPage(t, page)
			mm.PageCacheRelease(t, page)
			*pagep = nil
			// prepare_write() may have instantiated a few blocks outside
			// i_size. Trim these off again (vmtruncate): not modelled.
		}
	}
	return status
}

// BlockWriteEnd is block_write_end(file, mapping, pos, len, copied, page,
// fsdata), fs/buffer.c, Linux 2.6.32: commit the copied bytes. A short
// copy into a page that is not uptodate commits nothing (the caller
// retries).
func BlockWriteEnd(t *sim.Task, file any, mapping *mm.AddressSpace, pos int64, length, copied uint,
	page *mm.Page, fsdata any) int {
	inode := mapping.Host
	start := uint(pos & (mm.PageSize - 1))
	if copied < length {
		// The buffers that were written will now be uptodate, so we don't
		// have to worry about a readpage reading them and overwriting a
		// partial write. However if we have encountered a short write and
		// only partially written into a buffer, it will not be marked
		// uptodate, so a readpage might come in and destroy our partial
		// write.
		//
		// Do the simplest thing, and just treat any short write to a non
		// uptodate page as a zero-length write, and force the caller to
		// redo the whole thing.
		if !mm.PageUptodate(page) {
			copied = 0
		}
		PageZeroNewBuffers(t, page, start+copied, start+length)
	}
	// flush_dcache_page(page)

	// This could be a short (even 0-length) commit
	blockCommitWriteInner(t, inode, page, start, start+copied)
	return int(copied)
}

// GenericWriteEnd is generic_write_end(file, mapping, pos, len, copied,
// page, fsdata), fs/buffer.c, Linux 2.6.32: block_write_end, then extend
// i_size while still holding the page lock (page writeout could otherwise
// come in and zero beyond i_size), unlock and release the page, and mark
// the inode dirty if its size changed.
func GenericWriteEnd(t *sim.Task, file any, mapping *mm.AddressSpace, pos int64, length, copied uint,
	page *mm.Page, fsdata any) int {
	t.Enter("generic_write_end")
	defer t.Leave()
	inode := mapping.Host
	iSizeChanged := false
	copied = uint(BlockWriteEnd(t, file, mapping, pos, length, copied, page, fsdata))

	// No need to use i_size_read() here, the i_size cannot change under
	// us because we hold i_mutex.
	if pos+int64(copied) > mm.ISizeRead(inode) {
		mm.ISizeWrite(t, inode, pos+int64(copied))
		iSizeChanged = true
	}
	mm.UnlockPage(t, page)
	mm.PageCacheRelease(t, page)

	// Don't mark the inode dirty under page lock.
	if iSizeChanged {
		mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	}
	return int(copied)
}

// BlockPrepareWrite is block_prepare_write(page, from, to, get_block),
// fs/buffer.c, Linux 2.6.32 (and 2.6.12's ->prepare_write for buffer file
// systems).
func BlockPrepareWrite(t *sim.Task, page *mm.Page, from, to uint, getBlock GetBlockFunc) int {
	inode := page.Mapping.Host
	err := blockPrepareWriteInner(t, inode, page, from, to, getBlock)
	if err != 0 {
		mm.ClearPageUptodate(t, page)
	}
	return err
}

// BlockCommitWrite is block_commit_write(page, from, to).
func BlockCommitWrite(t *sim.Task, page *mm.Page, from, to uint) int {
	inode := page.Mapping.Host
	blockCommitWriteInner(t, inode, page, from, to)
	return 0
}

// GenericCommitWrite is generic_commit_write(file, page, from, to),
// fs/buffer.c, Linux 2.6.12: 2.6.12's ->commit_write for buffer file
// systems: commit, then extend i_size.
func GenericCommitWrite(t *sim.Task, file any, page *mm.Page, from, to uint) int {
	inode := page.Mapping.Host
	pos := int64(page.Index)<<mm.PageCacheShift + int64(to)
	blockCommitWriteInner(t, inode, page, from, to)
	// No need to use i_size_read() here, the i_size cannot change under
	// us because we hold i_sem.
	if pos > mm.ISizeRead(inode) {
		mm.ISizeWrite(t, inode, pos)
		mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	}
	return 0
}

// The nobh path.

// attachNobhBuffers is attach_nobh_buffers(page, head), fs/buffer.c,
// Linux 2.6.32: attach the NULL-terminated list nobh_write_begin made to
// the page, as a ring, dirty if the page is.
func attachNobhBuffers(t *sim.Task, page *mm.Page, head *BufferHead) {
	t.BUG_ON(!mm.PageLocked(page), page.Obj(), "attach_nobh_buffers: page not locked")
	page.Mapping.PrivateLock.Lock(t)
	bh := head
	for {
		if mm.PageDirty(page) {
			SetBufferDirty(t, bh)
		}
		if bh.ThisPage == nil {
			bh.ThisPage = head
		}
		bh = bh.ThisPage
		if bh == head {
			break
		}
	}
	AttachPageBuffers(t, page, head)
	page.Mapping.PrivateLock.Unlock(t)
}

// NobhWriteBegin is nobh_write_begin(file, mapping, pos, len, flags,
// pagep, fsdata, get_block), fs/buffer.c, Linux 2.6.32: prepare a write
// without leaving buffer heads on the page. Temporary buffers map (and
// allocate) the page's blocks, partly written blocks are read in, and the
// buffers go to nobh_write_end in *fsdata to be freed. A page that already
// has buffers takes the block_write_begin path; one already mapped to
// disk needs no preparation. On error the buffers are attached after all
// (the error handling of writeout needs them).
func NobhWriteBegin(t *sim.Task, file any, mapping *mm.AddressSpace, pos int64, length, flags uint,
	pagep **mm.Page, fsdata *any, getBlock GetBlockFunc) int {
	t.Enter("nobh_write_begin")
	defer t.Leave()
	inode := mapping.Host
	blkbits := inode.Blkbits
	blocksize := uint(1) << blkbits
	var head, bh *BufferHead
	nrReads := 0
	ret := 0
	isMappedToDisk := true

	index := uint64(pos) >> mm.PageCacheShift
	from := uint(pos & (mm.PageSize - 1))
	to := from + length

	page := mm.GrabCachePageWriteBegin(t, mapping, index, flags)
	if page == nil {
		return errno.ENOMEM.Neg()
	}
	*pagep = page
	*fsdata = nil

	if PageHasBuffers(page) {
		mm.UnlockPage(t, page)
		mm.PageCacheRelease(t, page)
		*pagep = nil
		return BlockWriteBegin(t, file, mapping, pos, length, flags, pagep, fsdata, getBlock)
	}

	if mm.PageMappedToDisk(page) {
		return 0
	}

	// Allocate buffers so that we can keep track of state, and
	// potentially attach them to the page if an error occurs. In the
	// common case of no error, they will just be freed again without ever
	// being attached to the page (which is all OK, because we're under
	// the page lock).
	//
	// Be careful: the buffer linked list is a NULL terminated one, rather
	// than the circular one we're used to.
	head = AllocPageBuffers(t, page, blocksize, 0)
	if head == nil {
		ret = errno.ENOMEM.Neg()
		goto outRelease
	}

	{
		blockInFile := page.Index << (mm.PageCacheShift - blkbits)

		// We loop across all blocks in the page, whether or not they are
		// part of the affected region. This is so we can discover if the
		// page is fully mapped-to-disk.
		blockInPage := uint64(0)
		for blockStart := uint(0); blockStart < mm.PageSize; blockInPage, blockStart, bh = blockInPage+1, blockStart+blocksize, bh.ThisPage {
			if blockStart == 0 {
				bh = head
			}
			blockEnd := blockStart + blocksize
			bh.State = 0
			create := 1
			if blockStart >= to {
				create = 0
			}
			ret = getBlock(t, inode, blockInFile+blockInPage, bh, create)
			if ret != 0 {
				goto failed
			}
			if !BufferMapped(bh) {
				isMappedToDisk = false
			}
			if BufferNew(bh) {
				UnmapUnderlyingMetadata(t, bh.Bdev, bh.Blocknr)
			}
			if mm.PageUptodate(page) {
				SetBufferUptodate(t, bh)
				continue
			}
			if BufferNew(bh) || !BufferMapped(bh) {
				zeroUserSegments(t, page, blockStart, from, to, blockEnd)
				continue
			}
			if BufferUptodate(bh) {
				continue // reiserfs does this
			}
			if blockStart < from || blockEnd > to {
				LockBuffer(t, bh)
				bh.EndIO = endBufferReadNobh
				SubmitBh(t, READ, bh)
				nrReads++
			}
		}

		if nrReads != 0 {
			// The page is locked, so these buffers are protected from any
			// VM or truncate activity. Hence we don't need to care for the
			// buffer_head refcounts.
			for bh = head; bh != nil; bh = bh.ThisPage {
				WaitOnBuffer(t, bh)
				if !BufferUptodate(bh) {
					ret = eio
				}
			}
			if ret != 0 {
				goto failed
			}
		}

		if isMappedToDisk {
			mm.SetPageMappedToDisk(t, page)
		}
		*fsdata = head // to be released by nobh_write_end
		return 0
	}

failed:
	t.BUG_ON(ret == 0, page.Obj(), "nobh_write_begin: failed without an error")
	// Error recovery is a bit difficult. We need to zero out blocks that
	// were newly allocated, and dirty them to ensure they get written
	// out. Buffers need to be attached to the page at this point,
	// otherwise the handling of potential IO errors during writeout would
	// be hard (could try doing synchronous writeout, but what if that
	// fails too?)
	attachNobhBuffers(t, page, head)
	PageZeroNewBuffers(t, page, from, to)

outRelease:
	mm.UnlockPage(t, page)
	mm.PageCacheRelease(t, page)
	*pagep = nil
	// if (pos + len > inode->i_size) vmtruncate(inode, inode->i_size): not modelled.
	return ret
}

// NobhWriteEnd is nobh_write_end(file, mapping, pos, len, copied, page,
// fsdata), fs/buffer.c, Linux 2.6.32: the page becomes uptodate and dirty
// without buffers (unless it has some, or the copy was short: then the
// generic_write_end path with the buffers attached), i_size grows, and the
// temporary buffers are freed.
func NobhWriteEnd(t *sim.Task, file any, mapping *mm.AddressSpace, pos int64, length, copied uint,
	page *mm.Page, fsdata any) int {
	t.Enter("nobh_write_end")
	defer t.Leave()
	inode := page.Mapping.Host
	head, _ := fsdata.(*BufferHead)
	t.BUG_ON(head != nil && PageHasBuffers(page), page.Obj(), "nobh_write_end: page has buffers and fsdata")

	if copied < length && head != nil {
		attachNobhBuffers(t, page, head)
	}
	if PageHasBuffers(page) {
		return GenericWriteEnd(t, file, mapping, pos, length, copied, page, fsdata)
	}

	mm.SetPageUptodate(t, page)
	mm.SetPageDirty(t, page)
	if pos+int64(copied) > mm.ISizeRead(inode) {
		mm.ISizeWrite(t, inode, pos+int64(copied))
		mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	}

	mm.UnlockPage(t, page)
	mm.PageCacheRelease(t, page)

	l := layerOf(t)
	for head != nil {
		bh := head
		head = head.ThisPage
		freeBufferHead(t, l, bh)
	}
	return int(copied)
}

// MpageWritepageFunc is mpage_writepage(page, get_block, wbc) as
// nobh_writepage calls it. fs/mpage.c sits above this package, so the
// caller passes it in.
type MpageWritepageFunc func(t *sim.Task, page *mm.Page, getBlock GetBlockFunc, wbc *mm.WritebackControl) int

// NobhWritepage is nobh_writepage(page, get_block, wbc), fs/buffer.c,
// Linux 2.6.32: like block_write_full_page, but try mpage_writepage first,
// which writes the page without attaching buffers; only if it says
// -EAGAIN fall back to __block_write_full_page.
func NobhWritepage(t *sim.Task, page *mm.Page, getBlock GetBlockFunc, wbc *mm.WritebackControl,
	mpageWritepage MpageWritepageFunc) int {
	t.Enter("nobh_writepage")
	defer t.Leave()
	inode := page.Mapping.Host
	iSize := mm.ISizeRead(inode)
	endIndex := uint64(iSize) >> mm.PageCacheShift
	var ret int

	// Is the page fully inside i_size?
	if page.Index >= endIndex {
		// Is the page fully outside i_size? (truncate in progress)
		offset := uint(iSize & (mm.PageSize - 1))
		if page.Index >= endIndex+1 || offset == 0 {
			mm.UnlockPage(t, page)
			return 0 // don't care
		}
		// The page straddles i_size. It must be zeroed out on each and
		// every writepage invocation because it may be mmapped.
		mm.ZeroUserSegment(t, page, offset, mm.PageSize)
	}
	ret = mpageWritepage(t, page, getBlock, wbc)
	if ret == errno.EAGAIN.Neg() {
		ret = blockWriteFullPageInner(t, inode, page, getBlock, wbc, EndBufferAsyncWrite)
	}
	return ret
}
