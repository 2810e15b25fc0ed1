package mm

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// WriteCachePages is write_cache_pages(mapping, wbc, writepage, data):
// walk the mapping's dirty pages and hand each, locked and cleaned, to
// writepage. It dispatches on the kernel version: the 2.6.2x era's loop
// (writeCachePages2x) or the 3.x loop with TOWRITE tagging
// (writeCachePages3x, also used for the afs-2.6.3x kernel, whose 2.6.35+
// write_cache_pages already tags). 2.6.12 has no write_cache_pages: its
// loop is __mpage_writepages in model/mpage; calling this there is a
// model bug and panics.
func WriteCachePages(t *sim.Task, m *AddressSpace, wbc *WritebackControl, writepage WritepageFunc, data any) int {
	era := m.Host.Kernel.Era()
	switch {
	case !era.WriteCachePages:
		panic("mm: write_cache_pages does not exist in 2.6.12 (its loop is __mpage_writepages)")
	case era.TagToWrite:
		return writeCachePages3x(t, m, wbc, writepage, data)
	default:
		return writeCachePages2x(t, m, wbc, writepage, data)
	}
}

// writeCachePages2x is write_cache_pages, mm/page-writeback.c, Linux
// 2.6.32 (zybsyzlz/linux-2.6.32 ec78931d, read via the search tool; the
// loop of 2.6.29 to 2.6.34: done_index, cycled, the local nr_to_write,
// no_nrwrite_index_update, and the nonblocking congestion bail-out). The
// 2.6.24 to 2.6.28 loop (scanned, no done_index, page->index > end checked
// under the page lock; Linux 2.6.23's text read in torvalds/linux
// 00128188) is not modelled. It walks PAGECACHE_TAG_DIRTY from
// writeback_index (range_cyclic) or range_start, a pagevec at a time.
func writeCachePages2x(t *sim.Task, mapping *AddressSpace, wbc *WritebackControl, writepage WritepageFunc, data any) int {
	t.Enter("write_cache_pages")
	defer t.Leave()
	k := mapping.Host.Kernel
	bdi := mapping.BDI
	ret := 0
	done := false
	var pvec Pagevec
	var writebackIndex, index, end, doneIndex uint64
	var cycled bool
	rangeWhole := false
	nrToWrite := wbc.NrToWrite
	// k.TowriteTagging: the 2.6.35 fix (f446daaea9d4), as writeCachePages3x.
	tagged := k.TowriteTagging && wbc.SyncMode == WB_SYNC_ALL
	tag := PAGECACHE_TAG_DIRTY
	if tagged {
		tag = PAGECACHE_TAG_TOWRITE
	}

	if wbc.Nonblocking && BdiWriteCongested(bdi) {
		wbc.EncounteredCongestion = true
		return 0
	}

	PagevecInit(&pvec, false)
	if wbc.RangeCyclic {
		writebackIndex = mapping.WritebackIndex // prev offset
		index = writebackIndex
		cycled = index == 0
		if mutant.On("wcp-cyclic-no-wrap") { // mutant: 31a12666d8f0 "mm: write_cache_pages cyclic fix"
			cycled = true
		}
		end = k.PgoffMax()
	} else {
		index = k.ULong(uint64(wbc.RangeStart >> PageCacheShift))
		end = k.ULong(uint64(wbc.RangeEnd >> PageCacheShift))
		if wbc.RangeStart == 0 && wbc.RangeEnd == LLONG_MAX {
			rangeWhole = true
		}
		cycled = true // ignore range_cyclic tests
	}
retry:
	if tagged {
		TagPagesForWriteback(t, mapping, index, end)
	}
	doneIndex = index
	for !done && index <= end {
		nrPages := PagevecLookupTag(t, &pvec, mapping, &index, tag,
			int(min(end-index, PAGEVEC_SIZE-1)+1))
		if nrPages == 0 {
			break
		}
		for i := 0; i < nrPages; i++ {
			page := pvec.Pages[i]

			// At this point, the page may be truncated or invalidated
			// (page->mapping set to NULL). page->index will not change
			// because we hold a reference on the page.
			if page.Index > end {
				// can't be range_cyclic (1st pass) because end == -1 then
				done = true
				break
			}
			doneIndex = k.ULong(page.Index + 1)

			LockPage(t, page)

			// Page truncated or invalidated: skip it, even for data
			// integrity operations.
			if page.Mapping != mapping {
				UnlockPage(t, page)
				continue
			}
			if !PageDirty(page) {
				// someone wrote it for us
				UnlockPage(t, page)
				continue
			}
			if PageWriteback(page) {
				// mutant: integrity skips a page under writeback (515f4a037fb9 relies on the wait)
				if wbc.SyncMode != WB_SYNC_NONE && !mutant.On("wcp-skip-writeback") {
					WaitOnPageWriteback(t, page)
				} else {
					UnlockPage(t, page)
					continue
				}
			}
			if PageWriteback(page) {
				t.BUG(page.Obj(), "write_cache_pages: BUG_ON(PageWriteback(page))")
			}
			if ClearPageDirtyForIO(t, page) == 0 {
				UnlockPage(t, page)
				continue
			}

			err := writepage(t, page, wbc, data)
			if err != 0 {
				if err == AOP_WRITEPAGE_ACTIVATE {
					UnlockPage(t, page)
					err = 0
				} else if !k.WBIntegrityError || wbc.SyncMode != WB_SYNC_ALL {
					// done_index is set past this page, so media errors
					// will not choke background writeout for the entire
					// file.
					ret = err
					done = true
					if !mutant.On("wcp-error-overwritten") { // mutant: 00266770b8b3 "... writepage error fix"
						break
					}
				}
				// Kernel.WBIntegrityError: integrity writeback goes on
				// and returns the first error.
				if ret == 0 {
					ret = err
				}
			}

			if nrToWrite > 0 {
				nrToWrite--
				// mutant: 05fe478dd04e "mm: write_cache_pages integrity fix" undone
				if nrToWrite == 0 && (wbc.SyncMode == WB_SYNC_NONE || mutant.On("wcp-integrity-nr-stop")) {
					// Stop only if not doing integrity sync.
					done = true
					break
				}
			}

			if wbc.Nonblocking && BdiWriteCongested(bdi) {
				wbc.EncounteredCongestion = true
				done = true
				break
			}
		}
		PagevecRelease(t, &pvec)
		t.CondResched()
	}
	if !cycled && !done {
		// range_cyclic: we hit the last page and there is more work to
		// be done: wrap back to the start of the file.
		cycled = true
		index = 0
		end = writebackIndex - 1
		goto retry
	}
	if !wbc.NoNrwriteIndexUpdate {
		if wbc.RangeCyclic || (rangeWhole && nrToWrite > 0) {
			mapping.WritebackIndex = doneIndex
		}
		wbc.NrToWrite = nrToWrite
	}
	return ret
}

