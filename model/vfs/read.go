package vfs

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// The buffered read path: mm/filemap.c and mm/readahead.c, Linux 2.6.32
// (3.2 is the same in what is modelled), and 2.6.12's
// do_generic_mapping_read (read from a 2.6.1x copy of mm/filemap.c).
// Readahead is a fixed window (see the package comment).

// AOP_TRUNCATED_PAGE is the ->readpage return that says "the page was
// truncated under us: look it up again" (include/linux/fs.h).
const AOP_TRUNCATED_PAGE = 0x80001

// ReadDescriptor is read_descriptor_t: what is left to read (count),
// what was read (written, and the bytes: the user's buffer), and the
// first error.
type ReadDescriptor struct {
	Written int64
	Count   int64
	Data    content.Bytes
	Error   int
}

// fileArg is the struct file an address-space operation gets: a nil
// *File is a NULL file, not a typed nil.
func fileArg(f *File) any {
	if f == nil {
		return nil
	}
	return f
}

// Read is read(2): vfs_read and do_sync_read, fs/read_write.c, Linux
// 2.6.32: read up to n bytes at the file position through ->aio_read and
// move the position. It returns the bytes read and their number, or a
// negative errno.
func Read(t *sim.Task, f *File, n int64) (content.Bytes, int64) {
	pos := f.Pos
	data, ret := vfsRead(t, f, n, &pos)
	if ret >= 0 {
		f.Pos = pos
	}
	return data, ret
}

// Pread is pread64(2): read up to n bytes at pos; the file position
// stays.
func Pread(t *sim.Task, f *File, pos, n int64) (content.Bytes, int64) {
	if pos < 0 {
		return content.Bytes{}, int64(errno.EINVAL.Neg())
	}
	return vfsRead(t, f, n, &pos)
}

// vfsRead is vfs_read(file, buf, count, pos) with do_sync_read.
func vfsRead(t *sim.Task, f *File, n int64, pos *int64) (content.Bytes, int64) {
	t.Enter("vfs_read")
	defer t.Leave()
	if f.Mode&FMODE_READ == 0 {
		return content.Bytes{}, int64(EBADF.Neg())
	}
	op, ok := f.Op.(AioReadOp)
	if !ok {
		return content.Bytes{}, int64(errno.EINVAL.Neg())
	}
	if *pos < 0 || *pos+n < 0 { // rw_verify_area
		return content.Bytes{}, int64(errno.EINVAL.Neg())
	}
	kiocb := &Kiocb{Filp: f, Pos: *pos}
	data, ret := op.AioRead(t, kiocb, n)
	*pos = kiocb.Pos
	return data, ret
}

// GenericFileAioRead is generic_file_aio_read(iocb, iov, nr_segs, pos),
// mm/filemap.c, Linux 2.6.32 (2.6.12's __generic_file_aio_read is the
// same for one segment): do_generic_file_read with file_read_actor. It
// returns the bytes read and their number, or the error if none were
// read; iocb.Pos moves past them. O_DIRECT is not modelled.
func GenericFileAioRead(t *sim.Task, iocb *Kiocb, count int64) (content.Bytes, int64) {
	t.Enter("generic_file_aio_read")
	defer t.Leave()
	filp := iocb.Filp
	var retval int64
	desc := ReadDescriptor{Count: count}
	if desc.Count == 0 {
		return content.Bytes{}, 0
	}
	DoGenericFileRead(t, filp, &iocb.Pos, &desc)
	retval += desc.Written
	if desc.Error != 0 && retval == 0 {
		retval = int64(desc.Error)
	}
	return desc.Data, retval
}

// FileReadActor is file_read_actor(desc, page, offset, size),
// mm/filemap.c, Linux 2.6.32: copy up to size bytes at offset of the page
// to the user's buffer (a scheduling point: the copy may fault and
// sleep). It returns how many it copied.
func FileReadActor(t *sim.Task, desc *ReadDescriptor, page *mm.Page, offset, size int64) int64 {
	count := desc.Count
	if size > count {
		size = count
	}
	t.Point("file_read_actor", page.Obj(), offset) // __copy_to_user
	desc.Data = desc.Data.Append(mm.PageData(page, offset, size))
	desc.Count = count - size
	desc.Written += size
	return size
}

