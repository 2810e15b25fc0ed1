package vfs

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// The buffered write path: mm/filemap.c, Linux 2.6.32 (2.6.35 and 3.2
// are the same in what is modelled), and 2.6.12's
// generic_file_buffered_write with ->prepare_write and ->commit_write
// (read from a 2.6.1x copy of mm/filemap.c; see PrepareWriteOp).

// PrepareWriteOp is ->prepare_write(file, page, from, to), the 2.6.12
// era's first half of a buffered write (2.6.24 replaced it with
// ->write_begin). The page comes locked, from __grab_cache_page.
type PrepareWriteOp interface {
	PrepareWrite(t *sim.Task, f any, p *mm.Page, from, to uint) int
}

// CommitWriteOp is ->commit_write(file, page, from, to).
type CommitWriteOp interface {
	CommitWrite(t *sim.Task, f any, p *mm.Page, from, to uint) int
}

// Write is write(2): vfs_write and do_sync_write, fs/read_write.c, Linux
// 2.6.32: write data at the file position through ->aio_write and move
// the position. It returns the bytes written or a negative errno.
func Write(t *sim.Task, f *File, data content.Bytes) int64 {
	pos := f.Pos
	ret := vfsWrite(t, f, data, &pos)
	if ret >= 0 {
		f.Pos = pos
	}
	return ret
}

// Pwrite is pwrite64(2): write data at pos; the file position stays.
func Pwrite(t *sim.Task, f *File, data content.Bytes, pos int64) int64 {
	if pos < 0 {
		return int64(errno.EINVAL.Neg())
	}
	return vfsWrite(t, f, data, &pos)
}

// vfsWrite is vfs_write(file, buf, count, pos) with do_sync_write: the
// file must be open for writing and have a write method; rw_verify_area
// refuses a negative position (mandatory locks are not modelled).
func vfsWrite(t *sim.Task, f *File, data content.Bytes, pos *int64) int64 {
	t.Enter("vfs_write")
	defer t.Leave()
	if f.Mode&FMODE_WRITE == 0 {
		return int64(EBADF.Neg())
	}
	op, ok := f.Op.(AioWriteOp)
	if !ok {
		return int64(errno.EINVAL.Neg())
	}
	if *pos < 0 || *pos+data.Len() < 0 { // rw_verify_area
		return int64(errno.EINVAL.Neg())
	}
	// do_sync_write
	kiocb := &Kiocb{Filp: f, Pos: *pos}
	ret := op.AioWrite(t, kiocb, data)
	*pos = kiocb.Pos
	return ret
}

// GenericWriteChecks is generic_write_checks(file, pos, count, isblk),
// mm/filemap.c, Linux 2.6.32 (2.6.12 is the same): O_APPEND writes at
// i_size; a file opened without O_LARGEFILE may not pass MAX_NON_LFS; no
// file may pass the super block's s_maxbytes: a write that starts there
// or beyond fails with -EFBIG, one that would cross it is shortened.
// RLIMIT_FSIZE is infinite in the model (no SIGXFSZ).
func GenericWriteChecks(f *File, pos *int64, count *int64, isblk bool) int {
	inode := f.Mapping.Host
	if *pos < 0 {
		return errno.EINVAL.Neg()
	}
	if !isblk {
		// FIXME: this is for backwards compatibility with 2.4
		if f.Flags&O_APPEND != 0 {
			*pos = mm.ISizeRead(inode)
		}
		// limit = RLIM_INFINITY
	}

	// LFS rule
	if *pos+*count > MAX_NON_LFS && f.Flags&O_LARGEFILE == 0 {
		if *pos >= MAX_NON_LFS {
			return errno.EFBIG.Neg() // send_sig(SIGXFSZ, current, 0)
		}
		if *count > MAX_NON_LFS-*pos {
			*count = MAX_NON_LFS - *pos
		}
	}

	// Are we about to exceed the fs block limit ?
	//
	// If we have written data it becomes a short write. If we have
	// exceeded without writing data we send a signal and return EFBIG.
	// Linus frestrict idea will clean these up nicely..
	if !isblk {
		maxBytes := f.Inode.SB.MaxBytes
		if *pos >= maxBytes {
			if *count != 0 || *pos > maxBytes {
				return errno.EFBIG.Neg() // send_sig(SIGXFSZ, current, 0)
			}
			// zero-length writes at ->s_maxbytes are OK
		}
		if *pos+*count > maxBytes {
			*count = maxBytes - *pos
		}
	}
	return 0
}