// WRITEBACK_TAG_BATCH is how many pages tag_pages_for_writeback tags per
// tree_lock hold.
const WRITEBACK_TAG_BATCH = 4096

// TagPagesForWriteback is tag_pages_for_writeback(mapping, start, end),
// mm/page-writeback.c, Linux 3.1.10 (AICP/kernel_asus_grouper 5635ba2d,
// read via the search tool; the same from 2.6.35 to 3.13; its
// WARN_ON_ONCE(tagged > WRITEBACK_TAG_BATCH) cannot fire here): copy the DIRTY tag to TOWRITE on every
// page in [start, end], WRITEBACK_TAG_BATCH at a time with tree_lock
// dropped (and cond_resched) in between, so that pages dirtied after this
// point are not written by the integrity sync that tagged.
func TagPagesForWriteback(t *sim.Task, mapping *AddressSpace, start, end uint64) {
	t.Enter("tag_pages_for_writeback")
	defer t.Leave()
	for {
		mapping.TreeLock.Lock(t)
		tagged := mapping.PageTree.RangeTagIfTagged(&start, end, WRITEBACK_TAG_BATCH,
			PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_TOWRITE)
		mapping.TreeLock.Unlock(t)
		t.CondResched()
		// We check 'start' to handle wrapping when end == ~0UL.
		if !(tagged >= WRITEBACK_TAG_BATCH && start != 0) {
			return
		}
	}
}