// DoGenericFileRead is do_generic_file_read(filp, ppos, desc, actor),
// mm/filemap.c, Linux 2.6.32 (zybsyzlz/linux-2.6.32 ec78931d, read via the
// search tool; no divergence found), or 2.6.12's do_generic_mapping_read: read
// page by page from the page cache into desc, reading missing pages in
// (readahead, or ->readpage of a page it adds itself), stopping at
// i_size; a page past i_size, or beyond the end of the last page's data,
// ends the read. *ppos moves past what was read. Pages that are not
// uptodate are read in whole: ->is_partially_uptodate
// (block_is_partially_uptodate) is not modelled.
func DoGenericFileRead(t *sim.Task, filp *File, ppos *int64, desc *ReadDescriptor) {
	if !filp.Mapping.Host.Kernel.Era().DoGenericFileRead {
		doGenericMappingRead2612(t, filp.Mapping, &filp.Ra, filp, ppos, desc)
		return
	}
	doGenericFileRead(t, filp, ppos, desc)
}

func doGenericFileRead(t *sim.Task, filp *File, ppos *int64, desc *ReadDescriptor) {
	t.Enter("do_generic_file_read")
	defer t.Leave()
	mapping := filp.Mapping
	inode := mapping.Host
	k := inode.Kernel
	ra := &filp.Ra
	var page *mm.Page
	var error int

	index := k.ULong(uint64(*ppos) >> mm.PageCacheShift)
	prevIndex := k.ULong(uint64(ra.PrevPos) >> mm.PageCacheShift)
	prevOffset := uint64(ra.PrevPos) & (mm.PageCacheSize - 1)
	lastIndex := k.ULong(uint64(*ppos+desc.Count+mm.PageCacheSize-1) >> mm.PageCacheShift)
	offset := uint64(*ppos) & (mm.PageCacheSize - 1) // offset into pagecache page

	for {
		var endIndex uint64
		var isize int64
		var nr, ret int64

		t.CondResched()
	findPage:
		page = mm.FindGetPage(t, mapping, index)
		if page == nil {
			PageCacheSyncReadahead(t, mapping, ra, filp, index, k.ULong(lastIndex-index))
			page = mm.FindGetPage(t, mapping, index)
			if page == nil {
				goto noCachedPage
			}
		}
		// if (PageReadahead(page)) page_cache_async_readahead(...): no
		// asynchronous readahead in the model
		if !mm.PageUptodate(page) {
			// i_blkbits != PAGE_CACHE_SHIFT and ->is_partially_uptodate:
			// not modelled
			goto pageNotUpToDate
		}
	pageOK:
		// i_size must be checked after we know the page is Uptodate.
		//
		// Checking i_size after the check allows us to calculate the
		// correct value for "nr", which means the zero-filled part of the
		// page is not copied back to userspace (unless another truncate
		// extends the file - this is desired though).
		isize = mm.ISizeRead(inode)
		endIndex = k.ULong(uint64(isize-1) >> mm.PageCacheShift)
		if isize == 0 || index > endIndex {
			mm.PageCacheRelease(t, page)
			goto out
		}

		// nr is the maximum number of bytes to copy from this page
		nr = mm.PageCacheSize
		if index == endIndex {
			nr = ((isize - 1) & (mm.PageCacheSize - 1)) + 1
			if mutant.On("read-eof-nr") { // mutant: "i_size & ~PAGE_CACHE_MASK", before a32ea1e1f925
				nr = isize & (mm.PageCacheSize - 1)
			}
			if nr <= int64(offset) {
				mm.PageCacheRelease(t, page)
				goto out
			}
		}
		nr = nr - int64(offset)

		// If users can be writing to this page using arbitrary virtual
		// addresses, take care about potential aliasing before reading
		// the page on the kernel side: flush_dcache_page, nothing to do.

		// When a sequential read accesses a page several times, only
		// mark it as accessed the first time.
		if prevIndex != index || offset != prevOffset {
			mm.MarkPageAccessed(t, page)
		}
		prevIndex = index

		// Ok, we have the page, and it's up-to-date, so now we can copy
		// it to user space...
		ret = FileReadActor(t, desc, page, int64(offset), nr)
		offset += uint64(ret)
		index = k.ULong(index + offset>>mm.PageCacheShift)
		offset &= mm.PageCacheSize - 1
		prevOffset = offset

		mm.PageCacheRelease(t, page)
		if ret == nr && desc.Count != 0 {
			continue
		}
		goto out

	pageNotUpToDate:
		// Get exclusive access to the page ... (lock_page_killable: no
		// fatal signals in the model)
		mm.LockPage(t, page)

		// Did it get truncated before we got the lock?
		if page.Mapping == nil {
			mm.UnlockPage(t, page)
			mm.PageCacheRelease(t, page)
			continue
		}

		// Did somebody else fill it already?
		if mm.PageUptodate(page) {
			mm.UnlockPage(t, page)
			goto pageOK
		}

	readpage:
		// Start the actual read. The read will unlock the page.
		error = mapping.AOps.(mm.ReadpageOp).Readpage(t, fileArg(filp), page)
		if error != 0 {
			if error == AOP_TRUNCATED_PAGE {
				mm.PageCacheRelease(t, page)
				goto findPage
			}
			goto readpageError
		}

		if !mm.PageUptodate(page) {
			mm.LockPage(t, page)
			if !mm.PageUptodate(page) {
				if page.Mapping == nil {
					// invalidate_inode_pages got it
					mm.UnlockPage(t, page)
					mm.PageCacheRelease(t, page)
					goto findPage
				}
				mm.UnlockPage(t, page)
				shrinkReadaheadSizeEIO(filp, ra)
				error = errno.EIO.Neg()
				goto readpageError
			}
			mm.UnlockPage(t, page)
		}
		goto pageOK

	readpageError:
		// UHHUH! A synchronous read error occurred. Report it
		desc.Error = error
		mm.PageCacheRelease(t, page)
		goto out

	noCachedPage:
		// Ok, it wasn't cached, so we need to create a new page..
		page = mm.PageCacheAllocCold(t, mapping)
		error = mm.AddToPageCacheLRU(t, page, mapping, index)
		if error != 0 {
			mm.PageCacheRelease(t, page)
			if error == errno.EEXIST.Neg() {
				goto findPage
			}
			desc.Error = error
			goto out
		}
		goto readpage
	}

out:
	ra.PrevPos = int64(prevIndex)<<mm.PageCacheShift | int64(prevOffset)
	*ppos = int64(index)<<mm.PageCacheShift + int64(offset)
	// file_accessed(filp): no atime in the model
}

