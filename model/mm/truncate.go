package mm

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// Truncation and invalidation: mm/truncate.c, Linux 2.6.32
// (Edgar86/boston-2.6.32.x fc2d0360, read via the search tool; its
// cleancache calls are a vendor addition and not modelled), used for all
// eras but invalidate_mapping_pages in 3.x (see there). truncate_inode_page
// unmaps a mapped page first; the model has no page tables, so it is
// truncate_complete_page. Linux 3.0's truncate_inode_pages_range has the
// 2.6.32 loops (CyanogenMod/android_kernel_samsung_smdk4412 c6da2cfe,
// mm/truncate.c, read via the search tool); 3.1 rewrote them ("mm:
// consistent truncate and invalidate loops" and the pincer fix of Hugh
// Dickins, 2011), and the 3.x era runs that text (truncateUnlockedPages31 and
// truncateAllPages31, read in a 3.3-3.10 copy found with find_string, its repository not
// named, and in the linux-mm posting of the pincer fix).
// 2.6.12's truncate_complete_page
// differs in cosmetics: it clears the dirty bit with clear_page_dirty,
// which also drops the DIRTY tag, and ClearPageUptodate; the page leaves
// the tree right after either way.

// DoInvalidatepage is do_invalidatepage(page, offset): the mapping's
// ->invalidatepage, or block_invalidatepage when it has none.
func DoInvalidatepage(t *sim.Task, p *Page, offset uint) {
	if op, ok := p.Mapping.AOps.(InvalidatePageOp); ok {
		op.InvalidatePage(t, p, offset)
		return
	}
	if f := p.k.BlockInvalidatepage; f != nil {
		f(t, p, offset)
	}
}

// TruncatePartialPage is truncate_partial_page(page, partial): zero the
// tail of the page that straddles the new EOF and let the file system
// drop the buffers beyond it.
func TruncatePartialPage(t *sim.Task, p *Page, partial uint) {
	ZeroUserSegment(t, p, partial, PageCacheSize)
	if PagePrivate(p) {
		DoInvalidatepage(t, p, partial)
	}
}

// truncateCompletePage is truncate_complete_page(mapping, page): with the
// page locked, drop its private data, cancel its dirty state, take it out
// of the page cache and drop the cache's reference. -EIO if the page was
// already truncated by someone else.
func truncateCompletePage(t *sim.Task, mapping *AddressSpace, p *Page) int {
	if p.Mapping != mapping {
		return errno.EIO.Neg()
	}
	if PagePrivate(p) {
		DoInvalidatepage(t, p, 0)
	}
	// mutant: PG_dirty kept (3e67c0987d75 "truncate: clear page dirtiness before running try_to_free_buffers()")
	if !mutant.On("truncate-keeps-dirty") {
		CancelDirtyPage(t, p, PageCacheSize)
	}
	RemoveFromPageCache(t, p)
	ClearPageMappedToDisk(t, p)
	PageCacheRelease(t, p) // pagecache ref
	return 0
}

// TruncateInodePagesRange is truncate_inode_pages_range(mapping, lstart,
// lend), Linux 2.6.32: remove every page wholly inside [lstart, lend] and
// zero the partial page at lstart. Pass one skips pages it cannot lock
// at once or that are under writeback; pass two locks each remaining page
// and waits for its writeback before removing it, looping until the range
// is empty. lend must end a page (lend & (PAGE_SIZE-1) == PAGE_SIZE-1), or
// be -1 for "to the end". The eras differ only in the two passes' loops:
// 2.6.32's (every era to 3.0), and 3.1's for the 3.x era.
func TruncateInodePagesRange(t *sim.Task, mapping *AddressSpace, lstart, lend int64) {
	t.Enter("truncate_inode_pages_range")
	defer t.Leave()
	k := mapping.Host.Kernel
	start := k.ULong(uint64((lstart + PageCacheSize - 1) >> PageCacheShift))
	partial := uint(lstart & (PageCacheSize - 1))

	if mapping.NrPages == 0 {
		return
	}
	if lend&(PageCacheSize-1) != PageCacheSize-1 {
		t.BUG(mapping.Obj(), "truncate_inode_pages_range: lend not at a page end")
	}
	end := k.ULong(uint64(lend >> PageCacheShift))

	if k.Era().TruncateLoops31 {
		truncateUnlockedPages31(t, mapping, start, end)
	} else {
		truncateUnlockedPages2632(t, mapping, start, end)
	}

	if partial != 0 {
		page := FindLockPage(t, mapping, start-1)
		if page != nil {
			WaitOnPageWriteback(t, page)
			if mutant.On("truncate-partial-stale") {
				// mutant: zero only to the end of partial's block, later blocks stale
				// and still mapped ("ext4: fix fsx truncate failure")
				bs := uint(1) << mapping.Host.Blkbits
				ZeroUserSegment(t, page, partial, (partial+bs-1)&^(bs-1))
			} else {
				TruncatePartialPage(t, page, partial)
			}
			UnlockPage(t, page)
			PageCacheRelease(t, page)
		}
	}

	if k.Era().TruncateLoops31 {
		truncateAllPages31(t, mapping, start, end)
	} else {
		truncateAllPages2632(t, mapping, start, end)
	}
}

