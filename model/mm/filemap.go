package mm

import (
	"fmt"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// Page-cache insertion, removal and lookup: mm/filemap.c, Linux 2.6.32
// (zybsyzlz/linux-2.6.32 ec78931d and Edgar86/boston-2.6.32.x fc2d0360,
// read via the search tool), except where a function names another
// version. 2.6.11's text (pwanbul/linux-2.6.11 6489c21e, read) takes the
// page cache's reference and sets PG_locked inside tree_lock in
// add_to_page_cache and rechecks page->index in find_lock_page; the
// results are the same. The kernel's lookups are
// lockless (RCU with page_cache_get_speculative) from 2.6.27 on; the model
// takes tree_lock around them as 2.6.2x did before, which keeps their
// results (a page with a reference, or none) and makes each lookup one
// atomic step with a scheduling point at the lock.

// AddToPageCacheLocked is add_to_page_cache_locked(page, mapping, offset,
// gfp), Linux 2.6.32: insert a locked page at offset, taking the page
// cache's reference. Returns 0, or -EEXIST if the slot is taken (the
// reference is dropped again and page->mapping cleared).
func AddToPageCacheLocked(t *sim.Task, p *Page, m *AddressSpace, offset uint64) int {
	alive(t, p, "add_to_page_cache")
	if !PageLocked(p) {
		t.BUG(p.Obj(), "add_to_page_cache_locked: page not locked")
	}
	GetPage(t, p)
	p.Mapping = m
	p.Index = offset
	p.ino = m.Host.Ino
	m.TreeLock.Lock(t)
	if m.PageTree.Insert(offset, p) {
		m.NrPages++
		p.k.NrFilePages++
		m.TreeLock.Unlock(t)
		t.World().Record(sim.KindPoint, "add_to_page_cache", p.Obj(), 0, "")
		return 0
	}
	p.Mapping = nil
	m.TreeLock.Unlock(t)
	PageCacheRelease(t, p)
	return errno.EEXIST.Neg()
}

// AddToPageCache is add_to_page_cache(page, mapping, offset, gfp): lock
// the (new, private) page with __set_page_locked and insert it. On success
// the page is returned locked, with the cache's reference and the
// caller's.
func AddToPageCache(t *sim.Task, p *Page, m *AddressSpace, offset uint64) int {
	alive(t, p, "add_to_page_cache")
	p.set(PG_locked) // __set_page_locked: nobody else can see the page yet
	err := AddToPageCacheLocked(t, p, m, offset)
	if err != 0 {
		p.clear(PG_locked)
	}
	return err
}

// AddToPageCacheLRU is add_to_page_cache_lru(page, mapping, offset, gfp):
// add_to_page_cache, then put the page on the (inactive file) LRU.
func AddToPageCacheLRU(t *sim.Task, p *Page, m *AddressSpace, offset uint64) int {
	ret := AddToPageCache(t, p, m, offset)
	if ret == 0 {
		LRUCacheAdd(t, p)
	}
	return ret
}

// RemoveFromPageCacheLocked is __remove_from_page_cache(page), Linux
// 2.6.32, called with tree_lock held: delete the page from the tree (its
// tags go with it), clear page->mapping, and fix up the dirty accounting
// of a page that was re-dirtied after its dirty bit was cancelled. The
// page cache's reference is not dropped here: the caller does that.
//
// The model also checks that the page is not under writeback (a page-state
// violation, kind invariant: the file page cache of these eras does not
// assert it, 2.6.2x's __remove_from_page_cache BUG()s only on
// page_mapped). Every caller guarantees it: truncate_inode_pages_range
// skips such pages in its first pass and wait_on_page_writeback()s in its
// second, invalidate_inode_page refuses them, shrink_page_list keeps them.
// The kernel asserts the same rule where it removes a page from the swap
// cache (__delete_from_swap_cache: VM_BUG_ON(PageWriteback(page)), mm/
// swap_state.c, 2.6.2x) and before shmem truncates one
// (shmem_truncate_range, 3.x). Read via the search tool: a 2.6.25+
// __remove_from_page_cache (it calls mem_cgroup_uncharge_cache_page), the
// 2.6.2x __delete_from_swap_cache and a 3.x shmem_truncate_range patch.
// A page removed under writeback is written after its file no longer has
// it: its completion touches a page nobody can find, and a truncate
// racing it lets the old data reach blocks the file system is freeing.
func RemoveFromPageCacheLocked(t *sim.Task, p *Page) {
	m := p.Mapping
	if PageWriteback(p) {
		pageStateViolation(t, p, fmt.Sprintf("__remove_from_page_cache of page %d:%d under writeback", p.ino, p.Index),
			"A page leaves the page cache only when no writeback is in flight (PG_writeback clear): "+
				"truncate_inode_pages_range locks the page and waits with wait_on_page_writeback before "+
				"truncate_complete_page, invalidate_mapping_pages and shrink_page_list skip pages under "+
				"writeback. Here the page was removed with its I/O still running, so the write completes "+
				"on a page the file no longer holds (and, after a truncate, into blocks being freed).")
	}
	m.PageTree.Delete(p.Index)
	p.Mapping = nil
	m.NrPages--
	p.k.NrFilePages--
	if PageDirty(p) && MappingCapAccountDirty(m) {
		accountPageCleaned(p, m)
	}
	t.World().Record(sim.KindPoint, "__remove_from_page_cache", p.Obj(), 0, "")
}

// RemoveFromPageCache is remove_from_page_cache(page), Linux 2.6.32:
// BUG unless the page is locked; __remove_from_page_cache under tree_lock.
func RemoveFromPageCache(t *sim.Task, p *Page) {
	alive(t, p, "remove_from_page_cache")
	m := p.Mapping
	if !PageLocked(p) {
		pageStateBUG(t, p, "remove_from_page_cache of unlocked page",
			"Pages leave the page cache only under the page lock (BUG_ON(!PageLocked(page))), so "+
				"that a task that locked the page and checked page->mapping can rely on it.")
	}
	m.TreeLock.Lock(t)
	RemoveFromPageCacheLocked(t, p)
	m.TreeLock.Unlock(t)
}

// FindGetPage is find_get_page(mapping, offset): the page at offset with
// a reference taken, or nil.
func FindGetPage(t *sim.Task, m *AddressSpace, offset uint64) *Page {
	m.TreeLock.Lock(t)
	p := m.PageTree.Lookup(offset)
	if p != nil {
		GetPage(t, p)
	}
	m.TreeLock.Unlock(t)
	return p
}

// FindLockPage is find_lock_page(mapping, offset), Linux 2.6.32: the page
// at offset, locked and with a reference, or nil. A page truncated while
// we slept on its lock is dropped and the lookup repeated.
func FindLockPage(t *sim.Task, m *AddressSpace, offset uint64) *Page {
	for {
		p := FindGetPage(t, m, offset)
		if p != nil {
			LockPage(t, p)
			// Has the page been truncated?
			if p.Mapping != m {
				UnlockPage(t, p)
				PageCacheRelease(t, p)
				continue
			}
			if p.Index != offset {
				t.BUG(p.Obj(), "find_lock_page: page->index != offset")
			}
		}
		return p
	}
}

// FindOrCreatePage is find_or_create_page(mapping, index, gfp), Linux
// 2.6.32: find_lock_page, or allocate a page and add it to the cache and
// the LRU; retry if another task added one first. The page comes back
// locked with a reference.
func FindOrCreatePage(t *sim.Task, m *AddressSpace, index uint64) *Page {
	for {
		p := FindLockPage(t, m, index)
		if p == nil {
			p = PageCacheAlloc(t, m)
			err := AddToPageCacheLRU(t, p, m, index)
			if err != 0 {
				PageCacheRelease(t, p)
				p = nil
				if err == errno.EEXIST.Neg() {
					continue
				}
			}
		}
		return p
	}
}

// GrabCachePage is grab_cache_page(mapping, index): find_or_create_page
// with the mapping's gfp mask.
func GrabCachePage(t *sim.Task, m *AddressSpace, index uint64) *Page {
	return FindOrCreatePage(t, m, index)
}

// GrabCachePageWriteBegin is grab_cache_page_write_begin(mapping, index,
// flags), mm/filemap.c, Linux 2.6.32 (2.6.29+): the locked page at index,
// created if missing; nil if allocation failed. flags (AOP_FLAG_NOFS)
// only change the gfp mask, which the model does not use.
func GrabCachePageWriteBegin(t *sim.Task, m *AddressSpace, index uint64, flags uint) *Page {
	for {
		p := FindLockPage(t, m, index)
		if p != nil {
			return p
		}
		p = PageCacheAlloc(t, m)
		status := AddToPageCacheLRU(t, p, m, index)
		if status != 0 {
			PageCacheRelease(t, p)
			if status == errno.EEXIST.Neg() {
				continue
			}
			return nil
		}
		return p
	}
}

// FindGetPages is find_get_pages(mapping, start, nr_pages, pages): up to
// nr pages at index >= start, in index order, each with a reference.
func FindGetPages(t *sim.Task, m *AddressSpace, start uint64, nr int, pages []*Page) int {
	m.TreeLock.Lock(t)
	ret := m.PageTree.GangLookup(pages[:nr], start)
	for i := range ret {
		GetPage(t, pages[i])
	}
	m.TreeLock.Unlock(t)
	return ret
}

// FindGetPagesContig is find_get_pages_contig(mapping, index, nr_pages,
// pages), mm/filemap.c, 2.6.2x (the tree_lock version): like
// find_get_pages, but stop at the first hole, so pages[i] is at index+i.
func FindGetPagesContig(t *sim.Task, m *AddressSpace, index uint64, nr int, pages []*Page) int {
	m.TreeLock.Lock(t)
	ret := m.PageTree.GangLookup(pages[:nr], index)
	i := 0
	for ; i < ret; i++ {
		if pages[i].Mapping == nil || pages[i].Index != index {
			break
		}
		GetPage(t, pages[i])
		index = m.Host.Kernel.ULong(index + 1)
	}
	for j := i; j < ret; j++ {
		pages[j] = nil
	}
	m.TreeLock.Unlock(t)
	return i
}

// FindGetPagesTag is find_get_pages_tag(mapping, index, tag, nr_pages,
// pages), mm/filemap.c, 2.6.2x (the tree_lock version): up to nr pages
// carrying tag at index >= *index, each with a reference; *index moves
// past the last page found (in unsigned long arithmetic, so it wraps to 0
// after the last possible index).
func FindGetPagesTag(t *sim.Task, m *AddressSpace, index *uint64, tag int, nr int, pages []*Page) int {
	m.TreeLock.Lock(t)
	ret := m.PageTree.GangLookupTag(pages[:nr], *index, tag)
	for i := range ret {
		GetPage(t, pages[i])
	}
	if ret > 0 {
		*index = m.Host.Kernel.ULong(pages[ret-1].Index + 1)
	}
	m.TreeLock.Unlock(t)
	return ret
}
