//go:build wbsim_mutants

package run

// mutantCase is one mutant of the mutation study (docs/mutants.md): the id
// its hook (mutant.On(ID)) tests in model code, the kind of mistake, where
// it is, the upstream fix whose absence it imitates, and the check that
// should catch it if the built-ins do not.
type mutantCase struct {
	ID, Kind, File, Fix, Want string
}

// The kinds the study covers (issue 14).
const (
	kindOffByOne  = "off-by-one (loop end or EOF boundary)"
	kindRef       = "lost or extra reference"
	kindSkip      = "skipped page"
	kindLostError = "lost error"
	kindWait      = "missing wait"
	kindFlag      = "flag left set"
	kindIndex     = "wrong index, offset or length"
)

// Citations marked "read" were read through the search tool (lore
// linux-mm archives, stable changelogs); "from memory" ones were not
// found there and are given as remembered.
var mutantCases = []mutantCase{
	// mm/page-writeback.c: write_cache_pages (2.6.2x and 3.x loops).
	{"wcp-error-overwritten", kindLostError, "model/mm/writecache.go (write_cache_pages)",
		`00266770b8b3 "mm: write_cache_pages writepage error fix" (Nick Piggin, 2.6.29; linux-mm <20081009174822.406363946@suse.de>, read): after an error the loop went on and a later success overwrote ret`,
		"none: equivalent in the model. fault-getblock-flusher-3.x reaches it (kupdate's WB_SYNC_NONE sweep meets get_block's EIO on a latent-bad indirect block); the sweep then writes the rest of the pagevec, which background writeback may, and ret keeps the first error (the kernel bug overwrote it with a later success, which would still pass writepages-error: __block_write_full_page and __mpage_writepage have set AS_EIO, and fsync returns EIO). WB_SYNC_ALL sweeps with every fix on take wb-integrity-error's path, which never breaks"},
	{"wcp-integrity-nr-stop", kindSkip, "model/mm/writecache.go (write_cache_pages)",
		`05fe478dd04e "mm: write_cache_pages integrity fix" (2.6.29; named in btrfs effa24f689ce, read): WB_SYNC_ALL stopped at nr_to_write 0`,
		"none can today: every WB_SYNC_ALL caller of write_cache_pages in the modelled eras passes nr_to_write LONG_MAX (2.6.12's own loop has this bug, the wb-integrity seed); sync-complete would, given a bounded integrity caller"},
	{"wcp-cyclic-no-wrap", kindSkip, "model/mm/writecache.go (write_cache_pages)",
		`31a12666d8f0 "mm: write_cache_pages cyclic fix" (Nick Piggin, 2.6.29; linux-mm <20081009174822.192685322@suse.de>, read): a cyclic pass did not wrap to index 0`,
		"dirty-expire (pages below writeback_index wait past their expiry)"},
	{"wcp-skip-writeback", kindWait, "model/mm/writecache.go (write_cache_pages)",
		`the WB_SYNC_ALL wait on PG_writeback before rewriting a redirtied page, which "mm: write_cache_pages optimise page cleaning" (515f4a037fb9, 2.6.29; linux-mm <20081009174822.847294148@suse.de>, read) relies on`,
		"sync-complete"},
	// mm/filemap.c
	{"fdatawait-skip-last", kindOffByOne, "model/mm/writecache.go (wait_on_page_writeback_range)",
		`the inclusive "page->index > end" test of the range walks, as in "mm: write_cache_pages terminate quickly" (d5482cdf8a0a, 2.6.29; linux-mm <20081009174822.952978460@suse.de>, read); the last page of the range is not waited on`,
		"fsync-durable"},
	{"fdatawait-lost-eio", kindLostError, "model/mm/writecache.go (wait_on_page_writeback_range)",
		`AS_EIO not tested: the lost-report class that "fs: new infrastructure for writeback error handling and reporting" (Jeff Layton, v4.13; series read on linux-mm) closed`,
		"fsync-error"},
	{"fsync-sync-none", kindWait, "model/mm/writecache.go (filemap_write_and_wait_range)",
		`ee53a891f474 "mm: do_sync_mapping_range integrity fix" (Nick Piggin, 2.6.29; from memory): an integrity sync asked for WB_SYNC_NONE, skipping pages under writeback`,
		"sync-complete"},
	// mm/truncate.c
	{"truncate-keeps-dirty", kindFlag, "model/mm/truncate.go (truncate_complete_page)",
		`3e67c0987d75 "[PATCH] truncate: clear page dirtiness before running try_to_free_buffers()" (2.6.20, read) and a2b345642f53 "Fix dirty page accounting leak with ext3 data=journal" (2.6.25, read): PG_dirty and its accounting left on a truncated page`,
		"none: equivalent in the modelled eras, whose __remove_from_page_cache fixes up the dirty accounting of a dirty page (3a6927906f1b, 2.6.24, named in a linux-mm message read), and a freed page's PG_dirty is checked by nothing"},
	{"truncate-partial-stale", kindIndex, "model/mm/truncate.go (truncate_inode_pages_range)",
		`"ext4: fix fsx truncate failure" (Allison Henderson, 2011, read): the partial page zeroed only to the end of its block, later blocks stale and still mapped`,
		"read-correct with 1 KiB blocks"},
	{"truncate-no-wait-writeback", kindWait, "model/mm/truncate.go (truncate_inode_pages_range)",
		`the second pass's wait_on_page_writeback: block_invalidatepage must see no I/O under way (fs/buffer.c's comment; "fs: Don't invalidate page buffers in block_write_full_page()", 6dbf7bb55598, read)`,
		"page-state: a page must not leave the page cache while under writeback"},
	// fs/mpage.c
	{"mpage-hole-offset", kindIndex, "model/mpage/readpage.go (do_mpage_readpage)",
		`zero_user_segment(page, first_hole << blkbits, ...) (mpage-2.6.2x.c:251); the block-aligned-region-left-unzeroed class of "ext4: fix xfstests 75, 112, 127 punch hole failure" (read)`,
		"read-correct, once freshly allocated pages hold poison rather than zeros: the model's new pages are zeroed, so a missed zeroing shows nothing"},
	{"mpage-readpages-leak", kindRef, "model/mpage/readpage.go (mpage_readpages)",
		`the page_cache_release after add_to_page_cache_lru (mpage-2.6.2x.c:362); the leak class of "afs: Fix missing put_page()" (read)`,
		"page-ref"},
	{"mpage-endio-lost-error", kindLostError, "model/mpage/endio_2_6_2x.go, endio_3x.go (mpage_end_io[_write])",
		`SetPageError and AS_EIO on a failed write (mpage-2.6.2x.c:66-70, mpage-3.x.c likewise); "buffer: set errors in mapping at the time that the error occurs" (Jeff Layton, v4.13, read) did the same for buffers`,
		"fsync-error"},
	{"mpage-contig-ignored", kindIndex, "model/mpage/writepage.go (__mpage_writepage)",
		`the contiguity test on get_block's blocks (mpage-2.6.2x.c:497); "fs/mpage.c: fix mpage_writepage() for pages with buffers" (2017, read in a stable changelog) fixed the same function's block bookkeeping`,
		"read-correct with a fragmented 1 KiB layout"},
	{"mpage-confused-lost-error", kindLostError, "model/mpage/writepage.go (__mpage_writepage)",
		`mapping_set_error after the fallback ->writepage (mpage-2.6.2x.c:594; 2.6.12 sets AS_EIO itself); "buffer: use mapping_set_error instead of setting the flag" (Jeff Layton, v4.13, read)`,
		"none: equivalent in the model. The fault-getblock built-ins fail ->writepage there (nobh_writepage falls back to __block_write_full_page, whose get_block fails too), but the fallback has set AS_EIO already and the error is also returned, so fsync-error and writepages-error hold"},
	// fs/buffer.c
	{"buffer-endio-lost-error", kindLostError, "model/block/buffer.go (end_buffer_async_write)",
		`"buffer: set errors in mapping at the time that the error occurs" (Jeff Layton, v4.13; linux-mm <20170616193427.13955-5-jlayton@redhat.com>, read): the error stayed on the buffer`,
		"fsync-error"},
	{"fsync-buffers-no-wait", kindWait, "model/block/bufcache.go (fsync_buffers_list)",
		`wait_on_buffer for each metadata buffer written (fs/buffer.c 2.6.32); the missing-wait kind of d76ee18a8551 (read). (sync_dirty_buffer, the first choice, has no caller in the model.)`,
		"fs-consistent on the crash image (the fsync'd file's metadata); crash does not see it today"},
	{"bwfp-recover-lost-error", kindLostError, "model/block/bufio.go (__block_write_full_page)",
		`mapping_set_error on the get_block failure path; "mm: clear AS_EIO/AS_ENOSPC when writeback initiation fails" and "buffer: use mapping_set_error instead of setting the flag" (Jeff Layton, v4.13, read)`,
		"none: equivalent in the model. The fault-getblock built-ins fail get_block here at writeback, but each caller records the returned error too (__mpage_writepage's fallback, __writepage)"},
	{"bwfp-keeps-writeback", kindFlag, "model/block/bufio.go (__block_write_full_page)",
		`end_page_writeback when no buffer was submitted; the class of "ext4: don't leave PageWriteback set after memory failure" (Ted Ts'o, read)`,
		"page-state (writeback at rest) / progress"},
	{"bwfp-eof-off-by-one", kindOffByOne, "model/block/bufio.go (block_write_full_page_endio)",
		`"page->index >= end_index+1" from 81eb69062588 "fix ext3 BUG due to race with truncate" (2.5.62; named in 6dbf7bb55598, read); the i_size boundary of "fs: Fix page_mkwrite off-by-one errors" (Andreas Gruenbacher, read)`,
		"fsync-durable / read-correct"},
	// fs/buffer.c code in model/blockfs and model/vfs/ext2
	{"truncate-page-offset", kindIndex, "model/blockfs/truncate.go (block_truncate_page, nobh_truncate_page)",
		`zero_user(page, offset, length) from the truncation point, not the block's start; the wrong-range zeroing class of "ext4: fix fsx truncate failure" (read). (A length one short is an equivalent mutant here: truncate_pagecache zeroes the same bytes after it.)`,
		"read-correct"},
	{"fsync-skips-buffers", kindWait, "model/vfs/ext2/ext2.go (generic_file_fsync: sync_mapping_buffers)",
		`"fs: always sync metadata in __generic_file_fsync" and "fs: check for writeback errors after syncing out buffers in generic_file_fsync" (Jeff Layton, v4.13, read)`,
		"fs-consistent on the crash image (the indirect block fsync left unwritten); crash does not see it today"},
	{"mkwrite-no-wait", kindWait, "model/vfs/ext2/ext2.go (block_page_mkwrite)",
		`d76ee18a8551 "fs: block_page_mkwrite should wait for writeback to finish" (Darrick J. Wong, 3.0; linux-mm <20110527192341.32105.95751.stgit@elm3c44.beaverton.ibm.com>, read)`,
		"a stable-pages check (a page's data must not change while it is under write I/O); none today"},
	// mm/filemap.c and fs/sync.c in model/vfs
	{"read-eof-nr", kindOffByOne, "model/vfs/read.go (do_generic_file_read)",
		`a32ea1e1f925 "Fix read/truncate race" (Linus Torvalds, 2.6.24; from memory): nr computed as i_size & ~PAGE_CACHE_MASK`,
		"read-correct"},
	{"sync-no-wait", kindWait, "model/vfs/sync.go (sync_inodes_sb)",
		`wait_sb_inodes skipped; "vfs: Fix sys_sync() and fsync_super() reliability" (Jan Kara, 2.6.31; from memory)`,
		"a sync-durable clause: Linux's sync(2) waits, so data dirty when it began is durable when it returns (the oracle's BeginSync promises nothing); sync-complete does not see it, the pages are submitted"},
	// fs/afs/write.c
	{"afs-written-back-last", kindOffByOne, "model/afs/write.go (afs_pages_written_back)",
		`"afs: Fix afs_kill_pages()" (David Howells, v4.15, read in a stable changelog): the same "first < last" loop end`,
		"page-state / progress with a store of PAGEVEC_SIZE+1 pages"},
	{"afs-region-leak", kindRef, "model/afs/write.go (afs_writepages_region)",
		`"afs: Fix missing put_page()" (David Howells, v4.15, read)`,
		"page-ref"},
	{"afs-store-whole-last", kindIndex, "model/afs/write.go (afs_write_back_from_locked_page)",
		`"afs: Fix the maths in afs_fs_store_data()" (David Howells, v4.15, read): the store's length was wrong`,
		"rpc-shape (the StoreData length must equal the bytes of the request's range)"},
	{"afs-region-no-wait", kindWait, "model/afs/write.go (afs_writepages_region)",
		`the WB_SYNC_ALL wait_on_page_writeback (afs-write-2.6.3x.c:504); as 515f4a037fb9 (read) for write_cache_pages`,
		"none with every fix on: equivalent, since flush-conflict-wait-writeback (baseline) makes afs_write_begin wait for a store before it redirties the page; the one page dirty under writeback left, a secondary page in afs_redirty_pages' window, is out of a full-range sweep's reach (it sleeps first on the store's primary page, locked until the window closes). With that fix off, sync-complete catches it (TestMutantAfsRegionNoWaitSeedShape)"},
	{"afs-eio-lost", kindLostError, "model/afs/write.go (afs_write_back_from_locked_page)",
		`PG_error and AS_EIO on an I/O-error store (afs-write-2.6.3x.c:303, 414); the catalogued key-error-silent-loss, fixed by v4.15's afs_write_back_from_locked_page, is this loss for key errors`,
		"fsync-error"},
	{"afs-keeps-private", kindFlag, "model/afs/write.go (afs_pages_written_back)",
		`PG_private and page->private cleared when the record's usage is dropped (afs-write-2.6.3x.c:604); the stale-page->private bug of the catalogued flush-conflict-double-put`,
		"wb-record"},
}
