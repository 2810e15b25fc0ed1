package mm

import (
	"fmt"

	"github.com/wbsim/wbsim/sim"
)

// The LRU and reclaim: mm/swap.c and mm/vmscan.c, Linux 2.6.32, much
// simplified. There is one LRU list (no active/inactive split, no zones,
// no swap, no kswapd): pages enter at the head, reclaim scans from the
// tail, a referenced page is rotated back to the head once, and
// rotate_reclaimable_page moves a page whose reclaim writeback finished
// to the tail. What is kept faithfully is the per-page control flow of
// shrink_page_list and pageout: trylock, skip pages under writeback,
// write dirty pages with ->writepage (wbc.for_reclaim) and PG_reclaim,
// release private data, and __remove_mapping's freeze of the count at 2,
// because those are the steps that race with writeback and truncate.

// SwapClusterMax is SWAP_CLUSTER_MAX: pages reclaimed per batch.
const SwapClusterMax = 32

type lruList struct{ head Page }

func (l *lruList) init() { l.head.lruNext, l.head.lruPrev = &l.head, &l.head }

func (l *lruList) addHead(p *Page) {
	p.lruNext, p.lruPrev = l.head.lruNext, &l.head
	l.head.lruNext.lruPrev = p
	l.head.lruNext = p
}

func (l *lruList) addTail(p *Page) {
	p.lruPrev, p.lruNext = l.head.lruPrev, &l.head
	l.head.lruPrev.lruNext = p
	l.head.lruPrev = p
}

func (l *lruList) remove(p *Page) {
	if p.lruNext == nil {
		return
	}
	p.lruPrev.lruNext = p.lruNext
	p.lruNext.lruPrev = p.lruPrev
	p.lruNext, p.lruPrev = nil, nil
}

func (l *lruList) tail() *Page {
	if l.head.lruPrev == &l.head {
		return nil
	}
	return l.head.lruPrev
}

// LRUCacheAdd is lru_cache_add_file(page): put the page on the LRU (the
// kernel batches through a per-CPU pagevec; the model adds at once).
func LRUCacheAdd(t *sim.Task, p *Page) {
	flagOp(t, p, "lru_cache_add")
	if PageLRU(p) {
		t.BUG(p.Obj(), "lru_cache_add: page already on the LRU")
	}
	p.set(PG_lru)
	p.k.lru.addHead(p)
}

// MarkPageAccessed is mark_page_accessed(page), reduced to setting
// PG_referenced (no activation).
func MarkPageAccessed(t *sim.Task, p *Page) { SetPageReferenced(t, p) }

// RotateReclaimablePage is rotate_reclaimable_page(page), mm/swap.c,
// Linux 2.6.32: a page written back for reclaim is moved to the tail of
// the LRU, where reclaim will find it next, if it is on the LRU, unlocked,
// clean and inactive.
func RotateReclaimablePage(t *sim.Task, p *Page) {
	if !PageLocked(p) && !PageDirty(p) && !PageActive(p) && PageLRU(p) {
		t.World().Record(sim.KindPoint, "rotate_reclaimable_page", p.Obj(), 0, "")
		p.k.lru.remove(p)
		p.k.lru.addTail(p)
	}
}

// pageout results (enum pageout_t).
type pageoutT int

const (
	pageKeep     pageoutT = iota // failed to write the page out, page is locked
	pageActivate                 // move the page to the active list, page is locked
	pageSuccess                  // I/O started, page is unlocked
	pageClean                    // the page is clean and locked
)

// handleWriteError is handle_write_error(mapping, page, error).
func handleWriteError(t *sim.Task, mapping *AddressSpace, p *Page, err int) {
	LockPage(t, p)
	if p.Mapping == mapping {
		MappingSetError(t, mapping, err)
	}
	UnlockPage(t, p)
}

