package mm

// Era is what one modelled kernel can do, where the modelled kernels
// differ. Model code asks the table (k.Era().TagToWrite), never the
// version, so that every difference between the eras is named, and cited,
// here and in docs/versions.md ("The era table"), which carries the same
// table (TestEraTableMatchesDocs). Each field says which kernel text the
// model follows on each side, with the function, file and version.
type Era struct {
	// WriteCachePages: the kernel has write_cache_pages, mm/page-writeback.c
	// (from 2.6.22), and generic_writepages walks it; 2.6.12's loop is
	// __mpage_writepages, fs/mpage.c (model/mpage), and its
	// generic_writepages is mpage_writepages(mapping, wbc, NULL).
	WriteCachePages bool
	// TagToWrite: write_cache_pages tags the range PAGECACHE_TAG_TOWRITE
	// first and walks that tag for an integrity sync, and
	// test_set_page_writeback clears TOWRITE (Jan Kara, f446daaea9d4,
	// 2.6.35; read in 3.2's mm/page-writeback.c). 2.6.2x runs 2.6.32's
	// loop, which walks PAGECACHE_TAG_DIRTY (unless the towrite-tagging
	// fix switch is on).
	TagToWrite bool
	// ClearReclaimOnDirty: set_page_dirty clears PG_reclaim and
	// clear_page_dirty_for_io no longer does (mm/page-writeback.c, from
	// 2.6.39; read in 3.1.10); 2.6.32's clear_page_dirty_for_io clears it.
	ClearReclaimOnDirty bool
	// FdatawaitEmptyRange: filemap_fdatawait_range, mm/filemap.c, returns
	// 0 at once when end_byte < start_byte (3.0, read); 2.6.32's converts
	// to page indexes first and so still waits on one page.
	FdatawaitEmptyRange bool
	// WbcForWritepages: do_writepages sets wbc->for_writepages around
	// ->writepages (mm/page-writeback.c, from 2.6.12: 2.6.23's text read;
	// gone by 2.6.32, whose text, read, no longer does). The model keeps
	// the flag for the whole 2.6.2x era, where nothing reads it.
	WbcForWritepages bool
	// FdatawriteWholeFile: __filemap_fdatawrite_range, mm/filemap.c,
	// 2.6.12, asks for nrpages*2 pages and passes the range in
	// wbc->start/end, 0,0 meaning the whole file; from 2.6.2x (2.6.32,
	// read) nr_to_write is LONG_MAX with range_start/range_end.
	FdatawriteWholeFile bool
	// WbcStartEnd: writeback_control, include/linux/writeback.h, carries
	// a range in start and end, 0 and 0 meaning the whole file, and a
	// WB_SYNC_NONE call over the whole file is a cyclic pass (2.6.12);
	// 2.6.32's and 3.2's have range_start, range_end and range_cyclic.
	WbcStartEnd bool
	// WriteAndWaitAfterError: filemap_write_and_wait, mm/filemap.c,
	// waits even after a write error other than -EIO (2.6.32, 3.0, read);
	// 2.6.12's waits only if the write returned 0.
	WriteAndWaitAfterError bool
	// InvalidateStopsAtEnd: invalidate_mapping_pages, mm/truncate.c, runs
	// 3.2's loop, which stops at end; 2.6.32's advances next before it
	// looks at the page and may drop the first page past end.
	InvalidateStopsAtEnd bool
	// TruncateLoops31: truncate_inode_pages_range, mm/truncate.c, runs
	// 3.1's two passes; 2.6.32's loops serve every era to 3.0.
	TruncateLoops31 bool
	// ReclaimWritesOnlyKswapd: shrink_page_list, mm/vmscan.c, 3.2: only
	// kswapd writes dirty file pages; direct reclaim wakes the flusher.
	// 2.6.32's direct reclaim calls pageout itself.
	ReclaimWritesOnlyKswapd bool
	// DirtyableMemoryPlusOne: get_dirty_limits, mm/page-writeback.c,
	// computes the ratios over determine_dirtyable_memory() + 1 (2.6.23
	// on); 2.6.12's (read in 2.6.11 and 2.6.14) over total_pages.
	DirtyableMemoryPlusOne bool
	// RatelimitCountsThisPage: balance_dirty_pages_ratelimited_nr,
	// mm/page-writeback.c, tests *p += nr; *p >= ratelimit (2.6.23 on);
	// 2.6.12's balance_dirty_pages_ratelimited tests the count before
	// this page (ratelimits++ >= ratelimit).
	RatelimitCountsThisPage bool
	// RequeueIO: writeback_single_inode, fs/fs-writeback.c, requeues an
	// inode under I_SYNC (requeue_io, s_more_io) and refiles it by 2.6.32's
	// or 3.x's rules; 2.6.12's __writeback_single_inode moves it to
	// s_dirty and __sync_single_inode refiles by 2.6.12's (read in 2.6.11
	// and 2.6.14).
	RequeueIO bool
	// WaitDataBeforeInode: writeback_single_inode, fs/fs-writeback.c,
	// waits on the data (filemap_fdatawait) before write_inode (3.0, 3.1,
	// read); 2.6.12 and 2.6.32 write the inode first and wait after.
	WaitDataBeforeInode bool
	// Refile3x: writeback_single_inode refiles the inode by 3.0/3.1's
	// rules (fs/fs-writeback.c, read); 2.6.32's otherwise.
	Refile3x bool
	// BlkEndRequest: a request completes through blk_end_request
	// (block/blk-core.c, from 2.6.25); 2.6.12 calls
	// end_that_request_first (drivers/block/ll_rw_blk.c).
	BlkEndRequest bool
	// EndIOBytesDone: bi_end_io is int (*)(bio, bytes_done, err) and may
	// be called per piece (fs/bio.c, 2.6.12, to 2.6.23); from 2.6.24 it
	// is void (*)(bio, err), called once.
	EndIOBytesDone bool
	// WriteFlush: an empty flush is a WRITE_FLUSH request (2.6.37 on,
	// include/linux/fs.h); before, a WRITE_BARRIER.
	WriteFlush bool
	// BioNrVecsMaxSegments: bio_get_nr_vecs, fs/bio.c, is 3.2's
	// min(max_segments, max_sectors/(PAGE_SIZE>>9)+1, BIO_MAX_PAGES);
	// 2.6.32's uses max_phys_segments and max_hw_segments.
	BioNrVecsMaxSegments bool
	// GetBlockMaps: ext2_get_block, fs/ext2/inode.c, maps as many blocks
	// as b_size asks for (2.6.32); 2.6.12's maps one block.
	GetBlockMaps bool
	// Ext4Names: the extent layout is named as ext4 (ext4dev from 2.6.19,
	// ext4 from 2.6.28); 2.6.12 has no ext4 and uses ext2's names.
	Ext4Names bool
	// IblockSectorT: block_truncate_page and friends, fs/buffer.c, shift
	// the page index in sector_t (2.6.32); 2.6.12's in unsigned long
	// (pgoff_t), which wraps on a 32-bit kernel.
	IblockSectorT bool
	// NewTruncateSequence: ext2 has no ->truncate; ext2_setattr calls
	// ext2_setsize, a failed write_begin calls ext2_write_failed, and
	// notify_change falls back to simple_setattr (fs/attr.c)
	// (fs/ext2/inode.c, "ext2: convert to new truncate sequence", 2.6.36;
	// read in 3.2). 2.6.12 and 2.6.32 use inode_setattr, vmtruncate and
	// ext2_truncate.
	NewTruncateSequence bool
	// Ext2MaxSizeComputed: ext2_max_size, fs/ext2/super.c, computes the
	// i_blocks cap from the block size and clamps to MAX_LFS_FILESIZE
	// (2.6.32, 3.2); 2.6.12 caps at the constant 0x1ff7fffd000.
	Ext2MaxSizeComputed bool
	// ReleaseTruncateMutex: ext2_release_file, fs/ext2/file.c, discards
	// the reservation under truncate_mutex (2.6.32, 3.2); 2.6.12 calls
	// ext2_discard_prealloc.
	ReleaseTruncateMutex bool
	// PageMkwrite: ext2's mmap installs block_page_mkwrite (2.6.2x, 3.x);
	// 2.6.12 has no ->page_mkwrite.
	PageMkwrite bool
	// MkwriteWaitsWriteback: block_page_mkwrite, fs/buffer.c, 3.2, sets
	// the page dirty and waits on its writeback (stable pages, d76ee18a8551
	// "fs: block_page_mkwrite should wait for writeback to finish");
	// 2.6.32's does neither.
	MkwriteWaitsWriteback bool
	// PrepareWrite: address-space operations have ->prepare_write and
	// ->commit_write (2.6.12); write_begin/write_end from 2.6.24.
	PrepareWrite bool
	// DunderDentryOpen: open goes through __dentry_open, fs/open.c (split
	// out in 2.6.14); 2.6.12's dentry_open does the work itself.
	DunderDentryOpen bool
	// DoGenericFileRead: the buffered read loop is 2.6.32's
	// do_generic_file_read, mm/filemap.c; 2.6.12's is
	// do_generic_mapping_read.
	DoGenericFileRead bool
	// DoLinearFault: a fault on a file page with no pte goes through
	// do_linear_fault and __do_fault, mm/memory.c (2.6.32); 2.6.12's
	// do_no_page.
	DoLinearFault bool
	// DirtyAtFault: a shared writable file page is dirtied at fault time
	// and page_mkclean cleans its pte when writeback starts (mm/memory.c,
	// "mm: tracking shared dirty pages", 2.6.19); 2.6.12's unmap_region
	// moves a dirty pte's bit to the page (zap_pte_range).
	DirtyAtFault bool
	// MsyncFsyncs: msync(MS_SYNC), mm/msync.c, calls vfs_fsync on the
	// file (2.6.32, 3.2); 2.6.12's msync_interval runs filemap_sync
	// and, for MS_SYNC, filemap_fdatawrite, ->fsync and filemap_fdatawait,
	// none under i_sem.
	MsyncFsyncs bool
	// TruncateAttrFile: do_truncate(dentry, length, time_attrs, filp),
	// fs/open.c, passes the caller's time attributes and the file
	// (2.6.32); 2.6.12's do_truncate(dentry, length) passes
	// ATTR_SIZE|ATTR_CTIME and no file.
	TruncateAttrFile bool
	// VfsFsync: fsync(2) goes through vfs_fsync, fs/sync.c (2.6.32, 3.2);
	// 2.6.12's sys_fsync, fs/buffer.c, does the work itself
	// (filemap_fdatawrite, ->fsync under i_sem, filemap_fdatawait).
	VfsFsync bool
	// FsyncRange: ->fsync(file, start, end, datasync) writes and waits on
	// the range itself and vfs_fsync_range only calls it (fs/sync.c, 3.1
	// on; read in 3.2); 2.6.31 to 3.0's (2.6.32 and 2.6.35 read) write
	// and wait on the range, then call ->fsync under i_mutex.
	FsyncRange bool
	// SyncWakesFlusher: sync(2), fs/sync.c, wakes the flusher threads and
	// runs sync_filesystems(0) then (1) (2.6.32, 3.2); 2.6.12's sys_sync
	// is do_sync(1).
	SyncWakesFlusher bool
}