// shrinkReadaheadSizeEIO is shrink_readahead_size_eio(filp, ra).
func shrinkReadaheadSizeEIO(filp *File, ra *FileRaState) { ra.RaPages /= 4 }

// doGenericMappingRead2612 is do_generic_mapping_read(mapping, _ra,
// filp, ppos, desc, actor), mm/filemap.c of the 2.6.12 era (read from a
// 2.6.1x copy): as 2.6.32's, but i_size is read before the loop and
// again after a readpage, readahead runs whenever the index reaches
// next_index (page_cache_readahead, a fixed window here), and a page
// found not uptodate is read under the page lock by the reader itself.
func doGenericMappingRead2612(t *sim.Task, mapping *mm.AddressSpace, ra *FileRaState, filp *File, ppos *int64,
	desc *ReadDescriptor) {
	t.Enter("do_generic_mapping_read")
	defer t.Leave()
	inode := mapping.Host
	k := inode.Kernel
	var cachedPage *mm.Page
	var error int
	var page *mm.Page
	var nr, ret int64
	var endIndex uint64

	index := k.ULong(uint64(*ppos) >> mm.PageCacheShift)
	nextIndex := index
	prevIndex := k.ULong(uint64(ra.PrevPos) >> mm.PageCacheShift) // ra.prev_page
	lastIndex := k.ULong(uint64(*ppos+desc.Count+mm.PageCacheSize-1) >> mm.PageCacheShift)
	offset := uint64(*ppos) & (mm.PageCacheSize - 1)

	isize := mm.ISizeRead(inode)
	if isize == 0 {
		goto out
	}

	endIndex = k.ULong(uint64(isize-1) >> mm.PageCacheShift)
	for {
		// nr is the maximum number of bytes to copy from this page
		nr = mm.PageCacheSize
		if index >= endIndex {
			if index > endIndex {
				goto out
			}
			nr = ((isize - 1) & (mm.PageCacheSize - 1)) + 1
			if nr <= int64(offset) {
				goto out
			}
		}
		nr = nr - int64(offset)

		t.CondResched()
		if index == nextIndex {
			nextIndex = pageCacheReadahead2612(t, mapping, ra, filp, index, k.ULong(lastIndex-index))
		}

	findPage:
		page = mm.FindGetPage(t, mapping, index)
		if page == nil {
			// handle_ra_miss(mapping, &ra, index): no window to shrink
			goto noCachedPage
		}
		if !mm.PageUptodate(page) {
			goto pageNotUpToDate
		}
	pageOK:
		// When (part of) the same page is read multiple times in
		// succession, only mark it as accessed the first time.
		if prevIndex != index {
			mm.MarkPageAccessed(t, page)
		}
		prevIndex = index

		// Ok, we have the page, and it's up-to-date, so now we can copy
		// it to user space...
		ret = FileReadActor(t, desc, page, int64(offset), nr)
		offset += uint64(ret)
		index = k.ULong(index + offset>>mm.PageCacheShift)
		offset &= mm.PageCacheSize - 1

		mm.PageCacheRelease(t, page)
		if ret == nr && desc.Count != 0 {
			continue
		}
		goto out

	pageNotUpToDate:
		// Get exclusive access to the page ...
		mm.LockPage(t, page)

		// Did it get unhashed before we got the lock?
		if page.Mapping == nil {
			mm.UnlockPage(t, page)
			mm.PageCacheRelease(t, page)
			continue
		}

		// Did somebody else fill it already?
		if mm.PageUptodate(page) {
			mm.UnlockPage(t, page)
			goto pageOK
		}

	readpage:
		// Start the actual read. The read will unlock the page.
		error = mapping.AOps.(mm.ReadpageOp).Readpage(t, fileArg(filp), page)
		if error != 0 {
			goto readpageError
		}

		if !mm.PageUptodate(page) {
			mm.LockPage(t, page)
			if !mm.PageUptodate(page) {
				if page.Mapping == nil {
					// invalidate_inode_pages got it
					mm.UnlockPage(t, page)
					mm.PageCacheRelease(t, page)
					goto findPage
				}
				mm.UnlockPage(t, page)
				error = errno.EIO.Neg()
				goto readpageError
			}
			mm.UnlockPage(t, page)
		}

		// i_size must be checked after we have done ->readpage.
		//
		// Checking i_size after the readpage allows us to calculate the
		// correct value for "nr", which means the zero-filled part of the
		// page is not copied back to userspace (unless another truncate
		// extends the file - this is desired though).
		isize = mm.ISizeRead(inode)
		endIndex = k.ULong(uint64(isize-1) >> mm.PageCacheShift)
		if isize == 0 || index > endIndex {
			mm.PageCacheRelease(t, page)
			goto out
		}

		// nr is the maximum number of bytes to copy from this page
		nr = mm.PageCacheSize
		if index == endIndex {
			nr = ((isize - 1) & (mm.PageCacheSize - 1)) + 1
			if nr <= int64(offset) {
				mm.PageCacheRelease(t, page)
				goto out
			}
		}
		nr = nr - int64(offset)
		goto pageOK

	readpageError:
		// UHHUH! A synchronous read error occurred. Report it
		desc.Error = error
		mm.PageCacheRelease(t, page)
		goto out

	noCachedPage:
		// Ok, it wasn't cached, so we need to create a new page..
		if cachedPage == nil {
			cachedPage = mm.PageCacheAllocCold(t, mapping)
		}
		error = mm.AddToPageCacheLRU(t, cachedPage, mapping, index)
		if error != 0 {
			if error == errno.EEXIST.Neg() {
				goto findPage
			}
			desc.Error = error
			goto out
		}
		page = cachedPage
		cachedPage = nil
		goto readpage
	}

out:
	ra.PrevPos = int64(prevIndex) << mm.PageCacheShift
	*ppos = int64(index)<<mm.PageCacheShift + int64(offset)
	if cachedPage != nil {
		mm.PageCacheRelease(t, cachedPage)
	}
	// if (filp) file_accessed(filp): no atime in the model
}

