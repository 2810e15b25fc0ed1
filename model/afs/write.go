package afs

import (
	"fmt"
	"runtime/debug"

	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// fs/afs/write.c of the 2.6.3x era: every function of the seed
// (../../shared/seeds/afs-write-2.6.3x.c), in seed order. Line ranges are
// the seed's. Each enters with Task.EnterAt, citing the seed line where
// its definition starts, for narrated traces.

// AfsSetPageDirty is afs_set_page_dirty(page): mark a page as having been
// made dirty and thus needing writeback.
//
// Kernel function afs_set_page_dirty, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:22-29.
func AfsSetPageDirty(t *sim.Task, page *mm.Page) int {
	t.EnterAt("afs_set_page_dirty", "afs-write-2.6.3x.c:25")
	defer t.Leave()
	return mm.SetPageDirtyNobuffers(t, page)
}

// AfsUnlinkWriteback is afs_unlink_writeback(wb): unlink a writeback record
// because its usage has reached zero; if an fsync marker rises to the
// front of the queue, complete it and wake it. Called with
// wb->vnode->writeback_lock held.
//
// Kernel function afs_unlink_writeback, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:31-52.
func AfsUnlinkWriteback(t *sim.Task, wb *Writeback) {
	t.EnterAt("afs_unlink_writeback", "afs-write-2.6.3x.c:35")
	defer t.Leave()
	wbLive(t, wb, "afs_unlink_writeback")
	vnode := wb.Vnode
	ListDelInit(t, &wb.Link)
	if !ListEmpty(&vnode.Writebacks) {
		// if an fsync rises to the front of the queue then wake it up
		front := deref(t, vnode.Writebacks.next, "list_entry").wb
		wbLive(t, front, "afs_unlink_writeback")
		if front.State == AFS_WBACK_SYNCING {
			front.State = AFS_WBACK_COMPLETE
			front.Waitq.WakeUp(t)
		}
	}
}

// AfsFreeWriteback is afs_free_writeback(wb): drop the record's key and
// free it.
//
// Kernel function afs_free_writeback, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:54-62.
func AfsFreeWriteback(t *sim.Task, wb *Writeback) {
	t.EnterAt("afs_free_writeback", "afs-write-2.6.3x.c:57")
	defer t.Leave()
	wbLive(t, wb, "afs_free_writeback")
	KeyPut(t, wb.Key)
	kfreeWriteback(t, wb)
}

// AfsPutWriteback is afs_put_writeback(wb): dispose of a reference to a
// writeback record; the last one unlinks and frees it.
//
// Kernel function afs_put_writeback, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:64-81.
func AfsPutWriteback(t *sim.Task, wb *Writeback) {
	t.EnterAt("afs_put_writeback", "afs-write-2.6.3x.c:67")
	defer t.Leave()
	wbLive(t, wb, "afs_put_writeback")
	vnode := wb.Vnode
	vnode.WritebackLock.Lock(t)
	wb.Usage--
	usageCheck(t, wb, "afs_put_writeback")
	if wb.Usage == 0 {
		AfsUnlinkWriteback(t, wb)
	} else {
		wb = nil
	}
	vnode.WritebackLock.Unlock(t)
	if wb != nil {
		AfsFreeWriteback(t, wb)
	}
}

// pageBUG is a BUG() on a page's state (clear_page_dirty_for_io found it
// clean, test_set_page_writeback found it under writeback): a failure of
// kind bug with the page-state invariant, as mm raises its own.
func pageBUG(t *sim.Task, p *mm.Page, msg string) {
	t.World().Fail(&sim.Failure{Kind: sim.FailBug, Invariant: mm.InvPageState, Obj: p.Obj(),
		Msg: "kernel BUG: " + msg,
		Explain: "afs_write_back_from_locked_page BUG()s when a page it is about to write is not dirty " +
			"or is already under writeback: the page's flags disagree with what the caller checked.",
		Stack: string(debug.Stack())})
}

// usageCheck raises wb-record when a record's usage went below zero: more
// references were dropped than taken, which in the kernel leaves a record
// that will be freed while still in use.
func usageCheck(t *sim.Task, wb *Writeback, op string) {
	if wb.Usage < 0 {
		wbFail(t, wb, fmt.Sprintf("%s: usage of %s went below zero", op, wb),
			"A writeback record's usage counts the pages whose page->private points to it (and an "+
				"fsync marker's own reference). It went negative: a reference was dropped twice, so the "+
				"record was (or will be) freed while a page still points to it.")
	}
}

// AfsFillPage is afs_fill_page(vnode, key, pos, len, page): partly or
// wholly fill a page that's under preparation for writing. The seed
// fetches from file offset 0, eof bytes (see Fixes.FillPageOffset).
//
// Kernel function afs_fill_page, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:83-115.
func AfsFillPage(t *sim.Task, vnode *Vnode, key *Key, pos int64, length uint, page *mm.Page) int {
	t.EnterAt("afs_fill_page", "afs-write-2.6.3x.c:86")
	defer t.Leave()
	if length > mm.PageCacheSize {
		t.BUG(page.Obj(), "AFS: Assertion failed in afs_fill_page: len <= PAGE_CACHE_SIZE")
	}
	var eof uint32
	iSize := mm.ISizeRead(vnode.VFSInode)
	if pos+int64(length) > iSize {
		eof = uint32(iSize)
	} else {
		eof = mm.PageCacheSize
	}
	var ret int
	if vnode.fs.Fixes.FillPageOffset {
		// later kernels: the page's own bytes
		ret = AfsVnodeFetchData(t, vnode, key, pos&^(mm.PageCacheSize-1), mm.PageCacheSize, page)
	} else {
		ret = AfsVnodeFetchData(t, vnode, key, 0, int64(eof), page)
	}
	if ret < 0 {
		if ret == errno.ENOENT.Neg() {
			// got NOENT from server - marking file deleted and stale
			vnode.setBit(t, AFS_VNODE_DELETED)
			ret = ESTALE.Neg()
		}
	}
	return ret
}

// AfsWriteBegin is afs_write_begin(file, mapping, pos, len, flags, pagep,
// fsdata): prepare to perform part of a write to a page. It returns with
// the page locked and referenced, and page->private pointing to a
// writeback record of the file's key that covers the page: the page's own
// (subsume_in_current_wb), the previous page's record extended by one
// (append_to_previous_wb), or a new one. A page bound to a record it
// cannot join is first written back synchronously (flush_conflicting_wb).
//
// Kernel function afs_write_begin, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:117-241.
func AfsWriteBegin(t *sim.Task, file *File, mapping *mm.AddressSpace, pos int64, length, flags uint,
	pagep **mm.Page, fsdata *any) int {
	t.EnterAt("afs_write_begin", "afs-write-2.6.3x.c:120")
	defer t.Leave()
	vnode := file.Vnode
	fs := vnode.fs
	key := file.Key
	from := uint(pos & (mm.PageCacheSize - 1))
	to := from + length
	index := uint64(pos >> mm.PageCacheShift)
	var (
		candidate, wb *Writeback
		page          *mm.Page
		ret           int
		found         bool
	)

	candidate = fs.kzallocWriteback(vnode)
	if fs.Fixes.CandidateListInit {
		INIT_LIST_HEAD(&candidate.Link)
	}
	candidate.Vnode = vnode
	candidate.First, candidate.Last = index, index
	candidate.OffsetFirst = from
	candidate.ToLast = to
	candidate.Usage = 1
	candidate.State = AFS_WBACK_PENDING
	candidate.Waitq = sim.WaitQueue{Name: "afs_writeback waitq", Obj: candidate.Obj()}

	page = mm.GrabCachePageWriteBegin(t, mapping, index, flags)
	if page == nil {
		kfreeWriteback(t, candidate)
		return errno.ENOMEM.Neg()
	}
	*pagep = page
	// page won't leak in error case: it eventually gets cleaned off LRU

	if !mm.PageUptodate(page) {
		// not up to date
		ret = AfsFillPage(t, vnode, key, pos, length, page)
		if ret < 0 {
			if fs.Fixes.WriteBeginLeak {
				// v4.11 "afs: Fix page leak in afs_write_begin()"
				mm.UnlockPage(t, page)
				mm.PutPage(t, page)
			}
			kfreeWriteback(t, candidate)
			return ret // [prep]
		}
		mm.SetPageUptodate(t, page)
	}

try_again:
	vnode.WritebackLock.Lock(t)

	// see if this page is already pending a writeback under a suitable key
	// - if so we can just join onto that one
	wb = pagePrivateWb(page)
	if wb != nil {
		wbLive(t, wb, "afs_write_begin")
		if wb.Key == key && wb.State == AFS_WBACK_PENDING {
			goto subsume_in_current_wb
		}
		goto flush_conflicting_wb
	}

	if index > 0 {
		// see if we can find an already pending writeback that we can
		// append this page to
		found = false
		listForEachEntry(t, &vnode.Writebacks, func(x *Writeback) bool {
			wbLive(t, x, "list_for_each_entry")
			if x.Last == index-1 && x.Key == key && x.State == AFS_WBACK_PENDING {
				wb, found = x, true
				return false
			}
			return true
		})
		if found {
			goto append_to_previous_wb
		}
	}

	ListAddTail(t, &candidate.Link, &vnode.Writebacks)
	candidate.Key = KeyGet(t, key)
	vnode.WritebackLock.Unlock(t)
	mm.SetPagePrivate(t, page)
	mm.SetPagePrivateData(t, page, candidate)
	return 0 // [new]

subsume_in_current_wb:
	// subsume
	if !(wb.First <= index && index <= wb.Last) {
		t.BUG(page.Obj(), "AFS: Assertion failed in afs_write_begin: %d <= %d <= %d", wb.First, index, wb.Last)
	}
	if index == wb.First && from < wb.OffsetFirst {
		wb.OffsetFirst = from
	}
	if index == wb.Last && to > wb.ToLast {
		wb.ToLast = to
	}
	vnode.WritebackLock.Unlock(t)
	kfreeWriteback(t, candidate)
	return 0 // [sub]

append_to_previous_wb:
	// append into wb->first-wb->last
	wb.Usage++
	wb.Last++
	wb.ToLast = to
	vnode.WritebackLock.Unlock(t)
	mm.SetPagePrivate(t, page)
	mm.SetPagePrivateData(t, page, wb)
	kfreeWriteback(t, candidate)
	return 0 // [app]

	// the page is currently bound to another context, so if it's dirty we
	// need to flush it before we can use the new context
flush_conflicting_wb:
	// flush conflict
	if wb.State == AFS_WBACK_PENDING {
		wb.State = AFS_WBACK_CONFLICTING
	}
	vnode.WritebackLock.Unlock(t)
	if fs.Fixes.FlushConflictWaitWriteback {
		mm.WaitOnPageWriteback(t, page) // v4.15's write_one_page waits first
	}
	if mm.PageDirty(page) {
		ret, _ = AfsWriteBackFromLockedPage(t, wb, page)
		if ret < 0 {
			AfsPutWriteback(t, candidate)
			if fs.Fixes.FlushConflictPageLeak {
				// v4.15's write_one_page unlocks; "afs: Fix page leak
				// on afs_write_begin() failure" puts
				mm.UnlockPage(t, page)
				mm.PutPage(t, page)
			}
			return ret
		}
	}

	// the page holds a ref on the writeback record
	if !fs.Fixes.FlushConflictDoublePut || pagePrivateWb(page) == wb {
		AfsPutWriteback(t, wb)
		mm.SetPagePrivateData(t, page, nil)
		mm.ClearPagePrivate(t, page)
	}
	goto try_again
}

// AfsWriteEnd is afs_write_end(file, mapping, pos, len, copied, page,
// fsdata): finalise part of a write to a page: extend i_size under the
// writeback_lock, dirty the page, unlock and release it.
//
// Kernel function afs_write_end, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:243-274.
func AfsWriteEnd(t *sim.Task, file *File, mapping *mm.AddressSpace, pos int64, length, copied uint,
	page *mm.Page, fsdata any) int {
	t.EnterAt("afs_write_end", "afs-write-2.6.3x.c:246")
	defer t.Leave()
	vnode := file.Vnode
	maybeISize := pos + int64(copied)

	iSize := mm.ISizeRead(vnode.VFSInode)
	if maybeISize > iSize {
		vnode.WritebackLock.Lock(t)
		iSize = mm.ISizeRead(vnode.VFSInode)
		if maybeISize > iSize {
			mm.ISizeWrite(t, vnode.VFSInode, maybeISize)
		}
		vnode.WritebackLock.Unlock(t)
	}

	mm.SetPageDirty(t, page)
	mm.UnlockPage(t, page)
	mm.PageCacheRelease(t, page)
	return int(copied)
}

// AfsKillPages is afs_kill_pages(vnode, error, first, last): kill all the
// pages in the given range after a failed store: clear Uptodate, set
// PG_error if error, end writeback. The seed never advances first (see
// Fixes.KillPagesLoop).
//
// Kernel function afs_kill_pages, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:276-311.
func AfsKillPages(t *sim.Task, vnode *Vnode, isError bool, first, last uint64) {
	t.EnterAt("afs_kill_pages", "afs-write-2.6.3x.c:279")
	defer t.Leave()
	fix := vnode.fs.Fixes.KillPagesLoop
	var pv mm.Pagevec
	mm.PagevecInit(&pv, false)
	for {
		// kill first-last
		count := last - first + 1
		if count > mm.PAGEVEC_SIZE {
			count = mm.PAGEVEC_SIZE
		}
		pv.Nr = mm.FindGetPagesContig(t, vnode.Mapping(), first, int(count), pv.Pages[:])
		if uint64(pv.Nr) != count {
			t.BUG(vnode.Obj(), "AFS: Assertion failed in afs_kill_pages: pv.nr == count (%d == %d)", pv.Nr, count)
		}
		for loop := uint64(0); loop < count; loop++ {
			page := pv.Pages[loop]
			mm.ClearPageUptodate(t, page)
			if isError {
				mm.SetPageError(t, page)
			}
			if !fix || mm.PageWriteback(page) {
				mm.EndPageWriteback(t, page)
			}
			if fix && page.Index >= first {
				first = page.Index + 1
			}
		}
		mm.PagevecReleaseInner(t, &pv)
		if fix {
			if !(first <= last) {
				break
			}
		} else if !(first < last) {
			break
		}
	}
}

// afsRedirtyPages is the later kernels' afs_redirty_pages(wbc, mapping,
// first, last) (v4.15, fs/afs/write.c): put the pages back to dirty and
// end their writeback, so that they are written again later. It is what
// the EnospcStuckWriteback and KeyErrorSilentLoss fixes do instead of the
// seed's handling. The seed's afs_write_back_from_locked_page has no wbc,
// so redirty_page_for_writepage's pages_skipped is not counted.
func afsRedirtyPages(t *sim.Task, mapping *mm.AddressSpace, first, last uint64) {
	t.Enter("afs_redirty_pages")
	defer t.Leave()
	var pv mm.Pagevec
	mm.PagevecInit(&pv, false)
	for {
		count := last - first + 1
		if count > mm.PAGEVEC_SIZE {
			count = mm.PAGEVEC_SIZE
		}
		pv.Nr = mm.FindGetPagesContig(t, mapping, first, int(count), pv.Pages[:])
		if uint64(pv.Nr) != count {
			t.BUG(mapping.Obj(), "AFS: Assertion failed in afs_redirty_pages: pv.nr == count (%d == %d)", pv.Nr, count)
		}
		for loop := uint64(0); loop < count; loop++ {
			mm.SetPageDirtyNobuffers(t, pv.Pages[loop]) // redirty_page_for_writepage
			mm.EndPageWriteback(t, pv.Pages[loop])
		}
		mm.PagevecReleaseInner(t, &pv)
		first += count
		if first > last {
			break
		}
	}
}

// AfsWriteBackFromLockedPage is afs_write_back_from_locked_page(wb,
// primary_page): synchronously write back the locked page and any
// subsequent non-locked dirty pages also covered by the same writeback
// record. It returns the number of pages stored, or the store's error
// after handling it by errno group (the switch keeps every case), and
// the index of the store's last page (not kernel: the seed returns only
// ret; Fixes.WritepagesSyncError's region goes on after it).
//
// Kernel function afs_write_back_from_locked_page, fs/afs/write.c, era
// 2.6.3x, afs-write-2.6.3x.c:313-433.
func AfsWriteBackFromLockedPage(t *sim.Task, wb *Writeback, primaryPage *mm.Page) (int, uint64) {
	t.EnterAt("afs_write_back_from_locked_page", "afs-write-2.6.3x.c:317")
	defer t.Leave()
	wbLive(t, wb, "afs_write_back_from_locked_page")
	var (
		pages              [8]*mm.Page
		page               *mm.Page
		count              uint64
		n                  uint64
		offset, to         uint
		start, first, last uint64
		loop               uint64
		ret                int
		mapping            = wb.Vnode.Mapping()
		fixes              = wb.Vnode.fs.Fixes
	)

	count = 1
	// fixes.WritepagesTowrite: a store started by a tagged sweep gathers
	// only the pages tagged with it (set_page_writeback clears the tag).
	tagged := fixes.WritepagesTowrite && mapping.PageTree.TagGet(primaryPage.Index, mm.PAGECACHE_TAG_TOWRITE)
	if mm.ClearPageDirtyForIO(t, primaryPage) == 0 {
		pageBUG(t, primaryPage, "afs_write_back_from_locked_page: primary page not dirty")
	}
	if mm.TestSetPageWriteback(t, primaryPage) {
		pageBUG(t, primaryPage, "afs_write_back_from_locked_page: primary page already under writeback")
	}

	// find all consecutive lockable dirty pages, stopping when we find a
	// page that is not immediately lockable, is not dirty or is missing,
	// or we reach the end of the range
	start = primaryPage.Index
	if start >= wb.Last {
		goto no_more
	}
	start++
	for {
		// more start [count]
		n = wb.Last - start + 1
		if n > uint64(len(pages)) {
			n = uint64(len(pages))
		}
		n = uint64(mm.FindGetPagesContig(t, mapping, start, int(n), pages[:]))
		if n == 0 {
			goto no_more
		}
		if pages[0].Index != start {
			for {
				n--
				mm.PutPage(t, pages[n])
				if n == 0 {
					break
				}
			}
			goto no_more
		}

		for loop = 0; loop < n; loop++ {
			page = pages[loop]
			if page.Index > wb.Last {
				break
			}
			if !mm.TrylockPage(t, page) {
				break
			}
			if !mm.PageDirty(page) || pagePrivateWb(page) != wb ||
				(fixes.SecondaryPageWriteback && mm.PageWriteback(page)) ||
				(tagged && !mapping.PageTree.TagGet(page.Index, mm.PAGECACHE_TAG_TOWRITE)) {
				mm.UnlockPage(t, page)
				break
			}
			if mm.ClearPageDirtyForIO(t, page) == 0 {
				pageBUG(t, page, "afs_write_back_from_locked_page: page not dirty")
			}
			if mm.TestSetPageWriteback(t, page) {
				pageBUG(t, page, "afs_write_back_from_locked_page: page already under writeback")
			}
			mm.UnlockPage(t, page)
			mm.PutPage(t, page)
		}
		count += loop
		if loop < n {
			for ; loop < n; loop++ {
				mm.PutPage(t, pages[loop])
			}
			goto no_more
		}

		start += loop
		if !(start <= wb.Last && count < 65536) {
			break
		}
	}

no_more:
	// we now have a contiguous set of dirty pages, each with writeback set
	// and the dirty mark cleared; the first page is locked and must remain
	// so, all the rest are unlocked
	first = primaryPage.Index
	last = first + count - 1

	offset = 0
	if first == wb.First {
		offset = wb.OffsetFirst
	}
	to = mm.PageSize
	// mutant: the store's length runs to the page end ("afs: Fix the maths in afs_fs_store_data()")
	if last == wb.Last && !mutant.On("afs-store-whole-last") {
		to = wb.ToLast
	}

	// write back first[offset..] to last[..to]
	ret = AfsVnodeStoreData(t, wb, first, last, offset, to)
	if ret < 0 {
		// Not kernel code: a trace record for the writepages-error check.
		t.World().Record(sim.KindPoint, mm.TraceWritepageError, primaryPage.Obj(), int64(-ret), "")
		switch errno.Errno(-ret) {
		case errno.EDQUOT, errno.ENOSPC:
			if fixes.EnospcStuckWriteback {
				afsRedirtyPages(t, mapping, first, last)
				mm.MappingSetError(t, mapping, errno.ENOSPC.Neg())
				break
			}
			mm.MappingSetFlag(t, mapping, mm.AS_ENOSPC)
		case errno.EROFS, errno.EIO, errno.EREMOTEIO, errno.EFBIG, errno.ENOENT, errno.ENOMEDIUM, errno.ENXIO:
			// mutant: the error is dropped, as key-error-silent-loss drops key errors
			AfsKillPages(t, wb.Vnode, !mutant.On("afs-eio-lost"), first, last)
			if !mutant.On("afs-eio-lost") {
				mm.MappingSetFlag(t, mapping, mm.AS_EIO)
			}
		case errno.EACCES, errno.EPERM, errno.ENOKEY, errno.EKEYEXPIRED, errno.EKEYREJECTED, errno.EKEYREVOKED:
			if fixes.KeyErrorSilentLoss {
				afsRedirtyPages(t, mapping, first, last)
				mm.MappingSetError(t, mapping, ret)
				break
			}
			AfsKillPages(t, wb.Vnode, false, first, last)
		default:
			if fixes.EnospcStuckWriteback {
				// v4.15: pr_notice("kAFS: Unexpected error from
				// FS.StoreData %d"), then as for the key errors
				afsRedirtyPages(t, mapping, first, last)
				mm.MappingSetError(t, mapping, ret)
			}
		}
	} else {
		ret = int(count)
	}
	return ret, last
}

// AfsWritepage is afs_writepage(page, wbc): write a page back to the
// server; the caller locked the page. Whatever the store's outcome it
// returns 0: an error is never reported to the caller (reclaim's pageout,
// write_cache_pages), only through the mapping flags or the page state
// afs_write_back_from_locked_page left.
//
// Kernel function afs_writepage, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:435-460.
func AfsWritepage(t *sim.Task, page *mm.Page, wbc *mm.WritebackControl) int {
	t.EnterAt("afs_writepage", "afs-write-2.6.3x.c:439")
	defer t.Leave()
	wb := pagePrivateWb(page)
	if wb == nil {
		t.BUG(page.Obj(), "AFS: Assertion failed in afs_writepage: wb != NULL")
	}
	ret, _ := AfsWriteBackFromLockedPage(t, wb, page)
	mm.UnlockPage(t, page)
	if ret < 0 {
		return 0
	}
	wbc.NrToWrite -= int64(ret)
	return 0
}

// AfsWritepagesRegion is afs_writepages_region(mapping, wbc, index, end,
// _next): write back the dirty pages of [index, end], one record run at a
// time; *next is where to resume.
//
// Kernel function afs_writepages_region, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:462-534.
func AfsWritepagesRegion(t *sim.Task, mapping *mm.AddressSpace, wbc *mm.WritebackControl, index, end uint64,
	next *uint64) int {
	t.EnterAt("afs_writepages_region", "afs-write-2.6.3x.c:465")
	defer t.Leave()
	fixes := AFS_FS_I(mapping.Host).fs.Fixes
	var (
		wb    *Writeback
		pages [1]*mm.Page
		page  *mm.Page
		ret   int
		last  uint64 // the store's last page
		err   int    // Fixes.WritepagesSyncError: the first error
	)
	// fixes.WritepagesTowrite: the later kernels' tagged integrity sweep.
	tag := mm.PAGECACHE_TAG_DIRTY
	if fixes.WritepagesTowrite && wbc.SyncMode == mm.WB_SYNC_ALL {
		tag = mm.PAGECACHE_TAG_TOWRITE
		mm.TagPagesForWriteback(t, mapping, index, end)
	}
	for first := true; first || (index < end && wbc.NrToWrite > 0); first = false {
		n := mm.FindGetPagesTag(t, mapping, &index, tag, 1, pages[:])
		if n == 0 {
			break
		}
		page = pages[0]
		// wback page->index

		if page.Index > end {
			*next = index
			mm.PageCacheRelease(t, page)
			return 0
		}

		// at this point we hold neither mapping->tree_lock nor lock on the
		// page itself: the page may be truncated or invalidated (changing
		// page->mapping to NULL), or even swizzled back from swapper_space
		// to tmpfs file mapping
		mm.LockPage(t, page)

		if page.Mapping != mapping {
			mm.UnlockPage(t, page)
			mm.PageCacheRelease(t, page)
			continue
		}

		// mutant: no wait for an older store (write_cache_pages' rule, 515f4a037fb9)
		if wbc.SyncMode != mm.WB_SYNC_NONE && !mutant.On("afs-region-no-wait") {
			mm.WaitOnPageWriteback(t, page)
		}

		if mm.PageWriteback(page) || !mm.PageDirty(page) {
			mm.UnlockPage(t, page)
			if fixes.WritepagesMissingPut {
				mm.PutPage(t, page) // v4.11 "afs: Fix missing put_page()"
			}
			continue
		}

		wb = pagePrivateWb(page)
		if wb == nil {
			t.BUG(page.Obj(), "AFS: Assertion failed in afs_writepages_region: wb != NULL")
		}
		wbLive(t, wb, "afs_writepages_region")

		wb.Vnode.WritebackLock.Lock(t)
		wb.State = AFS_WBACK_WRITING
		wb.Vnode.WritebackLock.Unlock(t)

		ret, last = AfsWriteBackFromLockedPage(t, wb, page)
		mm.UnlockPage(t, page)
		if !mutant.On("afs-region-leak") { // mutant: "afs: Fix missing put_page()"
			mm.PageCacheRelease(t, page)
		}
		if ret < 0 {
			if !fixes.WritepagesSyncError || wbc.SyncMode != mm.WB_SYNC_ALL {
				return ret
			}
			// The 4.20 rule: integrity writeback goes on past the
			// failed unit and returns the first error. In
			// write_cache_pages the lookup has already moved index
			// past the page (the folio: its error path's done_index is
			// folio->index + nr), so the sweep never meets it again;
			// here the unit is the store, which may have gathered the
			// pages after this one, and the lookup left index just
			// past the first: go on after the store's last page, or
			// the sweep meets the pages afs_redirty_pages redirtied
			// and stores them again (fsync-bounded; the DIRTY walk
			// always, the TOWRITE walk when another sweep tagged them).
			if err == 0 {
				err = ret
			}
			ret = 0
			index = mapping.Host.Kernel.ULong(last + 1)
		} else if tag == mm.PAGECACHE_TAG_TOWRITE {
			// fixes.WritepagesTowrite: netfs_writepages' iterator
			// (writeback_iter) yields each folio once per sweep, and
			// the store took the ones up to last: go on after it.
			// Resuming just past the first page, the sweep would store
			// again a gathered page that a writer redirtied and
			// another sweep tagged meanwhile (fsync-bounded;
			// TestFsyncBoundedAFSStoredPageRetagged).
			index = mapping.Host.Kernel.ULong(last + 1)
		}

		wbc.NrToWrite -= int64(ret)

		t.CondResched()
	}

	*next = index
	return err
}

// AfsWritepages is afs_writepages(mapping, wbc): write some of the pending
// data back to the server: cyclically from writeback_index, the whole
// file, or a byte range.
//
// Kernel function afs_writepages, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:536-568.
//
// next after a region error: the seed declares next without a value (542)
// and afs_writepages_region sets *_next only on its two normal returns
// (484, 531), not when a store fails (521-524). After such an error the
// cyclic branch still stores next in writeback_index (554), and so does
// the whole-file branch while nr_to_write > 0 (558-559): whatever the
// stack slot held. The model's next starts at 0 (Go's zero value) in every
// call, so after a region error writeback_index is 0. Why 0: the model
// must be deterministic and the stack's value is unknowable; 0 is a value
// the slot can hold, and the harmless one: the next cyclic pass starts at
// the file's first page, so it reaches every dirty page. Any other value
// only moves where that pass starts (its wrap, 0..start, covers the rest
// while nr_to_write lasts). TestWritepagesNextAfterRegionError.
func AfsWritepages(t *sim.Task, mapping *mm.AddressSpace, wbc *mm.WritebackControl) int {
	t.EnterAt("afs_writepages", "afs-write-2.6.3x.c:539")
	defer t.Leave()
	var start, end uint64
	next := uint64(0) // uninitialised in the seed (542): see above
	var ret int
	k := mapping.Host.Kernel
	fixes := AFS_FS_I(mapping.Host).fs.Fixes

	if wbc.RangeCyclic {
		start = mapping.WritebackIndex
		end = k.PgoffMax()
		ret = AfsWritepagesRegion(t, mapping, wbc, start, end, &next)
		sweep := ret == 0 || fixes.WritepagesSyncError && wbc.SyncMode == mm.WB_SYNC_ALL
		if start > 0 && wbc.NrToWrite > 0 && sweep {
			if ret2 := AfsWritepagesRegion(t, mapping, wbc, 0, start, &next); ret == 0 {
				ret = ret2
			}
		}
		mapping.WritebackIndex = next
	} else if wbc.RangeStart == 0 && wbc.RangeEnd == mm.LLONG_MAX {
		end = uint64(mm.LLONG_MAX >> mm.PageCacheShift)
		ret = AfsWritepagesRegion(t, mapping, wbc, 0, end, &next)
		if wbc.NrToWrite > 0 {
			mapping.WritebackIndex = next
		}
	} else {
		start = uint64(wbc.RangeStart >> mm.PageCacheShift)
		end = uint64(wbc.RangeEnd >> mm.PageCacheShift)
		ret = AfsWritepagesRegion(t, mapping, wbc, start, end, &next)
	}
	return ret
}

// AfsPagesWrittenBack is afs_pages_written_back(vnode, call): completion of
// a write to the server: end writeback on the stored pages, drop the
// record's usage for each page that still points to it, and unlink and
// free the record when none is left. It runs in the task that made the
// call (see rxrpc.go).
//
// Kernel function afs_pages_written_back, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:570-624.
func AfsPagesWrittenBack(t *sim.Task, vnode *Vnode, call *afsCall) {
	t.EnterAt("afs_pages_written_back", "afs-write-2.6.3x.c:573")
	defer t.Leave()
	wb := call.wb
	first, last := call.first, call.last
	var pv mm.Pagevec
	if wb == nil {
		t.BUG(vnode.Obj(), "AFS: Assertion failed in afs_pages_written_back: wb != NULL")
	}
	mm.PagevecInit(&pv, false)
	for {
		// done first-last
		count := last - first + 1
		if count > mm.PAGEVEC_SIZE {
			count = mm.PAGEVEC_SIZE
		}
		pv.Nr = mm.FindGetPagesContig(t, call.mapping, first, int(count), pv.Pages[:])
		if uint64(pv.Nr) != count {
			t.BUG(vnode.Obj(), "AFS: Assertion failed in afs_pages_written_back: pv.nr == count (%d == %d)", pv.Nr, count)
		}

		vnode.WritebackLock.Lock(t)
		for loop := uint64(0); loop < count; loop++ {
			page := pv.Pages[loop]
			mm.EndPageWriteback(t, page)
			if pagePrivateWb(page) == wb {
				// mutant: page->private outlives the record, as in flush-conflict-double-put
				if !mutant.On("afs-keeps-private") {
					mm.SetPagePrivateData(t, page, nil)
					mm.ClearPagePrivate(t, page)
				}
				wbLive(t, wb, "afs_pages_written_back")
				wb.Usage--
				usageCheck(t, wb, "afs_pages_written_back")
			}
		}
		freeWb := false
		wbLive(t, wb, "afs_pages_written_back")
		if wb.Usage == 0 {
			AfsUnlinkWriteback(t, wb)
			freeWb = true
		}
		vnode.WritebackLock.Unlock(t)
		first += count
		if freeWb {
			AfsFreeWriteback(t, wb)
			wb = nil
		}

		mm.PagevecReleaseInner(t, &pv)
		// mutant: "first < last", the loop end "afs: Fix afs_kill_pages()" fixed
		if !(first <= last) || (first == last && mutant.On("afs-written-back-last")) {
			break
		}
	}
}

// AfsFileWrite is afs_file_write(iocb, iov, nr_segs, pos): write to an AFS
// file: data (its length is count) at iocb.Pos through
// generic_file_aio_write on the caller's kiocb (pos is iocb->ki_pos, as
// do_sync_write passes it). generic_file_aio_write moves iocb.Pos past what
// it wrote, from where generic_write_checks put the write: i_size for
// O_APPEND, so the caller's f_pos ends at i_size + n. It returns the bytes
// written or a negative errno.
//
// Kernel function afs_file_write, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:626-657 (generic_file_aio_write: mm/filemap.c, Linux
// 2.6.32, model/vfs).
func AfsFileWrite(t *sim.Task, iocb *vfs.Kiocb, data content.Bytes) int64 {
	t.EnterAt("afs_file_write", "afs-write-2.6.3x.c:629")
	defer t.Leave()
	count := data.Len()
	// IS_SWAPFILE: never in the model
	if count == 0 {
		return 0
	}
	return vfs.GenericFileAioWrite(t, iocb, data)
}

// AfsWritebackAll is afs_writeback_all(vnode): flush the vnode to the
// fileserver: one WB_SYNC_ALL, range_cyclic ->writepages, then mark the
// inode's pages dirty again for the flusher.
//
// Kernel function afs_writeback_all, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:659-679.
func AfsWritebackAll(t *sim.Task, vnode *Vnode) int {
	t.EnterAt("afs_writeback_all", "afs-write-2.6.3x.c:662")
	defer t.Leave()
	mapping := vnode.Mapping()
	wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL, NrToWrite: mm.LLONG_MAX, RangeCyclic: true}
	mm.ObserveWritepages(t, mapping, wbc, false)
	ret := mapping.AOps.(mm.WritepagesOp).Writepages(t, mapping, wbc)
	mm.ObserveWritepages(t, mapping, wbc, true)
	mm.MarkInodeDirty(t, mapping.Host, mm.I_DIRTY_PAGES)
	return ret
}

