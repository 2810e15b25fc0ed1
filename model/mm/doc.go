// Package mm models the Linux memory-management code that writeback runs
// on: struct page and its flags, the page cache (address_space and its
// tagged page tree), pagevecs, writeback_control and write_cache_pages,
// filemap_fdatawrite/fdatawait, truncation, the flusher, reclaim and dirty
// throttling.
//
// Every function is the kernel function of the same name in Go style
// (end_page_writeback is EndPageWriteback), takes the running task first
// (the kernel's current), keeps the kernel's control flow, and cites the
// kernel file and version it was translated from. Every page-flag
// operation is a scheduling point, so exploration can interleave tasks
// between any two of them.
//
// Eras: the model serves four kernels (Kernel.Version). Where model code
// differs between them (write_cache_pages above all) it asks the era table
// (era.go, k.Era()) for a named capability, never the version; the table
// cites where the kernels differ, and each era's function names its
// version.
//
// # Where things are
//
//   - era.go: the era table (Era, Eras), what each modelled kernel can do
//     where they differ; docs/versions.md carries the same table.
//   - kernel.go: Kernel (globals: VM counters, inode_lock, the dirty-inode
//     list, memory limit and LRU, writeback sysctls, hooks into the buffer
//     layer and 2.6.12's mpage_writepages).
//   - page.go: Page, PG_* bits, flag tests and operations, get_page /
//     put_page, lock_page / unlock_page, page allocation.
//   - radix.go: the page tree (lib/radix-tree.c) with per-node tag bitmaps.
//   - mapping.go: AddressSpace, Inode, the a_ops interfaces, AS_EIO/ENOSPC.
//   - filemap.go: add_to_page_cache, remove_from_page_cache, the lookups.
//   - pagevec.go: struct pagevec and its helpers.
//   - writeback.go: writeback_control, backing_dev_info, set/end page
//     writeback, the set_page_dirty family, clear_page_dirty_for_io,
//     __mark_inode_dirty.
//   - writecache.go: write_cache_pages (2.6.2x and 3.x), generic_writepages,
//     do_writepages, filemap_fdatawrite*, wait_on_page_writeback_range,
//     filemap_fdatawait*, filemap_write_and_wait*.
//   - truncate.go: truncate_inode_pages(_range), invalidate_mapping_pages,
//     try_to_release_page, remove_mapping, vmtruncate, truncate_setsize.
//   - vmscan.go: the LRU and direct reclaim (shrink_page_list, pageout),
//     and Kernel.CheckQuiescent, an end-of-run reference/state check.
//   - background.go: kupdate, background writeout, writeback_inodes,
//     writeback_single_inode, balance_dirty_pages.
//   - data.go: zero_user_segment and page-content copies.
//
// # Invariants raised here
//
// page-state: what the kernel BUG()s on (end_page_writeback of a page not
// under writeback, unlock_page of an unlocked page, clear_page_dirty_for_io
// or remove_from_page_cache without the page lock) fails with kind bug and
// invariant page-state; set_page_writeback on an unlocked page and a page
// leaving the page cache under writeback (__remove_from_page_cache with
// PG_writeback set) are model checks (kind invariant). page-ref: any operation on a freed page, a count
// below zero, and "Bad page state" (a page freed while still in the page
// cache, locked, under writeback or with private data).
//
// # Simplifications (each is also said where it applies)
//
// Lookups take tree_lock instead of RCU; tree_lock is a spinlock in every
// era. One zone, one CPU's counters, one LRU list without aging beyond
// PG_referenced, no swap, no mmap (page_mkclean finds nothing), no
// kswapd (3.x direct reclaim leaves dirty file pages to the flusher, as
// 3.2 does). One dirty-inode list for the whole kernel; the flusher is a
// kupdate daemon plus a pdflush-style daemon per background request, with
// the global dirty limits of 2.6.22. congestion_wait is a fixed sleep.
package mm