// pageCacheReadahead2612 is page_cache_readahead(mapping, ra, filp,
// offset, req_size) of the 2.6.12 era, reduced to the model's fixed
// window: read ra_pages pages from offset and say that the next
// readahead is due at the end of the window.
func pageCacheReadahead2612(t *sim.Task, mapping *mm.AddressSpace, ra *FileRaState, filp *File,
	offset, reqSize uint64) uint64 {
	if ra.RaPages == 0 {
		return offset + 1
	}
	doPageCacheReadahead(t, mapping, filp, offset, ra.RaPages, 0)
	return mapping.Host.Kernel.ULong(offset + ra.RaPages)
}

// PageCacheSyncReadahead is page_cache_sync_readahead(mapping, ra, filp,
// offset, req_size), mm/readahead.c, Linux 2.6.32, with
// ondemand_readahead's window sizing replaced by a fixed window: read
// ra_pages pages from offset (clipped at end of file). No page is marked
// PG_readahead (no asynchronous readahead).
func PageCacheSyncReadahead(t *sim.Task, mapping *mm.AddressSpace, ra *FileRaState, filp *File,
	offset, reqSize uint64) {
	// no read-ahead
	if ra.RaPages == 0 {
		return
	}
	// do read-ahead: ondemand_readahead(mapping, ra, filp, false, offset,
	// req_size), simplified
	doPageCacheReadahead(t, mapping, filp, offset, ra.RaPages, 0)
}