// AfsFsync is afs_fsync(file, datasync): flush any dirty pages for this
// process, and check for write errors. A marker record joins the tail of
// vnode->writebacks (every pending record ahead of it becomes
// CONFLICTING), afs_writeback_all pushes everything out, and the caller
// waits until the marker reaches the front of the queue. A record a failed
// store left queued never gets there (see Fixes.FsyncMarkerWait).
//
// Kernel function afs_fsync, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:681-735.
func AfsFsync(t *sim.Task, file *File, datasync int) int {
	t.EnterAt("afs_fsync", "afs-write-2.6.3x.c:686")
	defer t.Leave()
	vnode := file.Vnode
	fs := vnode.fs

	if fs.Fixes.FsyncMarkerWait {
		// v4.15: return file_write_and_wait_range(file, start, end); no
		// marker, so no wait behind a record a failed store left queued
		return mm.FilemapWriteAndWaitRange(t, file.Mapping, 0, mm.LLONG_MAX)
	}

	// use a writeback record as a marker in the queue - when this reaches
	// the front of the queue, all the outstanding writes are either
	// completed or rejected
	wb := fs.kzallocWriteback(vnode)
	wb.marker = true
	wb.Vnode = vnode
	wb.First = 0
	wb.Last = vnode.VFSInode.Kernel.PgoffMax() // -1
	wb.OffsetFirst = 0
	wb.ToLast = mm.PageSize
	wb.Usage = 1
	wb.State = AFS_WBACK_SYNCING
	wb.Waitq = sim.WaitQueue{Name: "afs_writeback waitq", Obj: wb.Obj()}

	vnode.WritebackLock.Lock(t)
	listForEachEntry(t, &vnode.Writebacks, func(xwb *Writeback) bool {
		wbLive(t, xwb, "list_for_each_entry")
		if xwb.State == AFS_WBACK_PENDING {
			xwb.State = AFS_WBACK_CONFLICTING
		}
		return true
	})
	ListAddTail(t, &wb.Link, &vnode.Writebacks)
	vnode.WritebackLock.Unlock(t)

	// push all the outstanding writebacks to the server
	ret := AfsWritebackAll(t, vnode)
	if ret < 0 {
		AfsPutWriteback(t, wb)
		return ret // [wb]
	}

	// wait for the preceding writes to actually complete
	ret = 0
	if e := wb.Waitq.WaitEventInterruptible(t, func() bool {
		return wb.State == AFS_WBACK_COMPLETE || vnode.Writebacks.next == &wb.Link
	}); e != 0 {
		ret = e.Neg()
	}
	AfsPutWriteback(t, wb)
	return ret
}

// AfsPageMkwrite is afs_page_mkwrite(vma, page): notification that a
// previously read-only page is about to become writable. Without
// CONFIG_AFS_FSCACHE it does nothing (and the era's AFS maps files
// read-only: generic_file_readonly_mmap).
//
// Kernel function afs_page_mkwrite, fs/afs/write.c, era 2.6.3x,
// afs-write-2.6.3x.c:737-756.
func AfsPageMkwrite(t *sim.Task, vnode *Vnode, page *mm.Page) int {
	t.EnterAt("afs_page_mkwrite", "afs-write-2.6.3x.c:741")
	defer t.Leave()
	return 0
}
