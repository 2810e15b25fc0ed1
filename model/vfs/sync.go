package vfs

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// fsync, fdatasync and sync: fs/sync.c of Linux 2.6.32 (a 2.6.32-2.6.34
// fs/sync.c with s_need_sync, the static mutex and
// __put_super_and_need_restart, read via the search tool as an unnamed
// file text: sys_sync, sync_filesystems, __sync_filesystem,
// vfs_fsync_range, vfs_fsync, do_fsync all as modelled; 2.6.35 is the
// same here), 3.2 (from memory), and the 2.6.12 era's sys_fsync and
// do_sync (fs/buffer.c and fs/fs-writeback.c of 2.6.12, read from memory
// of that tree).

// Fsync is fsync(2): do_fsync(fd, 0).
func Fsync(t *sim.Task, f *File) int { return doFsync(t, f, 0) }

// Fdatasync is fdatasync(2): do_fsync(fd, 1).
func Fdatasync(t *sim.Task, f *File) int { return doFsync(t, f, 1) }

// doFsync is do_fsync(fd, datasync), fs/sync.c: vfs_fsync in 2.6.2x and
// 3.x, 2.6.12's sys_fsync/sys_fdatasync body in the 2.6.12 era; then, if
// the super block has one, the model's barrier (SuperBlock.Barrier; its
// error is reported if the fsync had none).
func doFsync(t *sim.Task, f *File, datasync int) int {
	t.Enter("do_fsync")
	defer t.Leave()
	var ret int
	if !f.Mapping.Host.Kernel.Era().VfsFsync {
		ret = sysFsync2612(t, f, datasync)
	} else {
		ret = VfsFsync(t, f, datasync)
	}
	return barrierAfterSync(t, f, ret)
}

// barrierAfterSync runs the model's barrier (SuperBlock.Barrier) after a
// data-integrity sync of f that reached ->fsync, and returns ret, or the
// barrier's error if ret was 0. Not kernel code: the stand-in for a
// barrier mount's cache flush (see the package comment).
func barrierAfterSync(t *sim.Task, f *File, ret int) int {
	if _, ok := f.Op.(FsyncOp); ok {
		if barrier := f.Inode.SB.Barrier; barrier != nil {
			if err := barrier(t); ret == 0 {
				ret = err
			}
		}
	}
	return ret
}

// VfsFsync is vfs_fsync(file, datasync): vfs_fsync_range over the whole
// file.
func VfsFsync(t *sim.Task, f *File, datasync int) int {
	return VfsFsyncRange(t, f, 0, mm.LLONG_MAX, datasync)
}

// VfsFsyncRange is vfs_fsync_range(file, start, end, datasync),
// fs/sync.c. In 2.6.31 to 3.0 (2.6.32 and 2.6.35 read) it writes and
// waits on the range itself, filemap_write_and_wait_range, then calls
// ->fsync under i_mutex ("We need to protect against concurrent writers,
// which could cause livelocks in fsync_buffers_list()"); the first error
// wins. From 3.1 (3.2 read) it only calls ->fsync(file, start, end,
// datasync), which does both. No ->fsync: -EINVAL.
func VfsFsyncRange(t *sim.Task, f *File, start, end int64, datasync int) int {
	t.Enter("vfs_fsync_range")
	defer t.Leave()
	op, ok := f.Op.(FsyncOp)
	if !ok {
		return errno.EINVAL.Neg()
	}
	if f.Mapping.Host.Kernel.Era().FsyncRange {
		return op.Fsync(t, f, start, end, datasync)
	}
	mapping := f.Mapping
	ret := mm.FilemapWriteAndWaitRange(t, mapping, start, end)
	// We need to protect against concurrent writers, which could cause
	// livelocks in fsync_buffers_list().
	mapping.Host.IMutex.Lock(t)
	err := op.Fsync(t, f, start, end, datasync)
	if ret == 0 {
		ret = err
	}
	mapping.Host.IMutex.Unlock(t)
	return ret
}

// sysFsync2612 is sys_fsync(fd) (sys_fdatasync with datasync 1), fs/buffer.c,
// 2.6.12: start writeback of the whole file (filemap_fdatawrite, which in
// this era asks for nrpages*2 pages), run ->fsync under i_sem, then wait
// (filemap_fdatawait); the first error wins. No ->fsync: -EINVAL.
// PF_SYNCWRITE has no model.
func sysFsync2612(t *sim.Task, f *File, datasync int) int {
	t.Enter("sys_fsync")
	defer t.Leave()
	mapping := f.Mapping
	op, ok := f.Op.(FsyncOp)
	if !ok {
		// Why? We can still call filemap_fdatawrite
		return errno.EINVAL.Neg()
	}
	ret := mm.FilemapFdatawrite(t, mapping)

	// We need to protect against concurrent writers, which could cause
	// livelocks in fsync_buffers_list
	mapping.Host.IMutex.Lock(t)
	err := op.Fsync(t, f, 0, mm.LLONG_MAX, datasync)
	if ret == 0 {
		ret = err
	}
	mapping.Host.IMutex.Unlock(t)
	err = mm.FilemapFdatawait(t, mapping)
	if ret == 0 {
		ret = err
	}
	return ret
}

