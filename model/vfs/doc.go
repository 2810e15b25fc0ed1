// Package vfs models the Linux VFS entry points that sit above the page
// cache: open files, the buffered write and read paths, page faults on
// shared file mappings, fsync, sync, truncate, drop_caches and close. A
// file system plugs in the kernel's way, with operation tables: a
// SuperBlock (super_operations), Inodes (inode_operations and the
// file_operations they give their files), Files, and VMAreas
// (vm_operations_struct). model/vfs/ext2 wires blockfs in as ext2;
// model/afs wires itself in as AFS.
//
// Every function is the kernel function of the same name in Go style
// (generic_perform_write is GenericPerformWrite), takes the running task
// first, keeps the kernel's control flow, and names the kernel file and
// version it was translated from.
//
// # Eras
//
// The kernel's era table row (mm.Kernel.Era, model/mm/era.go) selects
// the era's code:
//
//   - 2.6.12: generic_file_buffered_write with ->prepare_write and
//     ->commit_write; do_generic_mapping_read with page_cache_readahead;
//     filemap_nopage and do_no_page (no ->page_mkwrite, no dirty-page
//     tracking at fault time); sys_fsync does filemap_fdatawrite, ->fsync
//     under i_sem, then filemap_fdatawait; msync_interval does the same
//     three without i_sem; do_sync's sync_inodes and sync_filesystems;
//     do_truncate without a struct file.
//   - 2.6.2x (read as Linux 2.6.32) and afs-2.6.3x (2.6.35, identical in
//     what is modelled): generic_perform_write with ->write_begin and
//     ->write_end; do_generic_file_read with page_cache_sync_readahead;
//     filemap_fault and __do_fault with ->page_mkwrite and set_page_dirty;
//     vfs_fsync_range does filemap_write_and_wait_range before ->fsync
//     (2.6.31 to 3.0); sys_sync is sync_filesystems(0) then (1).
//   - 3.x (read as Linux 3.2): as 2.6.32, except that vfs_fsync_range
//     only calls ->fsync(file, start, end, datasync), which writes and
//     waits itself (3.1's "push i_mutex and filemap_write_and_wait down
//     into ->fsync() handlers"), and truncation has no vmtruncate:
//     notify_change without ->setattr is simple_setattr.
//
// # Per-file error state
//
// The modelled eras have no per-file-description writeback error state:
// an asynchronous writeback error is the mapping's AS_EIO or AS_ENOSPC
// bit, reported to (and cleared by) whoever waits first (see
// mm.WaitOnPageWritebackRange). File carries none. The errseq_t contract
// of 4.13 and later is a checker-level notion (check.Errseq).
//
// # Simplifications
//
//   - No real user memory: data to write is symbolic content from the
//     caller, and copies never fault, so the write path's short-copy retry
//     ("goto again") is kept but never taken.
//   - Readahead is a fixed window: page_cache_sync_readahead (and 2.6.12's
//     page_cache_readahead) read FileRaState.RaPages pages from the index
//     asked for, clipped at end of file, through __do_page_cache_readahead
//     and read_pages (->readpages, or ->readpage page by page); there is no
//     ondemand window sizing and no asynchronous readahead (PG_readahead).
//   - No page tables: an "mmap write at offset" is a write fault per page
//     (the era's fault handler, ->page_mkwrite where the era has it, and
//     set_page_dirty), then the store into the page. In 2.6.2x and 3.x the
//     store is made while __do_fault still holds the page lock, right after
//     set_page_dirty: with no ptes, page_mkclean cannot write-protect the
//     mapping, so a store made after the unlock could land in a page that
//     writeback has already cleaned, a loss the kernel prevents by
//     re-faulting. In 2.6.12 the store is made without the lock and the
//     page is dirtied when the mapping goes away (zap_pte_range's
//     set_page_dirty of the dirty pte). Private (copy-on-write) mappings
//     are not modelled.
//   - file_update_time, file_remove_suid, RLIMIT_FSIZE, mandatory locks,
//     i_alloc_sem, freezing, O_SYNC, O_DIRECT and O_APPEND's atime side are
//     not modelled; files are opened O_LARGEFILE unless the caller says
//     otherwise.
//   - sync: the writeback the kernel hands to the flusher threads
//     (bdi_start_writeback, bdi_sync_writeback) runs in the syncing task;
//     the model has one dirty-inode list for all super blocks, so the
//     first super block's sync_inodes_sb writes every dirty inode.
//   - drop_caches exists from 2.6.16; the model gives 2.6.12 the 2.6.32
//     drop_pagecache_sb.
//   - SuperBlock.Barrier is a model hook, not kernel code: file systems
//     mounted with barriers flush the device's volatile cache at the end of
//     fsync (the model does it after the era's whole fsync sequence) and in
//     ->sync_fs.
package vfs
