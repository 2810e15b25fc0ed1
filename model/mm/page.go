package mm

import (
	"fmt"
	"runtime/debug"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// Page flag bit numbers, in the order of enum pageflags in
// include/linux/page-flags.h, Linux 2.6.32 (PG_head/PG_tail are the
// CONFIG_PAGEFLAGS_EXTENDED pair).
const (
	PG_locked       = iota // Page is locked. Don't touch.
	PG_error               // An I/O error happened on this page.
	PG_referenced          // Recently referenced (LRU aging).
	PG_uptodate            // Contents are valid.
	PG_dirty               // Contents differ from the backing store.
	PG_lru                 // On an LRU list.
	PG_active              // On the active LRU list.
	PG_slab                // Slab page.
	PG_owner_priv_1        // Owner use; PG_checked for file systems.
	PG_arch_1              // Architecture use.
	PG_reserved            // Reserved page.
	PG_private             // page_private holds fs data (buffer heads, AFS writeback record).
	PG_private_2           // Second private bit; PG_fscache.
	PG_writeback           // Page is under writeback.
	PG_head                // Head of a compound page.
	PG_tail                // Tail of a compound page.
	PG_swapcache           // Swap page.
	PG_mappedtodisk        // Has blocks allocated on disk.
	PG_reclaim             // To be reclaimed asap (writeback started by reclaim).
)

// Aliases, as in page-flags.h.
const (
	PG_checked = PG_owner_priv_1 // used by some file systems
	PG_fscache = PG_private_2    // page backed by the cache
)

var pageFlagNames = [...]string{
	"locked", "error", "referenced", "uptodate", "dirty", "lru", "active", "slab",
	"owner_priv_1", "arch_1", "reserved", "private", "private_2", "writeback",
	"head", "tail", "swapcache", "mappedtodisk", "reclaim",
}

// FlagNames renders flags as the kernel's dump_page does: "locked|dirty|...".
func FlagNames(flags uint64) string {
	s := ""
	for i, n := range pageFlagNames {
		if flags&(1<<uint(i)) != 0 {
			if s != "" {
				s += "|"
			}
			s += n
		}
	}
	if s == "" {
		return "0"
	}
	return s
}

// Page is struct page for a page-cache page.
type Page struct {
	// Flags holds the PG_* bits. Only this package's functions should
	// change it (each change is a scheduling point); sim's bit waits use
	// its address for PG_locked and PG_writeback.
	Flags uint64
	// Mapping is page->mapping: the address_space the page belongs to, nil
	// once truncated or removed from the page cache.
	Mapping *AddressSpace
	// Index is page->index, a pgoff_t.
	Index uint64
	// Private is page_private(page): the ring of buffer heads
	// (*block.BufferHead) or the AFS writeback record. PG_private says
	// whether it is in use.
	Private any
	// Data is the page's contents, PageSize bytes of symbolic content.
	Data content.Bytes

	k       *Kernel
	locker  *sim.Task // who took PG_locked with lock_page/trylock_page, for the lock-order check
	count   int32     // _count
	freed   bool
	id      int64 // allocation id, unique per kernel
	ino     uint64
	lruPrev *Page
	lruNext *Page
}

// zeroPage is the contents of a fresh page: content.Bytes is immutable,
// so every new page shares this one value.
var zeroPage = content.Zeros(PageSize)

// Obj names the page in traces: class "page", A the inode number, B the
// index. It stays valid after the page leaves its mapping.
func (p *Page) Obj() sim.Obj { return sim.Obj{Class: "page", A: int64(p.ino), B: int64(p.Index)} }

// ID is the page's allocation id.
func (p *Page) ID() int64 { return p.id }

// Ino is the inode number the page was allocated for.
func (p *Page) Ino() uint64 { return p.ino }

// Freed reports whether the page's count reached zero and it was freed.
func (p *Page) Freed() bool { return p.freed }

// Kernel is the kernel the page belongs to.
func (p *Page) Kernel() *Kernel { return p.k }

func (p *Page) String() string {
	return fmt.Sprintf("page %d:%d [%s] count=%d", p.ino, p.Index, FlagNames(p.Flags), p.count)
}

// Pure flag reads (PageLocked() and friends): no scheduling point, as
// test_bit is a plain load.

// PageLocked is PageLocked(page).
func PageLocked(p *Page) bool { return p.Flags&(1<<PG_locked) != 0 }

// PageError is PageError(page).
func PageError(p *Page) bool { return p.Flags&(1<<PG_error) != 0 }

// PageReferenced is PageReferenced(page).
func PageReferenced(p *Page) bool { return p.Flags&(1<<PG_referenced) != 0 }

// PageUptodate is PageUptodate(page).
func PageUptodate(p *Page) bool { return p.Flags&(1<<PG_uptodate) != 0 }

// PageDirty is PageDirty(page).
func PageDirty(p *Page) bool { return p.Flags&(1<<PG_dirty) != 0 }

// PageLRU is PageLRU(page).
func PageLRU(p *Page) bool { return p.Flags&(1<<PG_lru) != 0 }

// PageActive is PageActive(page).
func PageActive(p *Page) bool { return p.Flags&(1<<PG_active) != 0 }

// PageChecked is PageChecked(page).
func PageChecked(p *Page) bool { return p.Flags&(1<<PG_checked) != 0 }

// PagePrivate is PagePrivate(page); page_has_private in later kernels also
// counts PG_private_2.
func PagePrivate(p *Page) bool { return p.Flags&(1<<PG_private) != 0 }

// PagePrivate2 is PagePrivate2(page) (PageFsCache).
func PagePrivate2(p *Page) bool { return p.Flags&(1<<PG_private_2) != 0 }

// PageWriteback is PageWriteback(page).
func PageWriteback(p *Page) bool { return p.Flags&(1<<PG_writeback) != 0 }

// PageMappedToDisk is PageMappedToDisk(page).
func PageMappedToDisk(p *Page) bool { return p.Flags&(1<<PG_mappedtodisk) != 0 }

// PageReclaim is PageReclaim(page).
func PageReclaim(p *Page) bool { return p.Flags&(1<<PG_reclaim) != 0 }

// PageSwapCache is PageSwapCache(page): never set in the model.
func PageSwapCache(p *Page) bool { return p.Flags&(1<<PG_swapcache) != 0 }

// PageCount is page_count(page).
func PageCount(p *Page) int { return int(p.count) }

// PagePrivateData is page_private(page).
func PagePrivateData(p *Page) any { return p.Private }

// PageMapping is page_mapping(page): the mapping, or nil (no swap cache
// in the model).
func PageMapping(p *Page) *AddressSpace { return p.Mapping }

// PageIndex is page_index(page).
func PageIndex(p *Page) uint64 { return p.Index }

// PageOffset is page_offset(page): the byte offset of the page in its file.
func PageOffset(p *Page) int64 { return int64(p.Index) << PageCacheShift }

// alive checks that p has not been freed; an operation on a freed page is
// a page-ref failure naming the page and the task.
func alive(t *sim.Task, p *Page, op string) {
	if !p.freed {
		return
	}
	failPageRef(t, p, fmt.Sprintf("%s on freed page %d:%d (allocation %d)", op, p.ino, p.Index, p.id),
		"The task used a page after its reference count reached zero and it went back to the "+
			"allocator: "+op+" read or changed memory that may already belong to someone else. Every "+
			"user of a page must hold a reference (page_cache_get, or one returned by a page-cache "+
			"lookup) until it is done with it; a put_page too many, or a lookup whose reference was "+
			"dropped before the last use, leads here.")
}

func failPageRef(t *sim.Task, p *Page, msg, explain string) {
	w := t.World()
	w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvPageRef, Obj: p.Obj(), Msg: msg,
		Explain: explain, Stack: string(debug.Stack())})
}