// writeCachePages3x is write_cache_pages, mm/page-writeback.c, Linux
// 3.1.10 (AICP/kernel_asus_grouper 5635ba2d, read via the search tool; 3.1
// to 3.13 share this loop, 3.2 included): integrity writeback (WB_SYNC_ALL) and
// tagged_writepages first tag DIRTY pages TOWRITE and then write only
// TOWRITE pages, so a writer that keeps dirtying cannot livelock it;
// nr_to_write is decremented in wbc directly; no congestion bail-out.
func writeCachePages3x(t *sim.Task, mapping *AddressSpace, wbc *WritebackControl, writepage WritepageFunc, data any) int {
	t.Enter("write_cache_pages")
	defer t.Leave()
	k := mapping.Host.Kernel
	ret := 0
	done := false
	var pvec Pagevec
	var writebackIndex, index, end, doneIndex uint64
	var cycled bool
	rangeWhole := false
	var tag int

	PagevecInit(&pvec, false)
	if wbc.RangeCyclic {
		writebackIndex = mapping.WritebackIndex // prev offset
		index = writebackIndex
		cycled = index == 0
		if mutant.On("wcp-cyclic-no-wrap") { // mutant: 31a12666d8f0 "mm: write_cache_pages cyclic fix"
			cycled = true
		}
		end = k.PgoffMax()
	} else {
		index = k.ULong(uint64(wbc.RangeStart >> PageCacheShift))
		end = k.ULong(uint64(wbc.RangeEnd >> PageCacheShift))
		if wbc.RangeStart == 0 && wbc.RangeEnd == LLONG_MAX {
			rangeWhole = true
		}
		cycled = true // ignore range_cyclic tests
	}
	if wbc.SyncMode == WB_SYNC_ALL || wbc.TaggedWritepages {
		tag = PAGECACHE_TAG_TOWRITE
	} else {
		tag = PAGECACHE_TAG_DIRTY
	}
retry:
	if wbc.SyncMode == WB_SYNC_ALL || wbc.TaggedWritepages {
		TagPagesForWriteback(t, mapping, index, end)
	}
	doneIndex = index
	for !done && index <= end {
		nrPages := PagevecLookupTag(t, &pvec, mapping, &index, tag,
			int(min(end-index, PAGEVEC_SIZE-1)+1))
		if nrPages == 0 {
			break
		}
		for i := 0; i < nrPages; i++ {
			page := pvec.Pages[i]

			// The page may be truncated or invalidated; page->index will
			// not change because we hold a reference on the page.
			if page.Index > end {
				// can't be range_cyclic (1st pass) because end == -1 then
				done = true
				break
			}
			doneIndex = page.Index

			LockPage(t, page)

			// Page truncated or invalidated: skip it, even for data
			// integrity operations.
			if page.Mapping != mapping {
				UnlockPage(t, page)
				continue
			}
			if !PageDirty(page) {
				// someone wrote it for us
				UnlockPage(t, page)
				continue
			}
			if PageWriteback(page) {
				// mutant: integrity skips a page under writeback (515f4a037fb9 relies on the wait)
				if wbc.SyncMode != WB_SYNC_NONE && !mutant.On("wcp-skip-writeback") {
					WaitOnPageWriteback(t, page)
				} else {
					UnlockPage(t, page)
					continue
				}
			}
			if PageWriteback(page) {
				t.BUG(page.Obj(), "write_cache_pages: BUG_ON(PageWriteback(page))")
			}
			if ClearPageDirtyForIO(t, page) == 0 {
				UnlockPage(t, page)
				continue
			}

			err := writepage(t, page, wbc, data)
			if err != 0 {
				if err == AOP_WRITEPAGE_ACTIVATE {
					UnlockPage(t, page)
					err = 0
				} else if !k.WBIntegrityError || wbc.SyncMode != WB_SYNC_ALL {
					// done_index is set past this page, so media errors
					// will not choke background writeout for the entire
					// file.
					ret = err
					doneIndex = k.ULong(page.Index + 1)
					done = true
					if !mutant.On("wcp-error-overwritten") { // mutant: 00266770b8b3 "... writepage error fix"
						break
					}
				}
				// Kernel.WBIntegrityError: integrity writeback goes on
				// and returns the first error.
				if ret == 0 {
					ret = err
				}
			}

			// Stop only if not doing integrity sync: an integrity sync
			// goes on until every page tagged before the loop is written.
			wbc.NrToWrite--
			// mutant: 05fe478dd04e "mm: write_cache_pages integrity fix" undone
			if wbc.NrToWrite <= 0 && (wbc.SyncMode == WB_SYNC_NONE || mutant.On("wcp-integrity-nr-stop")) {
				done = true
				break
			}
		}
		PagevecRelease(t, &pvec)
		t.CondResched()
	}
	if !cycled && !done {
		// range_cyclic: wrap back to the start of the file.
		cycled = true
		index = 0
		end = writebackIndex - 1
		goto retry
	}
	if wbc.RangeCyclic || (rangeWhole && wbc.NrToWrite > 0) {
		mapping.WritebackIndex = doneIndex
	}
	return ret
}