// truncateUnlockedPages2632 is truncate_inode_pages_range's first pass,
// Linux 2.6.32 (and 3.0): remove the pages of [start, end] it can lock at
// once and that are not under writeback, walking "next".
func truncateUnlockedPages2632(t *sim.Task, mapping *AddressSpace, start, end uint64) {
	var pvec Pagevec
	PagevecInit(&pvec, false)
	next := start
	for next <= end && PagevecLookup(t, &pvec, mapping, next, PAGEVEC_SIZE) != 0 {
		for i := 0; i < PagevecCount(&pvec); i++ {
			page := pvec.Pages[i]
			pageIndex := page.Index
			if pageIndex > end {
				next = pageIndex
				break
			}
			if pageIndex > next {
				next = pageIndex
			}
			next++
			if !TrylockPage(t, page) {
				continue
			}
			if PageWriteback(page) {
				UnlockPage(t, page)
				continue
			}
			truncateCompletePage(t, mapping, page)
			UnlockPage(t, page)
		}
		PagevecRelease(t, &pvec)
		t.CondResched()
	}
}

// truncateAllPages2632 is truncate_inode_pages_range's second pass,
// Linux 2.6.32 (and 3.0): lock every page left in [start, end], wait for
// its writeback and remove it, starting over from start until a lookup
// from start finds nothing in the range.
func truncateAllPages2632(t *sim.Task, mapping *AddressSpace, start, end uint64) {
	var pvec Pagevec
	PagevecInit(&pvec, false)
	next := start
	for {
		t.CondResched()
		if PagevecLookup(t, &pvec, mapping, next, PAGEVEC_SIZE) == 0 {
			if next == start {
				break
			}
			next = start
			continue
		}
		if pvec.Pages[0].Index > end {
			PagevecRelease(t, &pvec)
			break
		}
		for i := 0; i < PagevecCount(&pvec); i++ {
			page := pvec.Pages[i]
			if page.Index > end {
				break
			}
			LockPage(t, page)
			// mutant: truncates a page under I/O (6dbf7bb55598: no I/O may be under way)
			if !mutant.On("truncate-no-wait-writeback") {
				WaitOnPageWriteback(t, page)
			}
			truncateCompletePage(t, mapping, page)
			if page.Index > next {
				next = page.Index
			}
			next++
			UnlockPage(t, page)
		}
		PagevecRelease(t, &pvec)
	}
}

// truncateUnlockedPages31 is truncate_inode_pages_range's first pass,
// mm/truncate.c, Linux 3.1 to 3.10 (see the file comment; cleancache calls
// not modelled): the loop walks "index", set from each page's index, and
// asks pagevec_lookup for no more pages than remain up to end. The break
// when index wraps to 0 is the model's (a page at the last index with end
// -1).
func truncateUnlockedPages31(t *sim.Task, mapping *AddressSpace, start, end uint64) {
	k := mapping.Host.Kernel
	var pvec Pagevec
	PagevecInit(&pvec, false)
	index := start
	for index <= end && PagevecLookup(t, &pvec, mapping, index, int(min(end-index, PAGEVEC_SIZE-1)+1)) != 0 {
		for i := 0; i < PagevecCount(&pvec); i++ {
			page := pvec.Pages[i]
			// We rely upon deletion not changing page->index
			index = page.Index
			if index > end {
				break
			}
			if !TrylockPage(t, page) {
				continue
			}
			if PageWriteback(page) {
				UnlockPage(t, page)
				continue
			}
			truncateCompletePage(t, mapping, page)
			UnlockPage(t, page)
		}
		PagevecRelease(t, &pvec)
		t.CondResched()
		index = k.ULong(index + 1)
		if index == 0 {
			break // wrapped
		}
	}
}