// Traces mark generic_file_aio_write and generic_perform_write (or
// 2.6.12's generic_file_buffered_write loop); __generic_file_aio_write and
// generic_file_buffered_write, thin layers between them, get no span of
// their own.

// GenericFileAioWrite is generic_file_aio_write(iocb, iov, nr_segs, pos),
// mm/filemap.c, Linux 2.6.32 (2.6.12's takes i_sem, the same lock): the
// buffered write under i_mutex. O_SYNC (generic_write_sync) is not
// modelled. It returns the bytes written or a negative errno; iocb.Pos
// moves past what was written.
func GenericFileAioWrite(t *sim.Task, iocb *Kiocb, data content.Bytes) int64 {
	t.Enter("generic_file_aio_write")
	defer t.Leave()
	file := iocb.Filp
	inode := file.Mapping.Host

	inode.IMutex.Lock(t)
	ret := GenericFileAioWriteLocked(t, iocb, data, &iocb.Pos)
	inode.IMutex.Unlock(t)
	return ret
}

// GenericFileAioWriteLocked is __generic_file_aio_write(iocb, iov,
// nr_segs, ppos), mm/filemap.c, Linux 2.6.32 (2.6.12's
// __generic_file_aio_write_nolock): the checks, then the buffered write;
// the caller holds i_mutex. vfs_check_frozen, file_remove_suid,
// file_update_time and O_DIRECT are not modelled.
func GenericFileAioWriteLocked(t *sim.Task, iocb *Kiocb, data content.Bytes, ppos *int64) int64 {
	file := iocb.Filp
	count := data.Len() // generic_segment_checks: one segment, always valid
	pos := *ppos
	var written int64

	// We can write back this queue in page reclaim:
	// current->backing_dev_info = mapping->backing_dev_info (the model's
	// reclaim does not look at it)
	err := GenericWriteChecks(file, &pos, &count, false)
	if err != 0 {
		goto out
	}
	if count == 0 {
		goto out
	}
	written = GenericFileBufferedWrite(t, iocb, data.Slice(0, count), pos, ppos, count, written)
out:
	if written != 0 {
		return written
	}
	return int64(err)
}

// GenericFileBufferedWrite is generic_file_buffered_write(iocb, iov,
// nr_segs, pos, ppos, count, written), mm/filemap.c: in 2.6.24 and later
// (2.6.32 read), generic_perform_write, and *ppos moves past what it
// wrote; in the 2.6.12 era, the loop over ->prepare_write, the copy and
// ->commit_write (genericFileBufferedWrite2612), when the mapping has
// those operations. A 2.6.12 mapping without them (the model's nobh
// ext2, see model/vfs/ext2) takes the write_begin path.
func GenericFileBufferedWrite(t *sim.Task, iocb *Kiocb, data content.Bytes, pos int64, ppos *int64,
	count, written int64) int64 {
	file := iocb.Filp
	aops := file.Mapping.AOps
	if file.Mapping.Host.Kernel.Era().PrepareWrite {
		_, pw := aops.(PrepareWriteOp)
		_, cw := aops.(CommitWriteOp)
		if pw && cw {
			return genericFileBufferedWrite2612(t, iocb, data, pos, ppos, count, written)
		}
	}
	status := GenericPerformWrite(t, file, data, pos)
	if status >= 0 {
		written += status
		*ppos = pos + status
	}
	if written != 0 {
		return written
	}
	return status
}

