package mpage

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// mpageWritepages2612 is mpage_writepages(mapping, wbc, get_block),
// mpage-2.6.12.numbered.c:627-631, 2.6.12: __mpage_writepages with the
// mapping's ->writepage as writepage_fn.
func mpageWritepages2612(t *sim.Task, st *state, mapping *mm.AddressSpace, wbc *mm.WritebackControl,
	getBlock block.GetBlockFunc) int {
	t.EnterAt("mpage_writepages", "mpage-2.6.12.numbered.c:627")
	defer t.Leave()
	_, hasWritepage := mapping.AOps.(mm.WritepageOp)
	return mpageWritepagesInner2612(t, st, mapping, wbc, getBlock, hasWritepage)
}

// mpageWritepagesInner2612 is __mpage_writepages(mapping, wbc, get_block,
// writepage_fn), mpage-2.6.12.numbered.c:635-753, 2.6.12: the loop that
// later became write_cache_pages. It walks the pages tagged DIRTY from
// mapping->writeback_index (WB_SYNC_NONE), from 0 (WB_SYNC_ALL) or over
// wbc->start..wbc->end (a range), a pagevec at a time; locks each page,
// waits for its writeback in WB_SYNC_ALL, skips it if it is under
// writeback or was cleaned meanwhile, and writes it: with ->writepage when
// get_block is NULL (setting AS_ENOSPC or AS_EIO on failure), else through
// __mpage_writepage, which builds bios.
//
// hasWritepageFn says whether writepage_fn is non-NULL (it is the
// mapping's ->writepage when it is).
//
// The seed's bugs, with their fixes behind Fixes:
//
//   - wb-integrity (730-731): the sweep stops when nr_to_write reaches 0,
//     even in WB_SYNC_ALL. With Fixes.WBIntegrity it stops only in
//     WB_SYNC_NONE ("mm: write_cache_pages integrity fix").
//   - cyclic-wrap (649, 681, 740-747): scanned is set by the first
//     successful lookup, so a WB_SYNC_NONE pass that started at
//     writeback_index > 0 and found a page never wraps to the pages
//     before it. With Fixes.CyclicWrap the pass remembers whether it
//     started at 0 (cycled) and wraps up to writeback_index - 1 ("mm:
//     write_cache_pages cyclic fix").
//   - wb-integrity-error (730-731): the sweep stops after the pagevec
//     of the first page whose write failed, even in WB_SYNC_ALL. With
//     Fixes.WBIntegrityError a WB_SYNC_ALL sweep goes on and returns the
//     first error (Linux 4.20's write_cache_pages rule).
//   - cyclic-wrap-deadlock (the cyclic-wrap fix's own bug): the wrap
//     locks pages below those already under writeback in the pass's
//     unsubmitted bio, so it can deadlock with a WB_SYNC_ALL sweep. With
//     Fixes.CyclicWrapDeadlock on top of Fixes.CyclicWrap the pass never
//     wraps: it stops at the end of the file and leaves writeback_index
//     at 0 for the next pass (Linux 4.20's "fix range_cyclic writeback vs
//     writepages deadlock"). Without CyclicWrap it changes nothing.
//
// Kept as in the seed: done does not break the pagevec loop, so the rest
// of the current pagevec is still written after nr_to_write runs out (the
// later "terminate quickly" fixes are not modelled); writeback_index
// becomes the index past the last page looked up. __mpage_writepage
// writes ret only on its confused path (586-590), so after a page's
// error ret stays set for the rest of the pagevec: the pages that join
// the bio are written but not counted in nr_to_write (730 short-circuits
// on ret), and the call returns the error (753) unless a later confused
// page's ->writepage succeeds and overwrites it (as any later ->writepage
// does on the get_block == NULL path, 716). Later kernels bail out at the
// first error and keep it ("mm: write_cache_pages writepage error fix",
// Nick Piggin, 2.6.29; the model's 2.6.2x loop has it). No fix switch:
// in 2.6.12 every such error is also set on the mapping (595-600,
// 717-723), which do_fsync's filemap_fdatawait reports, so no caller
// loses it (TestLoop2612ErrorStaysSet).
func mpageWritepagesInner2612(t *sim.Task, st *state, mapping *mm.AddressSpace, wbc *mm.WritebackControl,
	getBlock block.GetBlockFunc, hasWritepageFn bool) int {
	t.EnterAt("__mpage_writepages", "mpage-2.6.12.numbered.c:635")
	defer t.Leave()
	k := mapping.Host.Kernel
	fixes := st.cfg.Fixes
	bdi := mapping.BDI
	ret := 0
	// bio, last_block_in_bio, and &ret for __mpage_writepage
	mpd := mpageData{getBlock: getBlock, useWritepage: hasWritepageFn, st: st, ret: &ret}
	firstErr := 0 // Fixes.WBIntegrityError
	done := false
	var writepage mm.WritepageOp
	var pvec mm.Pagevec
	var nrPages int
	var index uint64
	end := k.PgoffMax() // pgoff_t end = -1; Inclusive
	scanned := false
	isRange := false
	// Fixes.CyclicWrap: the fix's writeback_index and cycled.
	var writebackIndex uint64
	cycled := true

	if wbc.Nonblocking && mm.BdiWriteCongested(bdi) {
		wbc.EncounteredCongestion = true
		return 0
	}

	writepage = nil
	if getBlock == nil {
		writepage, _ = mapping.AOps.(mm.WritepageOp)
	}

	mm.PagevecInit(&pvec, false)
	if wbc.SyncMode == mm.WB_SYNC_NONE {
		index = mapping.WritebackIndex // Start from prev offset
		writebackIndex = index
		cycled = index == 0
	} else {
		index = 0 // whole-file sweep
		scanned = true
	}
	if wbc.Start != 0 || wbc.End != 0 {
		index = k.ULong(uint64(wbc.Start >> mm.PageCacheShift))
		end = k.ULong(uint64(wbc.End >> mm.PageCacheShift))
		isRange = true
		scanned = true
		cycled = true // ignore range_cyclic tests
	}
	// Fixes.TowriteTagging: the 2.6.35 fix (f446daaea9d4), as in 3.x's
	// write_cache_pages: a WB_SYNC_ALL sweep writes the pages it tagged.
	// It came after the integrity fix and acts on top of it: without
	// WBIntegrity the switch changes nothing.
	tag := mm.PAGECACHE_TAG_DIRTY
	if fixes.TowriteTagging && fixes.WBIntegrity && wbc.SyncMode == mm.WB_SYNC_ALL {
		tag = mm.PAGECACHE_TAG_TOWRITE
	}
retry:
	if tag == mm.PAGECACHE_TAG_TOWRITE {
		mm.TagPagesForWriteback(t, mapping, index, end)
	}
	for !done && index <= end {
		nrPages = mm.PagevecLookupTag(t, &pvec, mapping, &index, tag,
			int(min(end-index, mm.PAGEVEC_SIZE-1)+1))
		if nrPages == 0 {
			break
		}

		if !fixes.CyclicWrap {
			scanned = true // line 681: the cyclic-wrap bug
		}
		for i := 0; i < nrPages; i++ {
			page := pvec.Pages[i]

			// At this point we hold neither mapping->tree_lock nor lock on
			// the page itself: the page may be truncated or invalidated
			// (changing page->mapping to NULL), or even swizzled back from
			// swapper_space to tmpfs file mapping
			mm.LockPage(t, page)

			if page.Mapping != mapping {
				mm.UnlockPage(t, page)
				continue
			}

			// With the cyclic fix the test is unconditional: end is -1
			// in the first pass of a cyclic sweep.
			if (isRange || fixes.CyclicWrap) && page.Index > end {
				done = true
				mm.UnlockPage(t, page)
				continue
			}

			if wbc.SyncMode != mm.WB_SYNC_NONE {
				mm.WaitOnPageWriteback(t, page)
			}

			if mm.PageWriteback(page) || mm.ClearPageDirtyForIO(t, page) == 0 {
				mm.UnlockPage(t, page)
				continue
			}

			if writepage != nil {
				ret = writepage.Writepage(t, page, wbc)
				if ret != 0 {
					if ret == errno.ENOSPC.Neg() {
						mm.MappingSetFlag(t, mapping, mm.AS_ENOSPC)
					} else {
						mm.MappingSetFlag(t, mapping, mm.AS_EIO)
					}
				}
			} else {
				// bio = __mpage_writepage(bio, page, get_block,
				// &last_block_in_bio, &ret, wbc, writepage_fn): ret
				// changes only if the page is confused (586-590).
				mpageWritepageInner(t, page, wbc, &mpd)
			}
			// if (ret || (--(wbc->nr_to_write) <= 0)) done = 1;
			switch {
			case ret != 0 && fixes.WBIntegrityError && wbc.SyncMode == mm.WB_SYNC_ALL:
				// Integrity writeback goes on and returns the first
				// error (Fixes.WBIntegrityError).
				if firstErr == 0 {
					firstErr = ret
				}
				// The fix's ret is per page (4.20's write_cache_pages):
				// 2.6.12's sticky ret would count no later page.
				ret = 0
			case ret != 0:
				done = true
			case fixes.WBIntegrity:
				// We stop writing back only if we are not doing
				// integrity sync.
				if wbc.NrToWrite > 0 {
					wbc.NrToWrite--
					if wbc.NrToWrite == 0 && wbc.SyncMode == mm.WB_SYNC_NONE {
						done = true
					}
				}
			default:
				wbc.NrToWrite--
				if wbc.NrToWrite <= 0 {
					done = true // line 730-731: the wb-integrity bug
				}
			}
			if wbc.Nonblocking && mm.BdiWriteCongested(bdi) {
				wbc.EncounteredCongestion = true
				done = true
			}
		}
		mm.PagevecRelease(t, &pvec)
		t.CondResched()
	}
	switch {
	case fixes.CyclicWrap && fixes.CyclicWrapDeadlock:
		if !isRange && wbc.SyncMode == mm.WB_SYNC_NONE && !done {
			// If we hit the last page and there is more work to be
			// done: wrap the index back to the start of the file for
			// the next time we are called.
			index = 0
		}
	case fixes.CyclicWrap:
		if !cycled && !done {
			// range_cyclic: we hit the last page and there is more work
			// to be done: wrap back to the start of the file
			cycled = true
			index = 0
			end = k.ULong(writebackIndex - 1)
			goto retry
		}
	case !scanned && !done:
		// We hit the last page and there is more work to be done: wrap
		// back to the start of the file
		scanned = true
		index = 0
		goto retry
	}
	if !isRange {
		mapping.WritebackIndex = index
	}
	if mpd.bio != nil {
		mpageBioSubmit(t, st, block.WRITE, mpd.bio)
	}
	if firstErr != 0 {
		return firstErr
	}
	return ret
}