// truncateAllPages31 is truncate_inode_pages_range's second pass, Linux
// 3.1 to 3.10, with Hugh Dickins' pincer fix: it stops on a page beyond
// end only when it looked from start, so pages that appear behind it are
// still removed.
func truncateAllPages31(t *sim.Task, mapping *AddressSpace, start, end uint64) {
	k := mapping.Host.Kernel
	var pvec Pagevec
	PagevecInit(&pvec, false)
	index := start
	for {
		t.CondResched()
		if PagevecLookup(t, &pvec, mapping, index, int(min(end-index, PAGEVEC_SIZE-1)+1)) == 0 {
			if index == start {
				break
			}
			index = start
			continue
		}
		if index == start && pvec.Pages[0].Index > end {
			PagevecRelease(t, &pvec)
			break
		}
		for i := 0; i < PagevecCount(&pvec); i++ {
			page := pvec.Pages[i]
			// We rely upon deletion not changing page->index
			index = page.Index
			if index > end {
				break
			}
			LockPage(t, page)
			// mutant: truncates a page under I/O (6dbf7bb55598: no I/O may be under way)
			if !mutant.On("truncate-no-wait-writeback") {
				WaitOnPageWriteback(t, page)
			}
			truncateCompletePage(t, mapping, page)
			UnlockPage(t, page)
		}
		PagevecRelease(t, &pvec)
		index = k.ULong(index + 1)
	}
}

// TruncateInodePages is truncate_inode_pages(mapping, lstart): truncate
// from lstart to the end of the file.
func TruncateInodePages(t *sim.Task, mapping *AddressSpace, lstart int64) {
	TruncateInodePagesRange(t, mapping, lstart, -1)
}

// InvalidateInodePage is invalidate_inode_page(page), Linux 2.6.32: drop
// a clean, unmapped, locked page from the cache if nobody else uses it.
// Returns 1 if it was dropped.
func InvalidateInodePage(t *sim.Task, p *Page) int {
	mapping := p.Mapping
	if mapping == nil {
		return 0
	}
	if PageDirty(p) || PageWriteback(p) {
		return 0
	}
	return invalidateCompletePage(t, mapping, p)
}

// invalidateCompletePage is invalidate_complete_page(mapping, page).
func invalidateCompletePage(t *sim.Task, mapping *AddressSpace, p *Page) int {
	if p.Mapping != mapping {
		return 0
	}
	if PagePrivate(p) && TryToReleasePage(t, p, 0) == 0 {
		return 0
	}
	return RemoveMapping(t, mapping, p)
}

// InvalidateMappingPages is invalidate_mapping_pages(mapping, start, end):
// drop the clean, unlocked, unused pages in [start, end]; dirty, locked,
// under-writeback and busy pages stay. Returns how many were dropped.
// The 2.6.2x era runs Linux 2.6.32's loop, which advances "next" before it
// looks at the page and so, bugs included, may drop the first page past
// end; the 3.x era runs Linux 3.2's, which stops at end.
func InvalidateMappingPages(t *sim.Task, mapping *AddressSpace, start, end uint64) uint64 {
	t.Enter("invalidate_mapping_pages")
	defer t.Leave()
	if mapping.Host.Kernel.Era().InvalidateStopsAtEnd {
		return invalidateMappingPages3x(t, mapping, start, end)
	}
	var pvec Pagevec
	next := start
	var ret uint64
	PagevecInit(&pvec, false)
	for next <= end && PagevecLookup(t, &pvec, mapping, next, PAGEVEC_SIZE) != 0 {
		for i := 0; i < PagevecCount(&pvec); i++ {
			page := pvec.Pages[i]
			lockFailed := !TrylockPage(t, page)
			// We rely upon nobody altering the ->index of this
			// (pinned-by-us) page.
			index := page.Index
			if index > next {
				next = index
			}
			next++
			if lockFailed {
				continue
			}
			ret += uint64(InvalidateInodePage(t, page))
			UnlockPage(t, page)
			if next > end {
				break
			}
		}
		PagevecRelease(t, &pvec)
		t.CondResched()
	}
	return ret
}

// invalidateMappingPages3x is invalidate_mapping_pages, mm/truncate.c,
// Linux 3.1 to 3.13 (read in a copy found with find_string, its
// repository not named: the same loop; deactivate_page of a busy page is
// a no-op in the model's single LRU). Linux 3.0 (smdk4412, read) still
// has the 2.6.32 loop, with deactivate_page. The break when
// index wraps to 0 is the model's: 3.2 would start over at 0 when a page
// sits at the last index and end is -1.
func invalidateMappingPages3x(t *sim.Task, mapping *AddressSpace, start, end uint64) uint64 {
	var pvec Pagevec
	index := start
	var count uint64
	PagevecInit(&pvec, false)
	for index <= end && PagevecLookup(t, &pvec, mapping, index, int(min(end-index, PAGEVEC_SIZE-1)+1)) != 0 {
		for i := 0; i < PagevecCount(&pvec); i++ {
			page := pvec.Pages[i]
			// We rely upon deletion not changing page->index
			index = page.Index
			if index > end {
				break
			}
			if !TrylockPage(t, page) {
				continue
			}
			ret := InvalidateInodePage(t, page)
			UnlockPage(t, page)
			count += uint64(ret)
		}
		PagevecRelease(t, &pvec)
		t.CondResched()
		index++
		if index == 0 {
			break // wrapped
		}
	}
	return count
}