// writepageData is __writepage, mm/page-writeback.c, 2.6.32 and 3.1.10
// (read): the
// callback generic_writepages hands write_cache_pages: the mapping's
// ->writepage, and mapping_set_error on failure.
func writepageData(t *sim.Task, p *Page, wbc *WritebackControl, data any) int {
	mapping := data.(*AddressSpace)
	ret := mapping.AOps.(WritepageOp).Writepage(t, p, wbc)
	MappingSetError(t, mapping, ret)
	return ret
}

// GenericWritepages is generic_writepages(mapping, wbc),
// mm/page-writeback.c, 2.6.32 and 3.1.10 (read): write_cache_pages with
// ->writepage; 0 for a mapping without ->writepage (chardevs and other
// special files). 3.x wraps the walk in blk_start_plug/blk_finish_plug;
// the model's writepage paths plug where they need to (mpage), so this
// one does not.
// In 2.6.12 generic_writepages is mpage_writepages(mapping, wbc, NULL),
// which lives in model/mpage: it is called through Kernel.MpageWritepages.
func GenericWritepages(t *sim.Task, mapping *AddressSpace, wbc *WritebackControl) int {
	k := mapping.Host.Kernel
	if !k.Era().WriteCachePages {
		if k.MpageWritepages == nil {
			panic("mm: 2.6.12 generic_writepages needs Kernel.MpageWritepages (model/mpage)")
		}
		return k.MpageWritepages(t, mapping, wbc)
	}
	// deal with chardevs and other special files
	if _, ok := mapping.AOps.(WritepageOp); !ok {
		return 0
	}
	return WriteCachePages(t, mapping, wbc, writepageData, mapping)
}

// DoWritepages is do_writepages(mapping, wbc), mm/page-writeback.c:
// ->writepages if the mapping has it, else generic_writepages. From 2.6.12
// it set wbc->for_writepages around the call, as 2.6.23's text in
// torvalds/linux 00128188 does; 2.6.32 (zybsyzlz/linux-2.6.32 ec78931d)
// and 3.1.10, read, do not; the model keeps the flag for the whole 2.6.2x
// era, where nothing reads it (Era.WbcForWritepages). Not kernel code:
// the calls to ObserveWritepages around ->writepages, for the checks.
func DoWritepages(t *sim.Task, mapping *AddressSpace, wbc *WritebackControl) int {
	t.Enter("do_writepages")
	defer t.Leave()
	if wbc.NrToWrite <= 0 {
		return 0
	}
	forWritepages := mapping.Host.Kernel.Era().WbcForWritepages
	if forWritepages {
		wbc.ForWritepages = true
	}
	var ret int
	ObserveWritepages(t, mapping, wbc, false)
	if wp, ok := mapping.AOps.(WritepagesOp); ok {
		ret = wp.Writepages(t, mapping, wbc)
	} else {
		ret = GenericWritepages(t, mapping, wbc)
	}
	ObserveWritepages(t, mapping, wbc, true)
	if forWritepages {
		wbc.ForWritepages = false
	}
	return ret
}