// GenericPerformWrite is generic_perform_write(file, i, pos),
// mm/filemap.c, Linux 2.6.32: page by page, ->write_begin locks (and
// prepares) the page, the user's bytes are copied in, ->write_end
// commits them (and dirties the page, extends i_size, unlocks and
// releases it), then balance_dirty_pages_ratelimited. It returns the
// bytes written, or the error if none were. The copy never faults (no
// user memory), so the "copied == 0: goto again" retry is never taken.
func GenericPerformWrite(t *sim.Task, file *File, data content.Bytes, pos int64) int64 {
	t.Enter("generic_perform_write")
	defer t.Leave()
	mapping := file.Mapping
	aops := mapping.AOps
	var status int64
	var written int64
	flags := uint(0)
	// Copies from kernel address space cannot fail (NFSD is a big user):
	// the model's writers are user space; flags stay 0.

	writeBegin, ok1 := aops.(mm.WriteBeginOp)
	writeEnd, ok2 := aops.(mm.WriteEndOp)
	if !ok1 || !ok2 {
		panic("vfs: generic_perform_write on a mapping without write_begin/write_end")
	}
	for {
		var page *mm.Page
		var fsdata any

		offset := pos & (mm.PageCacheSize - 1) // Offset into pagecache page
		// index := pos >> PAGE_CACHE_SHIFT: ->write_begin computes it
		bytes := min(mm.PageCacheSize-offset, data.Len()-written) // Bytes to write to page

	again:
		// iov_iter_fault_in_readable: the model's source never faults
		status = int64(writeBegin.WriteBegin(t, file, mapping, pos, uint(bytes), flags, &page, &fsdata))
		if status != 0 {
			break
		}
		// if (mapping_writably_mapped(mapping)) flush_dcache_page(page)
		chunk := data.Slice(written, bytes)
		mm.CopyToPage(t, page, uint(offset), chunk) // iov_iter_copy_from_user_atomic
		// flush_dcache_page(page)
		mm.MarkPageAccessed(t, page)
		status = int64(writeEnd.WriteEnd(t, file, mapping, pos, uint(bytes), uint(bytes), page, fsdata))
		if status < 0 {
			break
		}
		copied := status
		if sb := file.Inode.SB; sb.OnWrite != nil && copied > 0 {
			sb.OnWrite(file, pos, chunk.Slice(0, copied))
		}

		t.CondResched()

		// iov_iter_advance(i, copied)
		if copied == 0 {
			// If we were unable to copy any data at all, we must fall
			// back to a single segment length write.
			bytes = min(mm.PageCacheSize-offset, data.Len()-written) // iov_iter_single_seg_count
			goto again
		}
		pos += copied
		written += copied

		mm.BalanceDirtyPagesRatelimited(t, mapping)
		if written >= data.Len() { // while (iov_iter_count(i))
			break
		}
	}
	if written != 0 {
		return written
	}
	return status
}