// TryToReleasePage is try_to_release_page(page, gfp), mm/filemap.c, Linux
// 2.6.32: ask the file system to drop the page's private data (the
// mapping's ->releasepage, or try_to_free_buffers); never for a page under
// writeback. Returns nonzero if released.
func TryToReleasePage(t *sim.Task, p *Page, gfp int) int {
	mapping := p.Mapping
	if !PageLocked(p) {
		pageStateBUG(t, p, "try_to_release_page of unlocked page", "try_to_release_page needs the page lock.")
	}
	if PageWriteback(p) {
		return 0
	}
	if mapping != nil {
		if op, ok := mapping.AOps.(ReleasePageOp); ok {
			return op.ReleasePage(t, p, gfp)
		}
	}
	if f := p.k.TryToFreeBuffers; f != nil {
		return f(t, p)
	}
	return 0
}

// removeMappingInner is __remove_mapping(mapping, page), mm/vmscan.c,
// Linux 2.6.32: under tree_lock, freeze the count at exactly 2 (the page
// cache's reference and the caller's; anyone else holding one makes the
// page busy) and, unless it was redirtied, take it out of the cache. On
// success the count is left frozen at 0 for the caller to unfreeze.
func removeMappingInner(t *sim.Task, mapping *AddressSpace, p *Page) bool {
	if !PageLocked(p) {
		t.BUG(p.Obj(), "__remove_mapping: page not locked")
	}
	if mapping != p.Mapping {
		t.BUG(p.Obj(), "__remove_mapping: mapping != page_mapping(page)")
	}
	mapping.TreeLock.Lock(t)
	if p.count != 2 { // page_freeze_refs(page, 2)
		mapping.TreeLock.Unlock(t)
		return false
	}
	p.count = 0
	if PageDirty(p) {
		p.count = 2 // page_unfreeze_refs(page, 2)
		mapping.TreeLock.Unlock(t)
		return false
	}
	RemoveFromPageCacheLocked(t, p)
	mapping.TreeLock.Unlock(t)
	return true
}

// RemoveMapping is remove_mapping(mapping, page): __remove_mapping, then
// unfreeze the count at 1, which drops the page cache's reference and
// leaves the caller's. Returns 1 if the page was removed.
func RemoveMapping(t *sim.Task, mapping *AddressSpace, p *Page) int {
	if removeMappingInner(t, mapping, p) {
		p.count = 1 // page_unfreeze_refs(page, 1)
		return 1
	}
	return 0
}

// VMTruncate is vmtruncate(inode, offset), mm/memory.c, Linux 2.6.32, for
// the 2.6.x eras: set i_size; when shrinking, drop the page cache beyond
// it (no mmap, so no unmap_mapping_range); then the file system's
// ->truncate (Inode.IOpTruncate) frees the blocks. Expanding checks no
// rlimit (there is none in the model).
func VMTruncate(t *sim.Task, ino *Inode, offset int64) int {
	t.Enter("vmtruncate")
	defer t.Leave()
	if ISizeRead(ino) < offset {
		ISizeWrite(t, ino, offset)
	} else {
		ISizeWrite(t, ino, offset)
		TruncateInodePages(t, ino.Mapping, offset)
	}
	if ino.IOpTruncate != nil {
		ino.IOpTruncate(t, ino)
	}
	return 0
}

// TruncateSetsize is truncate_setsize(inode, newsize), mm/truncate.c,
// Linux 2.6.35+ (the 3.x era): i_size_write then truncate_pagecache.
func TruncateSetsize(t *sim.Task, ino *Inode, newsize int64) {
	ISizeWrite(t, ino, newsize)
	TruncatePagecache(t, ino, newsize)
}

// TruncatePagecache is truncate_pagecache(inode, old, new) without the
// unmap_mapping_range calls (no mmap in the model).
func TruncatePagecache(t *sim.Task, ino *Inode, newsize int64) {
	TruncateInodePages(t, ino.Mapping, newsize)
}