// pageStateBUG raises what the kernel would BUG() on: a failure of kind
// bug with the page-state invariant id.
func pageStateBUG(t *sim.Task, p *Page, msg, explain string) {
	t.World().Fail(&sim.Failure{Kind: sim.FailBug, Invariant: InvPageState, Obj: p.Obj(),
		Msg: "kernel BUG: " + msg, Explain: explain, Stack: string(debug.Stack())})
}

// pageStateViolation raises a page-state invariant failure the kernel
// itself would not catch (a model check).
func pageStateViolation(t *sim.Task, p *Page, msg, explain string) {
	t.World().Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvPageState, Obj: p.Obj(),
		Msg: msg, Explain: explain, Stack: string(debug.Stack())})
}

// flagOp is the common shape of an atomic page-flag operation: a
// scheduling point under the kernel's name, then the freed-page check.
func flagOp(t *sim.Task, p *Page, op string) {
	t.Point(op, p.Obj(), 0)
	alive(t, p, op)
}

func (p *Page) set(bit uint)   { p.Flags |= 1 << bit }
func (p *Page) clear(bit uint) { p.Flags &^= 1 << bit }
func (p *Page) testSet(bit uint) bool {
	old := p.Flags&(1<<bit) != 0
	p.Flags |= 1 << bit
	return old
}
func (p *Page) testClear(bit uint) bool {
	old := p.Flags&(1<<bit) != 0
	p.Flags &^= 1 << bit
	return old
}