// ObserveWritepages tells the kernel's WritepagesObserver, if any, of a
// ->writepages call on mapping beginning (done false) or returning.
func ObserveWritepages(t *sim.Task, mapping *AddressSpace, wbc *WritebackControl, done bool) {
	if o := mapping.Host.Kernel.WritepagesObserver; o != nil {
		o(t, mapping, wbc, done)
	}
}

// WriteOnePage is write_one_page(page, wait), mm/page-writeback.c, Linux
// 2.6.32 (read; 3.1.10 is the same): write a locked page with ->writepage and optionally wait for
// it; the page is unlocked on return. Returns -EIO if the write failed.
func WriteOnePage(t *sim.Task, p *Page, wait bool) int {
	mapping := p.Mapping
	ret := 0
	wbc := &WritebackControl{SyncMode: WB_SYNC_ALL, NrToWrite: 1}
	if !PageLocked(p) {
		pageStateBUG(t, p, "write_one_page of unlocked page", "write_one_page needs the page locked.")
	}
	if wait {
		WaitOnPageWriteback(t, p)
	}
	if ClearPageDirtyForIO(t, p) != 0 {
		PageCacheGet(t, p)
		ret = mapping.AOps.(WritepageOp).Writepage(t, p, wbc)
		if ret == 0 && wait {
			WaitOnPageWriteback(t, p)
			if PageError(p) {
				ret = errno.EIO.Neg()
			}
		}
		PageCacheRelease(t, p)
	} else {
		UnlockPage(t, p)
	}
	return ret
}

// FilemapFdatawriteRangeInner is __filemap_fdatawrite_range(mapping, start,
// end, sync_mode), mm/filemap.c: Linux 2.6.32 (zybsyzlz/linux-2.6.32
// ec78931d and Edgar86/boston-2.6.32.x fc2d0360, read via the search
// tool; 3.0's is the same) (nr_to_write LONG_MAX, range_start/range_end)
// for 2.6.2x and 3.x; 2.6.12's version asks for
// nrpages*2 pages and passes the range in wbc->start/end, where 0,0 means
// the whole file.
func FilemapFdatawriteRangeInner(t *sim.Task, mapping *AddressSpace, start, end int64, syncMode WritebackSyncMode) int {
	t.Enter("__filemap_fdatawrite_range")
	defer t.Leave()
	wbc := &WritebackControl{SyncMode: syncMode, NrToWrite: LLONG_MAX, RangeStart: start, RangeEnd: end}
	if mapping.Host.Kernel.Era().FdatawriteWholeFile {
		wbc.NrToWrite = int64(mapping.NrPages) * 2
		wbc.RangeStart, wbc.RangeEnd = 0, 0
		if !(start == 0 && end == LLONG_MAX) {
			wbc.Start, wbc.End = start, end
		}
	}
	if !MappingCapWritebackDirty(mapping) {
		return 0
	}
	return DoWritepages(t, mapping, wbc)
}

// FilemapFdatawrite is filemap_fdatawrite(mapping): start integrity
// writeback (WB_SYNC_ALL) of the whole file.
func FilemapFdatawrite(t *sim.Task, mapping *AddressSpace) int {
	return FilemapFdatawriteRangeInner(t, mapping, 0, LLONG_MAX, WB_SYNC_ALL)
}

// FilemapFdatawriteRange is filemap_fdatawrite_range(mapping, start, end).
func FilemapFdatawriteRange(t *sim.Task, mapping *AddressSpace, start, end int64) int {
	return FilemapFdatawriteRangeInner(t, mapping, start, end, WB_SYNC_ALL)
}

// FilemapFlush is filemap_flush(mapping): a mostly non-blocking flush
// (WB_SYNC_NONE), not for data integrity.
func FilemapFlush(t *sim.Task, mapping *AddressSpace) int {
	return FilemapFdatawriteRangeInner(t, mapping, 0, LLONG_MAX, WB_SYNC_NONE)
}

