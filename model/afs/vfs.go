package afs

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// The VFS entry points the AFS write path runs under, modelled from Linux
// 2.6.35 (mm/filemap.c, fs/sync.c) because model/vfs does not exist yet.
// TODO(vfs): replace genericFileAioWrite/genericPerformWrite and
// VfsFsyncRange with model/vfs's once it provides them.

// genericFileAioWrite is generic_file_aio_write(iocb, iov, nr_segs, pos),
// mm/filemap.c, 2.6.35, for a buffered write without O_SYNC: under
// i_mutex, __generic_file_aio_write (generic_write_checks, file_remove_suid
// and file_update_time do nothing in the model) runs
// generic_file_buffered_write, which is generic_perform_write.
func genericFileAioWrite(t *sim.Task, file *File, data content.Bytes, pos int64) int64 {
	t.Enter("generic_file_aio_write")
	defer t.Leave()
	inode := file.Mapping.Host
	inode.IMutex.Lock(t)
	ret := genericPerformWrite(t, file, data, pos)
	if ret > 0 {
		file.Pos = pos + ret
	}
	inode.IMutex.Unlock(t)
	return ret
}

// genericPerformWrite is generic_perform_write(file, i, pos), mm/filemap.c,
// 2.6.35: page by page, ->write_begin, copy the user's bytes into the page
// (the model's copy never faults), ->write_end, then
// balance_dirty_pages_ratelimited. It returns the bytes written, or the
// error if none were.
func genericPerformWrite(t *sim.Task, file *File, data content.Bytes, pos int64) int64 {
	t.Enter("generic_perform_write")
	defer t.Leave()
	mapping := file.Mapping
	aops := mapping.AOps
	fs := file.Vnode.fs
	var written int64
	status := 0
	flags := uint(0)
	for {
		offset := pos & (mm.PageCacheSize - 1)
		bytes := min(mm.PageCacheSize-offset, data.Len()-written)
		var page *mm.Page
		var fsdata any

		status = aops.(mm.WriteBeginOp).WriteBegin(t, file, mapping, pos, uint(bytes), flags, &page, &fsdata)
		if status != 0 {
			break
		}
		chunk := data.Slice(written, bytes)
		mm.CopyToPage(t, page, uint(offset), chunk) // iov_iter_copy_from_user_atomic
		mm.MarkPageAccessed(t, page)
		status = aops.(mm.WriteEndOp).WriteEnd(t, file, mapping, pos, uint(bytes), uint(bytes), page, fsdata)
		if status < 0 {
			break
		}
		copied := int64(status)
		if fs.OnWrite != nil && copied > 0 {
			fs.OnWrite(file.Vnode, pos, chunk.Slice(0, copied))
		}
		t.CondResched()
		pos += copied
		written += copied
		mm.BalanceDirtyPagesRatelimited(t, mapping)
		if written >= data.Len() {
			break
		}
	}
	if written > 0 {
		return written
	}
	return int64(status)
}

// VfsFsyncRange is vfs_fsync_range(file, start, end, datasync), fs/sync.c,
// Linux 2.6.35 to 3.0: filemap_write_and_wait_range over the range, then,
// under i_mutex, the file system's ->fsync (afs_fsync); the first error
// wins.
func VfsFsyncRange(t *sim.Task, file *File, start, end int64, datasync int) int {
	t.Enter("vfs_fsync_range")
	defer t.Leave()
	mapping := file.Mapping
	ret := mm.FilemapWriteAndWaitRange(t, mapping, start, end)
	// We need to protect against concurrent writers, which could cause
	// livelocks in fsync_buffers_list().
	mapping.Host.IMutex.Lock(t)
	err := AfsFsync(t, file, datasync)
	if ret == 0 {
		ret = err
	}
	mapping.Host.IMutex.Unlock(t)
	return ret
}

// VfsFsync is vfs_fsync(file, datasync): the whole file.
func VfsFsync(t *sim.Task, file *File, datasync int) int {
	return VfsFsyncRange(t, file, 0, mm.LLONG_MAX, datasync)
}