// SetPageUptodate is SetPageUptodate(page) (the smp_wmb before set_bit
// has no meaning in the model).
func SetPageUptodate(t *sim.Task, p *Page) { flagOp(t, p, "SetPageUptodate"); p.set(PG_uptodate) }

// ClearPageUptodate is ClearPageUptodate(page).
func ClearPageUptodate(t *sim.Task, p *Page) { flagOp(t, p, "ClearPageUptodate"); p.clear(PG_uptodate) }

// SetPageError is SetPageError(page).
func SetPageError(t *sim.Task, p *Page) { flagOp(t, p, "SetPageError"); p.set(PG_error) }

// ClearPageError is ClearPageError(page).
func ClearPageError(t *sim.Task, p *Page) { flagOp(t, p, "ClearPageError"); p.clear(PG_error) }

// TestClearPageError is TestClearPageError(page).
func TestClearPageError(t *sim.Task, p *Page) bool {
	flagOp(t, p, "TestClearPageError")
	return p.testClear(PG_error)
}

// SetPageReferenced is SetPageReferenced(page).
func SetPageReferenced(t *sim.Task, p *Page) { flagOp(t, p, "SetPageReferenced"); p.set(PG_referenced) }

// ClearPageReferenced is ClearPageReferenced(page).
func ClearPageReferenced(t *sim.Task, p *Page) {
	flagOp(t, p, "ClearPageReferenced")
	p.clear(PG_referenced)
}

// TestClearPageReferenced is TestClearPageReferenced(page).
func TestClearPageReferenced(t *sim.Task, p *Page) bool {
	flagOp(t, p, "TestClearPageReferenced")
	return p.testClear(PG_referenced)
}

// SetPageMappedToDisk is SetPageMappedToDisk(page).
func SetPageMappedToDisk(t *sim.Task, p *Page) {
	flagOp(t, p, "SetPageMappedToDisk")
	p.set(PG_mappedtodisk)
}

// ClearPageMappedToDisk is ClearPageMappedToDisk(page).
func ClearPageMappedToDisk(t *sim.Task, p *Page) {
	flagOp(t, p, "ClearPageMappedToDisk")
	p.clear(PG_mappedtodisk)
}

// SetPagePrivate is SetPagePrivate(page).
func SetPagePrivate(t *sim.Task, p *Page) { flagOp(t, p, "SetPagePrivate"); p.set(PG_private) }

// ClearPagePrivate is ClearPagePrivate(page).
func ClearPagePrivate(t *sim.Task, p *Page) { flagOp(t, p, "ClearPagePrivate"); p.clear(PG_private) }

// SetPagePrivate2 is SetPagePrivate2(page) (SetPageFsCache).
func SetPagePrivate2(t *sim.Task, p *Page) { flagOp(t, p, "SetPagePrivate2"); p.set(PG_private_2) }

// ClearPagePrivate2 is ClearPagePrivate2(page).
func ClearPagePrivate2(t *sim.Task, p *Page) {
	flagOp(t, p, "ClearPagePrivate2")
	p.clear(PG_private_2)
}

// SetPageChecked is SetPageChecked(page).
func SetPageChecked(t *sim.Task, p *Page) { flagOp(t, p, "SetPageChecked"); p.set(PG_checked) }

// ClearPageChecked is ClearPageChecked(page).
func ClearPageChecked(t *sim.Task, p *Page) { flagOp(t, p, "ClearPageChecked"); p.clear(PG_checked) }

// SetPageReclaim is SetPageReclaim(page).
func SetPageReclaim(t *sim.Task, p *Page) { flagOp(t, p, "SetPageReclaim"); p.set(PG_reclaim) }

// ClearPageReclaim is ClearPageReclaim(page).
func ClearPageReclaim(t *sim.Task, p *Page) { flagOp(t, p, "ClearPageReclaim"); p.clear(PG_reclaim) }

// TestClearPageReclaim is TestClearPageReclaim(page).
func TestClearPageReclaim(t *sim.Task, p *Page) bool {
	flagOp(t, p, "TestClearPageReclaim")
	return p.testClear(PG_reclaim)
}