// pageout is pageout(page, mapping, PAGEOUT_IO_ASYNC), mm/vmscan.c, Linux
// 2.6.32 (zybsyzlz/linux-2.6.32 ec78931d, read via the search tool): write
// a dirty, locked, otherwise unused page with ->writepage for reclaim,
// marking it PG_reclaim so that end_page_writeback rotates it.
// may_write_to_queue is reduced to "the queue is not congested" (no
// PF_SWAPWRITE, and current->backing_dev_info is not tracked).
func pageout(t *sim.Task, p *Page, mapping *AddressSpace) pageoutT {
	t.Enter("pageout")
	defer t.Leave()
	priv := 0
	if PagePrivate(p) {
		priv = 1
	}
	// is_page_cache_freeable: only the page cache, us and private data.
	if int(p.count)-priv != 2 {
		return pageKeep
	}
	if mapping == nil {
		if PagePrivate(p) {
			if f := p.k.TryToFreeBuffers; f != nil && f(t, p) != 0 {
				ClearPageDirtyFlag(t, p)
				return pageClean
			}
		}
		return pageKeep
	}
	wp, ok := mapping.AOps.(WritepageOp)
	if !ok {
		return pageActivate
	}
	// may_write_to_queue: without a current->backing_dev_info, only an
	// uncongested queue.
	if BdiWriteCongested(mapping.BDI) {
		return pageKeep
	}
	if ClearPageDirtyForIO(t, p) != 0 {
		wbc := &WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: SwapClusterMax,
			RangeStart: 0, RangeEnd: LLONG_MAX, Nonblocking: true, ForReclaim: true}
		SetPageReclaim(t, p)
		res := wp.Writepage(t, p, wbc)
		if res < 0 {
			handleWriteError(t, mapping, p, res)
		}
		if res == AOP_WRITEPAGE_ACTIVATE {
			ClearPageReclaim(t, p)
			return pageActivate
		}
		if !PageWriteback(p) {
			// synchronous write or broken a_ops?
			ClearPageReclaim(t, p)
		}
		return pageSuccess
	}
	return pageClean
}

// shrinkPageList is shrink_page_list(page_list, sc, PAGEOUT_IO_ASYNC),
// mm/vmscan.c, Linux 2.6.32 (zybsyzlz/linux-2.6.32 ec78931d, read via the
// search tool), with the 3.x era's rule that direct reclaim does not
// write file pages: it marks them PG_reclaim and keeps them (checked
// against a 3.x mm/vmscan.c of the sc->priority form and Mel Gorman's 2011
// linux-mm series that brought it in, NR_VMSCAN_WRITE_SKIP then
// NR_VMSCAN_IMMEDIATE, both read via the search tool as unnamed texts; the
// series went into 3.2 by memory). The model then wakes the flusher here,
// where 3.2 does so from do_try_to_free_pages. pages were isolated from
// the LRU, each with a reference. Survivors are returned to the LRU;
// freed pages are counted.
//
// Simplified on purpose: 2.6.32 activates a referenced page only if
// page_mapping_inuse (mapped, or its file mmapped), and otherwise keeps a
// referenced dirty page without writing it and frees a referenced clean
// one. The model has no page tables and no active list, and
// mark_page_accessed only sets PG_referenced, so PG_referenced stands in
// for the activation a second touch would have done: a referenced page
// with a mapping is rotated to the LRU head, neither written nor freed.
// No sc->may_writepage, may_enter_fs, swap or mlock paths.
func shrinkPageList(t *sim.Task, k *Kernel, pages []*Page) int {
	t.Enter("shrink_page_list")
	defer t.Leave()
	nrReclaimed := 0
	wakeFlusher := false
	for _, page := range pages {
		var mapping *AddressSpace
		activate := false
		if !TrylockPage(t, page) {
			goto keep
		}
		if PageWriteback(page) && k.plant != plantReclaimWB {
			goto keepLocked
		}
		if TestClearPageReferenced(t, page) && page.Mapping != nil {
			goto activateLocked
		}
		mapping = page.Mapping
		if PageDirty(page) {
			if k.Era().ReclaimWritesOnlyKswapd {
				// Only kswapd writes file pages in 3.2; direct reclaim
				// asks the flusher and reclaims the page once written.
				SetPageReclaim(t, page)
				wakeFlusher = true
				goto keepLocked
			}
			switch pageout(t, page, mapping) {
			case pageKeep:
				goto keepLocked
			case pageActivate:
				goto activateLocked
			case pageSuccess:
				if PageWriteback(page) || PageDirty(page) {
					goto keep
				}
				// A synchronous write - probably a ramdisk. Go ahead and
				// try to reclaim the page.
				if !TrylockPage(t, page) {
					goto keep
				}
				if PageDirty(page) || PageWriteback(page) {
					goto keepLocked
				}
				mapping = page.Mapping
			case pageClean:
				// try to free the page below
			}
		}
		if PagePrivate(page) {
			if TryToReleasePage(t, page, 0) == 0 {
				goto activateLocked
			}
			if mapping == nil && page.count == 1 {
				UnlockPage(t, page)
				PutPage(t, page)
				nrReclaimed++
				continue
			}
		}
		if mapping == nil || !removeMappingInner(t, mapping, page) {
			goto keepLocked
		}
		// __clear_page_locked: nobody else can find the page now
		page.clear(PG_locked)
		k.pageUnlocked(page)
		sim.WakeUpBit(t, &page.Flags, PG_locked, page.Obj())
		// free_it: the count is frozen at 0; the page goes back to the
		// allocator (__pagevec_free).
		page.count = 1
		PutPage(t, page)
		nrReclaimed++
		continue
	activateLocked:
		activate = true
	keepLocked:
		UnlockPage(t, page)
	keep:
		// putback_lru_page, and drop isolate_lru_pages' reference.
		if !page.freed && !PageLRU(page) {
			page.set(PG_lru)
			if activate {
				k.lru.addHead(page)
			} else {
				k.lru.addTail(page)
			}
		}
		PutPage(t, page)
	}
	if wakeFlusher {
		WakeupFlusherThreads(t, k, 0)
	}
	return nrReclaimed
}