// genericFileBufferedWrite2612 is generic_file_buffered_write of the
// 2.6.12 era (mm/filemap.c, read from a 2.6.1x copy): page by page,
// __grab_cache_page, ->prepare_write (on failure, blocks it may have
// instantiated past i_size are trimmed again with vmtruncate), the copy,
// ->commit_write, unlock, mark_page_accessed, release, then
// balance_dirty_pages_ratelimited; new pages go to the LRU through a
// pagevec at the end. O_SYNC and O_DIRECT are not modelled.
func genericFileBufferedWrite2612(t *sim.Task, iocb *Kiocb, data content.Bytes, pos int64, ppos *int64,
	count, written int64) int64 {
	t.Enter("generic_file_buffered_write")
	defer t.Leave()
	file := iocb.Filp
	mapping := file.Mapping
	aops := mapping.AOps
	inode := mapping.Host
	k := inode.Kernel
	var status int64
	var page *mm.Page
	var cachedPage *mm.Page
	var bytes int64
	var lruPvec mm.Pagevec
	var done int64 // bytes of data consumed (buf - iov->iov_base)

	mm.PagevecInit(&lruPvec, false)
	for {
		offset := pos & (mm.PageCacheSize - 1) // Within page
		index := k.ULong(uint64(pos) >> mm.PageCacheShift)
		bytes = mm.PageCacheSize - offset
		if bytes > count {
			bytes = count
		}

		// fault_in_pages_readable(buf, bytes): the model's source never
		// faults.
		page = grabCachePageInner2612(t, mapping, index, &cachedPage, &lruPvec)
		if page == nil {
			status = int64(errno.ENOMEM.Neg())
			break
		}

		status = int64(aops.(PrepareWriteOp).PrepareWrite(t, file, page, uint(offset), uint(offset+bytes)))
		if status != 0 {
			isize := mm.ISizeRead(inode)
			// prepare_write() may have instantiated a few blocks outside
			// i_size. Trim these off again.
			mm.UnlockPage(t, page)
			mm.PageCacheRelease(t, page)
			if pos+bytes > isize {
				mm.VMTruncate(t, inode, isize)
			}
			break
		}
		chunk := data.Slice(done, bytes)
		mm.CopyToPage(t, page, uint(offset), chunk) // filemap_copy_from_user
		copied := bytes
		// flush_dcache_page(page)
		status = int64(aops.(CommitWriteOp).CommitWrite(t, file, page, uint(offset), uint(offset+bytes)))
		if copied > 0 {
			if status == 0 {
				status = copied
			}
			if status >= 0 {
				if sb := file.Inode.SB; sb.OnWrite != nil {
					sb.OnWrite(file, pos, chunk.Slice(0, status))
				}
				written += status
				count -= status
				pos += status
				done += status
			}
		}
		if copied != bytes {
			if status >= 0 {
				status = int64(EFAULT.Neg())
			}
		}
		mm.UnlockPage(t, page)
		mm.MarkPageAccessed(t, page)
		mm.PageCacheRelease(t, page)
		if status < 0 {
			break
		}
		mm.BalanceDirtyPagesRatelimited(t, mapping)
		t.CondResched()
		if count == 0 {
			break
		}
	}
	*ppos = pos

	if cachedPage != nil {
		mm.PageCacheRelease(t, cachedPage)
	}
	// For now, when the user asks for O_SYNC, we'll actually give O_DSYNC:
	// not modelled.
	mm.PagevecLRUAdd(t, &lruPvec)
	if written != 0 {
		return written
	}
	return status
}

// grabCachePageInner2612 is __grab_cache_page(mapping, index, cached_page,
// lru_pvec), mm/filemap.c, 2.6.12: the locked page at index, or a new one
// (the cached page, allocated once) added to the page cache; a new page
// goes to the LRU later through lru_pvec, which holds a reference on it.
func grabCachePageInner2612(t *sim.Task, mapping *mm.AddressSpace, index uint64, cachedPage **mm.Page,
	lruPvec *mm.Pagevec) *mm.Page {
	for {
		page := mm.FindLockPage(t, mapping, index)
		if page == nil {
			if *cachedPage == nil {
				*cachedPage = mm.PageCacheAlloc(t, mapping)
			}
			err := mm.AddToPageCache(t, *cachedPage, mapping, index)
			if err == errno.EEXIST.Neg() {
				continue
			}
			if err == 0 {
				page = *cachedPage
				mm.PageCacheGet(t, page)
				if mm.PagevecAdd(lruPvec, page) == 0 {
					mm.PagevecLRUAdd(t, lruPvec)
				}
				*cachedPage = nil
			}
		}
		return page
	}
}