// EraRow is one row of the era table: a modelled kernel and what it can do.
type EraRow struct {
	Version Version
	Era     Era
}

// Eras is the era table, one row per modelled kernel, in the order of
// docs/versions.md's columns.
var Eras = []EraRow{
	{V2_6_12, Era{
		FdatawriteWholeFile: true,
		WbcForWritepages:    true,
		EndIOBytesDone:      true,
		PrepareWrite:        true,
		WbcStartEnd:         true,
	}},
	{V2_6_2x, Era{
		WriteCachePages:         true,
		WbcForWritepages:        true,
		WriteAndWaitAfterError:  true,
		DirtyableMemoryPlusOne:  true,
		RatelimitCountsThisPage: true,
		RequeueIO:               true,
		BlkEndRequest:           true,
		GetBlockMaps:            true,
		Ext4Names:               true,
		IblockSectorT:           true,
		Ext2MaxSizeComputed:     true,
		ReleaseTruncateMutex:    true,
		PageMkwrite:             true,
		DunderDentryOpen:        true,
		DoGenericFileRead:       true,
		DoLinearFault:           true,
		DirtyAtFault:            true,
		MsyncFsyncs:             true,
		TruncateAttrFile:        true,
		VfsFsync:                true,
		SyncWakesFlusher:        true,
	}},
	{V3x, Era{
		WriteCachePages:         true,
		TagToWrite:              true,
		ClearReclaimOnDirty:     true,
		FdatawaitEmptyRange:     true,
		WriteAndWaitAfterError:  true,
		InvalidateStopsAtEnd:    true,
		TruncateLoops31:         true,
		ReclaimWritesOnlyKswapd: true,
		DirtyableMemoryPlusOne:  true,
		RatelimitCountsThisPage: true,
		RequeueIO:               true,
		WaitDataBeforeInode:     true,
		Refile3x:                true,
		BlkEndRequest:           true,
		WriteFlush:              true,
		BioNrVecsMaxSegments:    true,
		GetBlockMaps:            true,
		Ext4Names:               true,
		IblockSectorT:           true,
		NewTruncateSequence:     true,
		Ext2MaxSizeComputed:     true,
		ReleaseTruncateMutex:    true,
		PageMkwrite:             true,
		MkwriteWaitsWriteback:   true,
		DunderDentryOpen:        true,
		DoGenericFileRead:       true,
		DoLinearFault:           true,
		DirtyAtFault:            true,
		MsyncFsyncs:             true,
		TruncateAttrFile:        true,
		VfsFsync:                true,
		SyncWakesFlusher:        true,
		FsyncRange:              true,
	}},
	// afs-2.6.3x is Linux 2.6.35's page cache (towrite tagging) with the
	// 3.x mm texts the model shares with it; its block-layer and ext2
	// rows (no block file system under AFS) follow 2.6.2x.
	{VAFS, Era{
		WriteCachePages:         true,
		TagToWrite:              true,
		ClearReclaimOnDirty:     true,
		FdatawaitEmptyRange:     true,
		WriteAndWaitAfterError:  true,
		InvalidateStopsAtEnd:    true,
		DirtyableMemoryPlusOne:  true,
		RatelimitCountsThisPage: true,
		RequeueIO:               true,
		WaitDataBeforeInode:     true,
		BlkEndRequest:           true,
		GetBlockMaps:            true,
		Ext4Names:               true,
		IblockSectorT:           true,
		Ext2MaxSizeComputed:     true,
		ReleaseTruncateMutex:    true,
		PageMkwrite:             true,
		DunderDentryOpen:        true,
		DoGenericFileRead:       true,
		DoLinearFault:           true,
		DirtyAtFault:            true,
		MsyncFsyncs:             true,
		TruncateAttrFile:        true,
		VfsFsync:                true,
		SyncWakesFlusher:        true,
	}},
}

// Era is the era table's row for the kernel's version; an unknown version
// is a model bug. It runs on hot paths (every page's set_page_dirty and
// test_set_page_writeback), so it indexes the table rather than copying
// each row it passes.
func (k *Kernel) Era() Era {
	for i := range Eras {
		if Eras[i].Version == k.Version {
			return Eras[i].Era
		}
	}
	panic("mm: no era table row for kernel version " + string(k.Version))
}