// SetPageDirtyFlag is the bare SetPageDirty(page) macro: it sets PG_dirty
// and nothing else (no tag, no accounting). Model code wants SetPageDirty
// (set_page_dirty) instead; this exists for __set_page_dirty_no_writeback
// style callers.
func SetPageDirtyFlag(t *sim.Task, p *Page) { flagOp(t, p, "SetPageDirty"); p.set(PG_dirty) }

// TestSetPageDirty is TestSetPageDirty(page).
func TestSetPageDirty(t *sim.Task, p *Page) bool {
	flagOp(t, p, "TestSetPageDirty")
	return p.testSet(PG_dirty)
}

// TestClearPageDirty is TestClearPageDirty(page).
func TestClearPageDirty(t *sim.Task, p *Page) bool {
	flagOp(t, p, "TestClearPageDirty")
	return p.testClear(PG_dirty)
}

// ClearPageDirtyFlag is the bare ClearPageDirty(page) macro.
func ClearPageDirtyFlag(t *sim.Task, p *Page) { flagOp(t, p, "ClearPageDirty"); p.clear(PG_dirty) }

// SetPagePrivateData is set_page_private(page, v). It is a plain store in
// the kernel, not an atomic bit operation, so it is not a scheduling
// point; it still refuses a freed page.
func SetPagePrivateData(t *sim.Task, p *Page, v any) {
	alive(t, p, "set_page_private")
	p.Private = v
}

// Reference counts.

// GetPage is get_page(page) / page_cache_get(page): take a reference. The
// page must be live (VM_BUG_ON(atomic_read(&page->_count) == 0)).
func GetPage(t *sim.Task, p *Page) {
	alive(t, p, "get_page")
	if p.count <= 0 {
		failPageRef(t, p, fmt.Sprintf("get_page on page %d:%d with count %d", p.ino, p.Index, p.count),
			"get_page may only add a reference to a page that already has one.")
	}
	p.count++
}

// getPageUnlessZero is get_page_unless_zero(page).
func getPageUnlessZero(p *Page) bool {
	if p.count == 0 || p.freed {
		return false
	}
	p.count++
	return true
}

// PutPage is put_page(page): drop a reference; the last one frees the
// page (__page_cache_release takes it off the LRU first, then
// free_hot_cold_page runs free_pages_check). It is a scheduling point, so
// a race between the last put and another user of the page can be found.
func PutPage(t *sim.Task, p *Page) {
	t.Point("put_page", p.Obj(), int64(p.count))
	alive(t, p, "put_page")
	p.count--
	if p.count < 0 {
		failPageRef(t, p, fmt.Sprintf("put_page: page %d:%d count went below zero", p.ino, p.Index),
			"A reference was dropped that was never taken: some path calls put_page or "+
				"page_cache_release once too often.")
	}
	if p.count == 0 {
		freePage(t, p)
	}
}

// PageCacheRelease is page_cache_release(page), which is put_page.
func PageCacheRelease(t *sim.Task, p *Page) { PutPage(t, p) }

// PageCacheGet is page_cache_get(page), which is get_page.
func PageCacheGet(t *sim.Task, p *Page) { GetPage(t, p) }

// freePage is __page_cache_release + free_hot_cold_page's
// free_pages_check, Linux 2.6.32 (mm/swap.c, mm/page_alloc.c): a page that
// still has a mapping or a lock, writeback, private data or LRU-unsafe
// flags at free time is "BUG: Bad page state".
func freePage(t *sim.Task, p *Page) {
	k := p.k
	if PageLRU(p) {
		k.lru.remove(p)
		p.clear(PG_lru)
		p.clear(PG_active)
	}
	const checkAtFree = 1<<PG_locked | 1<<PG_private | 1<<PG_private_2 | 1<<PG_writeback |
		1<<PG_reserved | 1<<PG_slab | 1<<PG_swapcache | 1<<PG_active | 1<<PG_lru
	if p.Mapping != nil || p.Flags&checkAtFree != 0 {
		f := p.Flags
		m := p.Mapping
		p.freed = true
		k.nrAllocated--
		why := "flags " + FlagNames(f&checkAtFree)
		if m != nil {
			why = "page->mapping still set (the page is in the page cache)"
		}
		failPageRef(t, p, fmt.Sprintf("BUG: Bad page state: page %d:%d freed with %s", p.ino, p.Index, why),
			"The page's last reference was dropped while the page was still in use: still in the page "+
				"cache, locked, under writeback or with private data attached. The kernel prints "+
				"\"Bad page state\" from free_pages_check. Usually some path dropped a reference it did "+
				"not own (one put_page too many), so the page cache's own reference was consumed.")
		return
	}
	p.freed = true
	p.Flags = 0
	p.Private = nil
	k.nrAllocated--
	t.World().Record(sim.KindPoint, "free_hot_cold_page", p.Obj(), 0, "")
}