// TryToFreePages is try_to_free_pages for the model's single LRU: isolate
// up to nr pages from the LRU tail (isolate_lru_pages, each with a
// reference) and run shrink_page_list on them, once. Returns the number
// freed. An allocation proceeds even if nothing could be freed: the model
// has no OOM killer and lets the limit be exceeded.
func TryToFreePages(t *sim.Task, k *Kernel, nr int) int {
	t.Enter("try_to_free_pages")
	defer t.Leave()
	var isolated []*Page
	for p := k.lru.tail(); p != nil && len(isolated) < nr; p = k.lru.tail() {
		k.lru.remove(p)
		p.clear(PG_lru)
		if !getPageUnlessZero(p) {
			continue
		}
		isolated = append(isolated, p)
	}
	if len(isolated) == 0 {
		return 0
	}
	return shrinkPageList(t, k, isolated)
}

// CheckQuiescent registers an end-of-run check on the world: once every
// task has finished, each page of the given mappings must hold exactly the
// page cache's reference (and attach_page_buffers' while it has buffers),
// be unlocked and not under writeback, no page
// may be allocated outside them (a leaked reference keeps a removed page
// alive), and NR_WRITEBACK must be back to 0. Pass every mapping the run
// uses.
//
// Daemons (the flusher) do not keep a run going, so a run may end with
// their work in flight: pages in their pagevecs, writeback whose
// completion timer is a daemon timer. When a flusher task is still busy
// or writeback is outstanding with a flusher started, the check is
// skipped.
func (k *Kernel) CheckQuiescent(ms ...*AddressSpace) {
	w := k.W
	w.AtEnd(func() {
		if f := k.flusher; f != nil && (f.background > 0 || k.NrWriteback > 0) {
			return
		}
		var cached int64
		for _, m := range ms {
			cached += int64(m.NrPages)
			var bad *Page
			m.PageTree.Range(0, -1, func(_ uint64, p *Page) bool {
				if p.count != k.restingCount(p) || PageLocked(p) || PageWriteback(p) {
					bad = p
					return false
				}
				return true
			})
			if bad != nil {
				inv := InvPageRef
				if bad.count == k.restingCount(bad) {
					inv = InvPageState
				}
				w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: inv, Obj: bad.Obj(),
					Msg: "at the end of the run " + bad.String() + ": want count=" + fmt.Sprint(k.restingCount(bad)) +
						", unlocked, not under writeback",
					Explain: "When every task has finished, a page-cache page is held only by the page cache " +
						"(count 1, plus 1 while buffer heads are attached), and nobody may still hold its lock or have writeback pending. A higher " +
						"count is a reference some path took (a lookup, a pagevec) and never dropped; a lock " +
						"or writeback left behind is an unlock_page or end_page_writeback that never ran."})
				return
			}
		}
		if k.nrAllocated != cached {
			w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvPageRef,
				Msg: fmtCount("at the end of the run %d pages are allocated but %d are in the page cache", k.nrAllocated, cached),
				Explain: "Pages outside the page cache are freed when their last reference goes. One still " +
					"allocated after the run means a reference to a truncated or never-inserted page leaked."})
			return
		}
		if k.NrWriteback != 0 || k.NrFileDirty < 0 {
			w.Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvPageState,
				Msg: fmtCount("at the end of the run NR_WRITEBACK is %d, NR_FILE_DIRTY %d", k.NrWriteback, k.NrFileDirty),
				Explain: "The writeback counter must return to zero once all I/O completed; a dirty count " +
					"below zero means a page was cleaned twice."})
		}
	})
}

func fmtCount(format string, a, b int64) string { return fmt.Sprintf(format, a, b) }

// restingCount is a cached page's reference count when nobody uses it: the
// page cache's reference, plus attach_page_buffers' while it has buffers.
func (k *Kernel) restingCount(p *Page) int32 {
	if k.PageHasBuffers != nil && k.PageHasBuffers(p) {
		return 2
	}
	return 1
}