// WaitOnPageWritebackRange is wait_on_page_writeback_range(mapping, start,
// end), mm/filemap.c, Linux 2.6.32 (zybsyzlz/linux-2.6.32 ec78931d and
// Edgar86/boston-2.6.32.x fc2d0360, read via the search tool), and
// filemap_fdatawait_range's body in 3.x (Linux 3.0,
// CyanogenMod/android_kernel_samsung_smdk4412 01444eec, read): wait for
// every page in [start, end] tagged WRITEBACK, then report errors.
//
// The error semantics are what the fsync-error checks are about, so
// precisely:
//
//   - A page that ends writeback with PG_error set gives -EIO. In 2.6.12
//     and 2.6.2x (PageError; 2.6.32 still reads so) the flag stays, so
//     every later wait over that page while it is under writeback reports
//     -EIO again (nothing but a read or the page leaving the cache clears
//     it); in 3.x and afs-2.6.3x (TestClearPageError, read in 3.0) the
//     first waiter clears it and later ones see nothing. Only pages still tagged WRITEBACK when the walk
//     reaches them are looked at: a page whose failed write completed
//     before the walk is not found here at all.
//   - Then AS_ENOSPC and AS_EIO on the mapping, each with
//     test_and_clear_bit: the first caller after an asynchronous write
//     error consumes it and returns it; a second fsync returns 0. -EIO
//     wins over -ENOSPC when both are set. This is the "linux-2.6"
//     fsync-error contract: an error is reported once, to whoever asks
//     first, whichever file descriptor that is.
func WaitOnPageWritebackRange(t *sim.Task, mapping *AddressSpace, start, end uint64) int {
	t.Enter("wait_on_page_writeback_range")
	defer t.Leave()
	k := mapping.Host.Kernel
	var pvec Pagevec
	ret := 0
	if end < start {
		return 0
	}
	PagevecInit(&pvec, false)
	index := start
	for index <= end {
		nrPages := PagevecLookupTag(t, &pvec, mapping, &index, PAGECACHE_TAG_WRITEBACK,
			int(min(end-index, PAGEVEC_SIZE-1)+1))
		if nrPages == 0 {
			break
		}
		for i := 0; i < nrPages; i++ {
			page := pvec.Pages[i]
			// until radix tree lookup accepts end_index
			// mutant: "page->index >= end", the last page of the range not waited on
			if page.Index > end || (page.Index == end && mutant.On("fdatawait-skip-last")) {
				continue
			}
			WaitOnPageWriteback(t, page)
			if k.PageErrorSticky {
				if PageError(page) {
					ret = errno.EIO.Neg()
				}
			} else if TestClearPageError(t, page) {
				ret = errno.EIO.Neg()
			}
		}
		PagevecRelease(t, &pvec)
		t.CondResched()
		if index == 0 { // wrapped past the last index
			break
		}
	}
	// Check for outstanding write errors
	if MappingTestAndClearFlag(t, mapping, AS_ENOSPC) {
		ret = errno.ENOSPC.Neg()
	}
	// mutant: AS_EIO unreported, the loss errseq ("fs: new infrastructure for writeback error handling") ended
	if !mutant.On("fdatawait-lost-eio") && MappingTestAndClearFlag(t, mapping, AS_EIO) {
		ret = errno.EIO.Neg()
	}
	if ret != 0 {
		// Not kernel code: a trace record, not a scheduling point.
		t.World().Record(sim.KindPoint, TraceWritebackError, mapping.Obj(), int64(-ret), "")
	}
	return ret
}

// TraceWritebackError is the trace record (a KindPoint, with the
// mapping's Obj and the errno as Arg) that WaitOnPageWritebackRange
// leaves when it reports a writeback error: PG_error on a page it waited
// on, or AS_ENOSPC/AS_EIO, which it has just tested and cleared. It is
// not a scheduling point and not kernel code: it lets an observer learn
// which mappings' errors a caller that drops the result (sync(2)'s
// filemap_fdatawait) consumed.
const TraceWritebackError = "writeback_error"