// Page locking.

// LockPage is lock_page(page), include/linux/pagemap.h and mm/filemap.c
// __lock_page, Linux 2.6.32: sleep until PG_locked is clear, then set it
// (wait_on_bit_lock).
func LockPage(t *sim.Task, p *Page) {
	alive(t, p, "lock_page")
	p.k.checkPageLockOrder(t, p)
	sim.WaitOnBitLock(t, &p.Flags, PG_locked, p.Obj(), "lock_page")
	alive(t, p, "lock_page")
	p.k.pageLocked(t, p)
}

// TrylockPage is trylock_page(page) (2.6.27+; TestSetPageLocked before):
// take the page lock if it is free.
func TrylockPage(t *sim.Task, p *Page) bool {
	flagOp(t, p, "trylock_page")
	if p.testSet(PG_locked) {
		return false
	}
	p.k.pageLocked(t, p)
	return true
}

// UnlockPage is unlock_page(page), mm/filemap.c, Linux 2.6.32:
// clear_bit_unlock(PG_locked) then wake_up_page(page, PG_locked). Unlocking
// an unlocked page is a VM_BUG_ON there (a BUG in 2.6.12's
// TestClearPageLocked form), modelled as a page-state BUG.
func UnlockPage(t *sim.Task, p *Page) {
	flagOp(t, p, "unlock_page")
	if !PageLocked(p) {
		pageStateBUG(t, p, fmt.Sprintf("unlock_page of unlocked page %d:%d", p.ino, p.Index),
			"unlock_page was called on a page that was not locked: a double unlock, or an unlock "+
				"on a path that never took the lock (for example a writepage that unlocks and a caller "+
				"that unlocks again). The kernel BUG()s here (VM_BUG_ON(!PageLocked(page))).")
	}
	p.clear(PG_locked)
	p.k.pageUnlocked(p)
	sim.WakeUpBit(t, &p.Flags, PG_locked, p.Obj())
}

// WaitOnPageLocked is wait_on_page_locked(page).
func WaitOnPageLocked(t *sim.Task, p *Page) {
	alive(t, p, "wait_on_page_locked")
	if PageLocked(p) {
		sim.WaitOnBit(t, &p.Flags, PG_locked, p.Obj(), "wait_on_page_locked")
	}
}

// WaitOnPageWriteback is wait_on_page_writeback(page).
func WaitOnPageWriteback(t *sim.Task, p *Page) {
	alive(t, p, "wait_on_page_writeback")
	if PageWriteback(p) {
		sim.WaitOnBit(t, &p.Flags, PG_writeback, p.Obj(), "wait_on_page_writeback")
	}
}

// Allocation.

// PageCacheAlloc is page_cache_alloc(mapping): a fresh page with one
// reference (the caller's), no flags, zero contents. If the kernel has a
// memory limit and it is reached, the allocating task first enters direct
// reclaim (try_to_free_pages), as __alloc_pages would.
func PageCacheAlloc(t *sim.Task, m *AddressSpace) *Page {
	k := m.Host.Kernel
	if k.MemLimit > 0 && k.nrAllocated >= k.MemLimit {
		TryToFreePages(t, k, SwapClusterMax)
	}
	return k.allocPage(m.Host.Ino)
}

// PageCacheAllocCold is page_cache_alloc_cold(mapping).
func PageCacheAllocCold(t *sim.Task, m *AddressSpace) *Page { return PageCacheAlloc(t, m) }

func (k *Kernel) allocPage(ino uint64) *Page {
	k.nextID++
	k.nrAllocated++
	return &Page{k: k, count: 1, id: k.nextID, ino: ino, Data: zeroPage}
}

// NewPage allocates a page outside any task (set-up code and tests): one
// reference, no flags, zero contents.
func (k *Kernel) NewPage(ino uint64, index uint64) *Page {
	p := k.allocPage(ino)
	p.Index = index
	return p
}