// doPageCacheReadahead is __do_page_cache_readahead(mapping, filp,
// offset, nr_to_read, lookahead_size), mm/readahead.c, Linux 2.6.32:
// allocate the pages of the window that are not cached (none past the
// page that holds the last byte), then read them with read_pages. It
// returns how many it started. I/O errors are ignored: the reader will
// retry ->readpage and see them.
func doPageCacheReadahead(t *sim.Task, mapping *mm.AddressSpace, filp *File, offset, nrToRead,
	lookaheadSize uint64) int {
	t.Enter("__do_page_cache_readahead")
	defer t.Leave()
	inode := mapping.Host
	k := inode.Kernel
	var pagePool []*mm.Page
	ret := 0
	isize := mm.ISizeRead(inode)

	if isize == 0 {
		return 0
	}
	endIndex := k.ULong(uint64(isize-1) >> mm.PageCacheShift) // The last page we want to read

	// Preallocate as many pages as we will need.
	for pageIdx := uint64(0); pageIdx < nrToRead; pageIdx++ {
		pageOffset := k.ULong(offset + pageIdx)
		if pageOffset > endIndex {
			break
		}
		mapping.TreeLock.Lock(t) // rcu_read_lock
		page := mapping.PageTree.Lookup(pageOffset)
		mapping.TreeLock.Unlock(t)
		if page != nil {
			continue
		}
		page = mm.PageCacheAllocCold(t, mapping)
		page.Index = pageOffset
		pagePool = append(pagePool, page)
		// if (page_idx == nr_to_read - lookahead_size) SetPageReadahead(page)
		ret++
	}

	// Now start the IO. We ignore I/O errors - if the page is not
	// uptodate then the caller will launch readpage again, and will then
	// handle the error.
	if ret != 0 {
		readPages(t, mapping, filp, pagePool)
	}
	return ret
}

// readPages is read_pages(mapping, filp, pages, nr_pages), mm/readahead.c,
// Linux 2.6.32: ->readpages (which adds the pages to the page cache and
// consumes the list), or, page by page, add_to_page_cache_lru and
// ->readpage. pages is in index order (the kernel's list, walked from its
// tail, is too).
func readPages(t *sim.Task, mapping *mm.AddressSpace, filp *File, pages []*mm.Page) {
	t.Enter("read_pages")
	defer t.Leave()
	if op, ok := mapping.AOps.(mm.ReadpagesOp); ok {
		op.Readpages(t, fileArg(filp), mapping, pages, len(pages))
		// Clean up the remaining pages: put_pages_list(pages) finds none,
		// mpage_readpages consumes the list.
		return
	}
	for _, page := range pages {
		if mm.AddToPageCacheLRU(t, page, mapping, page.Index) == 0 {
			mapping.AOps.(mm.ReadpageOp).Readpage(t, fileArg(filp), page)
		}
		mm.PageCacheRelease(t, page)
	}
}