// Sync is sync(2). In 2.6.2x and 3.x (sys_sync, fs/sync.c, 2.6.32 and
// 3.2): wake the flusher threads, then sync_filesystems(0) (start
// writeback of every inode, WB_SYNC_NONE, and ->sync_fs(sb, 0)) and
// sync_filesystems(1) (write and wait, WB_SYNC_ALL, ->sync_fs(sb, 1), and
// the block device's buffers). In the 2.6.12 era, do_sync(1).
func Sync(t *sim.Task, v *VFS) {
	t.Enter("sys_sync")
	defer t.Leave()
	if !v.K.Era().SyncWakesFlusher {
		doSync2612(t, v)
		return
	}
	mm.WakeupFlusherThreads(t, v.K, 0)
	syncFilesystems(t, v, 0)
	syncFilesystems(t, v, 1)
	// laptop_mode: off
}

// syncFilesystems is sync_filesystems(wait), fs/sync.c, Linux 2.6.32:
// __sync_filesystem of every super block, one sync at a time (its static
// mutex).
func syncFilesystems(t *sim.Task, v *VFS, wait int) {
	t.Enter("sync_filesystems")
	defer t.Leave()
	syncMutex(v).Lock(t)
	for _, sb := range v.Supers() { // s_need_sync over a snapshot of super_blocks
		syncFilesystem(t, sb, wait)
	}
	syncMutex(v).Unlock(t)
}

// syncFilesystem is __sync_filesystem(sb, wait), fs/sync.c, Linux 2.6.32
// (3.2 is the same): write (and with wait, wait on) the super block's
// inodes, ->sync_fs, then the block device's buffer cache.
func syncFilesystem(t *sim.Task, sb *SuperBlock, wait int) int {
	t.Enter("__sync_filesystem")
	defer t.Leave()
	if wait != 0 {
		SyncInodesSb(t, sb)
	} else {
		WritebackInodesSb(t, sb)
	}
	if op, ok := sb.Op.(SyncFsOp); ok {
		op.SyncFs(t, sb, wait)
	}
	return syncBlockdevInner(t, sb.BdevMapping, wait)
}

// WritebackInodesSb is writeback_inodes_sb(sb), fs/fs-writeback.c, Linux
// 2.6.32: start writeback (WB_SYNC_NONE) of the dirty inodes, about as
// many pages as are dirty. The kernel queues the work to the flusher
// thread and does not wait; the model does it in the caller (over the
// kernel's one dirty-inode list).
func WritebackInodesSb(t *sim.Task, sb *SuperBlock) {
	k := sb.V.K
	nrToWrite := k.NrFileDirty + k.NrUnstableNFS + int64(len(sb.inodes))
	wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: nrToWrite, RangeCyclic: true}
	mm.WritebackInodes(t, k, wbc)
}

// SyncInodesSb is sync_inodes_sb(sb), fs/fs-writeback.c, Linux 2.6.32:
// data-integrity writeback (WB_SYNC_ALL) of every dirty inode (the
// flusher does it for the caller, who waits; the model does it in the
// caller), then wait_sb_inodes.
func SyncInodesSb(t *sim.Task, sb *SuperBlock) {
	t.Enter("sync_inodes_sb")
	defer t.Leave()
	k := sb.V.K
	wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL, NrToWrite: mm.LLONG_MAX, RangeStart: 0,
		RangeEnd: mm.LLONG_MAX}
	mm.WritebackInodes(t, k, wbc)
	// mutant: sync(2) does not wait, before "vfs: Fix sys_sync() and fsync_super() reliability"
	if !mutant.On("sync-no-wait") {
		waitSbInodes(t, sb)
	}
}

// waitSbInodes is wait_sb_inodes(wbc), fs/fs-writeback.c, Linux 2.6.32:
// wait on the pages under writeback of every inode of the super block
// that has pages (filemap_fdatawait, which also consumes AS_EIO and
// AS_ENOSPC: an error sync sees is not reported to a later fsync).
func waitSbInodes(t *sim.Task, sb *SuperBlock) {
	k := sb.V.K
	k.InodeLock.Lock(t)
	for _, ino := range sb.Inodes() {
		inode := ino.I
		if inode.State&(mm.I_FREEING|mm.I_CLEAR|mm.I_WILL_FREE|mm.I_NEW) != 0 {
			continue
		}
		mapping := inode.Mapping
		if mapping.NrPages == 0 {
			continue
		}
		// __iget(inode)
		k.InodeLock.Unlock(t)
		mm.FilemapFdatawait(t, mapping)
		t.CondResched()
		k.InodeLock.Lock(t)
	}
	k.InodeLock.Unlock(t)
}