// TraceWritepageError is the trace record (a KindPoint, with the page's
// Obj and the errno as Arg) of an error that a ->writepage, or an AFS
// store of pages, returned to the writeback code that called it. Like
// TraceWritebackError it is not a scheduling point and not kernel code:
// it lets the writepages-error check (check.Writepages) see the errors
// met inside a ->writepages call. model/afs records it after a failed
// store; the runner's a_ops wrapper records it for blockfs's ->writepage.
const TraceWritepageError = "writepage_error"

// FilemapFdatawaitRange is filemap_fdatawait_range(mapping, start_byte,
// end_byte): wait_on_page_writeback_range over the pages covering the
// bytes. 2.6.32's (read) converts to page indexes first, so an empty byte
// range inside one page still waits on that page and consumes AS_EIO;
// 3.0's (read), which inlines the loop, returns 0 for end_byte <
// start_byte first.
func FilemapFdatawaitRange(t *sim.Task, mapping *AddressSpace, startByte, endByte int64) int {
	k := mapping.Host.Kernel
	if endByte < startByte && k.Era().FdatawaitEmptyRange {
		return 0
	}
	return WaitOnPageWritebackRange(t, mapping, k.ULong(uint64(startByte>>PageCacheShift)),
		k.ULong(uint64(endByte>>PageCacheShift)))
}

// FilemapFdatawait is filemap_fdatawait(mapping), mm/filemap.c (the same
// in all modelled eras): wait on pages up to i_size only. A page under
// writeback beyond EOF (after a racing truncate shrank i_size) is not
// waited on; with i_size 0 nothing is, and no AS_EIO is consumed.
func FilemapFdatawait(t *sim.Task, mapping *AddressSpace) int {
	iSize := ISizeRead(mapping.Host)
	if iSize == 0 {
		return 0
	}
	return WaitOnPageWritebackRange(t, mapping, 0, mapping.Host.Kernel.ULong(uint64((iSize-1)>>PageCacheShift)))
}

// FilemapWriteAndWait is filemap_write_and_wait(mapping), mm/filemap.c:
// Linux 2.6.32 (read via the search tool; 3.0 the same) for 2.6.2x and 3.x (wait even after a write error, except
// -EIO); 2.6.12 waits only if the write returned 0.
func FilemapWriteAndWait(t *sim.Task, mapping *AddressSpace) int {
	err := 0
	if mapping.NrPages != 0 {
		err = FilemapFdatawrite(t, mapping)
		if !mapping.Host.Kernel.Era().WriteAndWaitAfterError {
			if err == 0 {
				err = FilemapFdatawait(t, mapping)
			}
			return err
		}
		// Even if the above returned error, the pages may be written
		// partially (e.g. -ENOSPC), so we wait for it. But -EIO is a
		// special case: it may mean the worst happened, so don't wait.
		if err != errno.EIO.Neg() {
			err2 := FilemapFdatawait(t, mapping)
			if err == 0 {
				err = err2
			}
		}
	}
	return err
}

// FilemapWriteAndWaitRange is filemap_write_and_wait_range(mapping,
// lstart, lend), mm/filemap.c, Linux 2.6.32 (read via the search tool;
// 3.0 calls filemap_fdatawait_range, the same pages).
func FilemapWriteAndWaitRange(t *sim.Task, mapping *AddressSpace, lstart, lend int64) int {
	err := 0
	if mapping.NrPages != 0 {
		mode := WB_SYNC_ALL
		if mutant.On("fsync-sync-none") { // mutant: ee53a891f474 "mm: do_sync_mapping_range integrity fix" undone
			mode = WB_SYNC_NONE
		}
		err = FilemapFdatawriteRangeInner(t, mapping, lstart, lend, mode)
		// See the comment of filemap_write_and_wait()
		if err != errno.EIO.Neg() {
			k := mapping.Host.Kernel
			err2 := WaitOnPageWritebackRange(t, mapping, k.ULong(uint64(lstart>>PageCacheShift)),
				k.ULong(uint64(lend>>PageCacheShift)))
			if err == 0 {
				err = err2
			}
		}
	}
	return err
}