// syncBlockdevInner is __sync_blockdev(bdev, wait), fs/sync.c, Linux 2.6.32:
// start writeback of the block device's buffer cache (filemap_flush), or
// with wait, write and wait on it (sync_blockdev, filemap_write_and_wait).
// No block device: 0.
func syncBlockdevInner(t *sim.Task, bdMapping *mm.AddressSpace, wait int) int {
	if bdMapping == nil {
		return 0
	}
	if wait == 0 {
		return mm.FilemapFlush(t, bdMapping)
	}
	return mm.FilemapWriteAndWait(t, bdMapping)
}

// doSync2612 is do_sync(1), fs/buffer.c, 2.6.12: wakeup_bdflush(0), then
// sync_inodes(0), sync_supers (nothing: no super block is written in the
// model), sync_filesystems(0) and (1), and sync_inodes(1).
func doSync2612(t *sim.Task, v *VFS) {
	t.Enter("do_sync")
	defer t.Leave()
	mm.WakeupFlusherThreads(t, v.K, 0) // wakeup_bdflush(0)
	syncInodes2612(t, v, 0)            // All mappings, inodes and their blockdevs
	// DQUOT_SYNC(NULL); sync_supers(): Write the superblocks
	syncFilesystems2612(t, v, 0) // Start syncing the filesystems
	syncFilesystems2612(t, v, 1) // Waitingly sync the filesystems
	syncInodes2612(t, v, 1)      // Mappings, inodes and blockdevs, again.
	// laptop_mode: off
}

// syncInodes2612 is sync_inodes(wait), fs/fs-writeback.c, 2.6.12: for
// every super block, sync_inodes_sb(sb, 0) and sync_blockdev; with wait,
// all of it again with sync_inodes_sb(sb, 1).
func syncInodes2612(t *sim.Task, v *VFS, wait int) {
	t.Enter("sync_inodes")
	defer t.Leave()
	for _, sb := range v.Supers() {
		syncInodesSb2612(t, sb, 0)
		syncBlockdev2612(t, sb.BdevMapping)
	}
	if wait != 0 {
		for _, sb := range v.Supers() {
			syncInodesSb2612(t, sb, 1)
			syncBlockdev2612(t, sb.BdevMapping)
		}
	}
}

// syncInodesSb2612 is sync_inodes_sb(sb, wait), fs/fs-writeback.c,
// 2.6.12: sync_sb_inodes with WB_SYNC_ALL when waiting, else
// WB_SYNC_HOLD (write, and keep the inode on the dirty list for the
// waiting pass), asking for about three times the dirty pages plus one
// per inode, and half as much again "for luck".
func syncInodesSb2612(t *sim.Task, sb *SuperBlock, wait int) {
	t.Enter("sync_inodes_sb")
	defer t.Leave()
	k := sb.V.K
	mode := mm.WB_SYNC_HOLD
	if wait != 0 {
		mode = mm.WB_SYNC_ALL
	}
	nrDirty, nrUnstable := k.NrFileDirty, k.NrUnstableNFS
	nrToWrite := nrDirty + nrUnstable + int64(len(sb.inodes)) + nrDirty + nrUnstable
	nrToWrite += nrToWrite / 2 // Bit more for luck
	// spin_lock(&inode_lock); sync_sb_inodes(sb, &wbc): the model's
	// WritebackInodes takes inode_lock itself
	mm.WritebackInodes(t, k, &mm.WritebackControl{SyncMode: mode, NrToWrite: nrToWrite})
}

// syncBlockdev2612 is sync_blockdev(bdev), fs/buffer.c, 2.6.12:
// filemap_fdatawrite then filemap_fdatawait of the block device's buffer
// cache.
func syncBlockdev2612(t *sim.Task, bdMapping *mm.AddressSpace) int {
	if bdMapping == nil {
		return 0
	}
	ret := mm.FilemapFdatawrite(t, bdMapping)
	err := mm.FilemapFdatawait(t, bdMapping)
	if ret == 0 {
		ret = err
	}
	return ret
}

// syncFilesystems2612 is sync_filesystems(wait), fs/super.c, 2.6.12:
// ->sync_fs(sb, wait) of every super block that has one (s_dirt is taken
// to be set), one sync at a time.
func syncFilesystems2612(t *sim.Task, v *VFS, wait int) {
	t.Enter("sync_filesystems")
	defer t.Leave()
	syncMutex(v).Lock(t)
	for _, sb := range v.Supers() {
		if op, ok := sb.Op.(SyncFsOp); ok {
			op.SyncFs(t, sb, wait)
		}
	}
	syncMutex(v).Unlock(t)
}

// syncMutex is sync_filesystems' static mutex.
func syncMutex(v *VFS) *sim.Mutex {
	if v.syncMutex == nil {
		v.syncMutex = &sim.Mutex{Name: "sync_filesystems mutex"}
	}
	return v.syncMutex
}
