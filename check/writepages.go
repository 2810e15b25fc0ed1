package check

import (
	"fmt"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// The ids of the ->writepages contracts Writepages checks (besides
// cyclic-complete, which CyclicComplete checks).
const (
	InvSyncComplete    = "sync-complete"
	InvWritepagesError = "writepages-error"
	InvWritebackIndex  = "writeback-index"
)

// Writepages checks the contracts of each ->writepages call, one bracket
// per call (Begin right before it, End right after it returns):
//
//   - sync-complete: a WB_SYNC_ALL call (write_cache_pages, 2.6.12's
//     __mpage_writepages, afs_writepages; fsync, sync(2), afs_fsync)
//     writes every page in its range that was dirty (PG_dirty and tagged
//     DIRTY) when it began:
//     clear_page_dirty_for_io reaches the page during the call, in this
//     task or another, or the page leaves the mapping. Errors on the way
//     do not excuse a page.
//   - writepages-error: an error that a ->writepage (or an AFS store)
//     returned to the call's own task during the call is returned by the
//     call, or recorded on the mapping (AS_EIO or AS_ENOSPC set during
//     the call, or still set when it returns).
//   - writeback-index: a WB_SYNC_NONE cyclic pass that stops early
//     (nr_to_write used up, or congestion) leaves mapping->writeback_index
//     no further, in the pass's cyclic order from where it started, than
//     the first page it owed and did not write (a page dirty, unlocked and
//     not under writeback when it began, still in the mapping).
//   - cyclic-complete, through Cyclic (see CyclicComplete), for a pass
//     that met no error: one that did may stop there.
//
// It watches the trace: clear_page_dirty_for_io (and TestClearPageDirty) points, the
// mm.TraceWritepageError records, and set_bit of AS_EIO/AS_ENOSPC on a
// mapping. Make it once per world with NewWritepages.
type Writepages struct {
	// Cyclic checks cyclic-complete (nil: not checked).
	Cyclic *CyclicComplete
	// Sync, Errors and Index turn on sync-complete, writepages-error and
	// writeback-index.
	Sync, Errors, Index bool
	w                   *sim.World
	active              []*WritepagesCall
}

// WritepagesCall is one watched ->writepages call.
type WritepagesCall struct {
	m    *mm.AddressSpace
	ino  int64
	task int32
	// sync-complete: the call's page range and the pages dirty in it.
	first, last uint64
	syncWant    []*mm.Page
	// writeback-index: where a cyclic pass started and the pages it owes.
	cyclic  bool
	start   uint64
	idxWant []*mm.Page
	// seen: pages clear_page_dirty_for_io reached during the call.
	seen map[uint64]bool
	// writepages-error: the first error a ->writepage or store returned
	// in this task (0: none), the page, and whether AS_EIO/AS_ENOSPC
	// was set since.
	err      int64
	errPage  sim.Obj
	recorded bool
	cyc      *CyclicPass
}

// NewWritepages makes the checker for w and starts watching its trace.
func NewWritepages(w *sim.World) *Writepages {
	c := &Writepages{w: w}
	w.Observe(c.observe)
	return c
}

func (c *Writepages) observe(_ *sim.World, ev *sim.Event) {
	if len(c.active) == 0 || ev.Kind != sim.KindPoint {
		return
	}
	switch ev.Op {
	case "clear_page_dirty_for_io", "TestClearPageDirty":
		// clear_page_dirty_for_io's own point comes before a scheduling
		// point and its TestClearPageDirty: a call that begins in between
		// sees the page still dirty, and counts it written at the second.
		// (TestClearPageDirty is also cancel_dirty_page's: a truncated
		// page, which the call does not owe.)
		if ev.Obj.Class != "page" {
			return
		}
		for _, p := range c.active {
			if p.seen != nil && ev.Obj.A == p.ino {
				p.seen[uint64(ev.Obj.B)] = true
			}
		}
	case mm.TraceWritepageError:
		for _, p := range c.active {
			if ev.Task == p.task && ev.Obj.A == p.ino && p.err == 0 {
				p.err, p.errPage = ev.Arg, ev.Obj
			}
		}
	case "set_bit":
		for _, p := range c.active {
			if p.err != 0 && ev.Obj == p.m.Obj() && (ev.Arg == mm.AS_EIO || ev.Arg == mm.AS_ENOSPC) {
				p.recorded = true
			}
		}
	}
}

// syncRange is the page range a WB_SYNC_ALL call on m with wbc sweeps
// (sync-complete's and fsync-bounded's): 2.6.12's wbc->start..end (both
// 0: the whole file), else the whole file for a range_cyclic call, else
// range_start..range_end, each shifted as the kernel does (loff_t >>
// PAGE_CACHE_SHIFT).
func syncRange(m *mm.AddressSpace, wbc *mm.WritebackControl) (first, last uint64) {
	all := ^uint64(0)
	if m.Host != nil && m.Host.Kernel != nil && m.Host.Kernel.Era().WbcStartEnd {
		if wbc.Start == 0 && wbc.End == 0 {
			return 0, all
		}
		return uint64(wbc.Start >> mm.PageCacheShift), uint64(wbc.End >> mm.PageCacheShift)
	}
	if wbc.RangeCyclic {
		return 0, all
	}
	return uint64(wbc.RangeStart >> mm.PageCacheShift), uint64(wbc.RangeEnd >> mm.PageCacheShift)
}

// Begin starts watching a ->writepages call of task t on m with wbc. It
// reads page flags plainly (no scheduling point), so call it right before
// the call.
func (c *Writepages) Begin(t *sim.Task, m *mm.AddressSpace, wbc *mm.WritebackControl) *WritepagesCall {
	p := &WritepagesCall{m: m, task: t.ID(), start: m.WritebackIndex}
	if m.Host != nil {
		p.ino = int64(m.Host.Ino)
	}
	if c.Cyclic != nil {
		p.cyc = c.Cyclic.Begin(m, wbc)
	}
	sync := c.Sync && wbc.SyncMode == mm.WB_SYNC_ALL
	p.cyclic = c.Index && IsCyclic(m, wbc)
	if sync {
		p.first, p.last = syncRange(m, wbc)
	}
	if sync || p.cyclic {
		var below []*mm.Page // cyclic order: [start, end] then [0, start)
		// Dirty: PG_dirty and tagged DIRTY. set_page_dirty sets the flag
		// first and tags the page under tree_lock after: until then the
		// dirtying has not finished, and a sweep may rightly miss it.
		m.PageTree.Range(0, mm.PAGECACHE_TAG_DIRTY, func(i uint64, pg *mm.Page) bool {
			if !mm.PageDirty(pg) {
				return true
			}
			if sync && i >= p.first && i <= p.last {
				p.syncWant = append(p.syncWant, pg)
			}
			if p.cyclic && !mm.PageLocked(pg) && !mm.PageWriteback(pg) {
				if i < p.start {
					below = append(below, pg)
				} else {
					p.idxWant = append(p.idxWant, pg)
				}
			}
			return true
		})
		p.idxWant = append(p.idxWant, below...)
	}
	if len(p.syncWant) > 0 || len(p.idxWant) > 0 {
		p.seen = map[uint64]bool{} // else nothing is owed: no need to watch
	}
	c.active = append(c.active, p)
	return p
}

// End ends the call p, which returned ret, and returns the first
// violation, if any.
func (c *Writepages) End(p *WritepagesCall, wbc *mm.WritebackControl, ret int) *sim.Failure {
	c.active = without(c.active, p)
	if c.Cyclic != nil && (p.err != 0 || ret < 0) {
		c.Cyclic.Abandon(p.cyc) // a pass may stop at an error
	} else if c.Cyclic != nil {
		if fl := c.Cyclic.End(p.cyc, wbc); fl != nil {
			return fl
		}
	}
	if fl := p.syncComplete(wbc); fl != nil {
		return fl
	}
	if fl := p.writepagesError(ret); fl != nil {
		return fl
	}
	return p.writebackIndex(wbc)
}

// written says whether the call owes nothing more for pg: it was written
// (clear_page_dirty_for_io reached it) or left the mapping.
func (p *WritepagesCall) written(pg *mm.Page) bool {
	return p.seen[pg.Index] || pg.Mapping != p.m
}

func (p *WritepagesCall) syncComplete(wbc *mm.WritebackControl) *sim.Failure {
	for _, pg := range p.syncWant {
		if p.written(pg) {
			continue
		}
		why := ""
		if p.err != 0 {
			why = fmt.Sprintf(" (after an error %d on page %d)", -p.err, p.errPage.B)
		}
		return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvSyncComplete, Obj: pg.Obj(),
			Msg: fmt.Sprintf("WB_SYNC_ALL ->writepages of inode %d returned (nr_to_write %d left)%s without writing page %d, dirty when it began",
				p.ino, wbc.NrToWrite, why, pg.Index),
			Explain: "A data-integrity writeback (WB_SYNC_ALL: fsync, sync(2), afs_fsync) must write every " +
				"page of its range that was dirty when it began: wait for a page under writeback, then " +
				"write it again. Its caller next waits on writeback and reports success, so a dirty page " +
				"it skipped is data the caller believes is on stable storage and is not. Neither " +
				"nr_to_write running out nor an error on another page is a reason to stop: the " +
				"sweep goes on and reports the error at the end."}
	}
	return nil
}

func (p *WritepagesCall) writepagesError(ret int) *sim.Failure {
	if p.err == 0 || ret < 0 || p.recorded || p.m.Flags&(1<<mm.AS_EIO|1<<mm.AS_ENOSPC) != 0 {
		return nil
	}
	return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvWritepagesError, Obj: p.errPage,
		Msg: fmt.Sprintf("->writepages of inode %d returned %d, but writing page %d failed with error %d inside it, and neither AS_EIO nor AS_ENOSPC is set on the mapping",
			p.ino, ret, p.errPage.B, -p.err),
		Explain: "When ->writepage (or an AFS store) fails inside ->writepages, the error must go " +
			"somewhere a later fsync will find it: returned by ->writepages to its caller, or " +
			"recorded on the mapping with mapping_set_error (AS_EIO, AS_ENOSPC), which fsync tests " +
			"and clears. The page is clean now, so nothing will write it again; an error dropped " +
			"here is data lost without anyone being told."}
}

func (p *WritepagesCall) writebackIndex(wbc *mm.WritebackControl) *sim.Failure {
	if !p.cyclic || wbc.NrToWrite > 0 && !wbc.EncounteredCongestion {
		return nil // not a cyclic pass, or it did not stop early
	}
	for _, pg := range p.idxWant {
		if p.written(pg) {
			continue
		}
		// Distances from the start in the pass's cyclic order (unsigned
		// wrap-around puts the pages below the start after the others).
		if p.m.WritebackIndex-p.start <= pg.Index-p.start {
			return nil
		}
		return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvWritebackIndex, Obj: pg.Obj(),
			Msg: fmt.Sprintf("cyclic writeback pass of inode %d from writeback_index %d stopped early (nr_to_write %d, congestion %v) and set writeback_index to %d, past page %d, dirty when it began and not written",
				p.ino, p.start, wbc.NrToWrite, wbc.EncounteredCongestion, p.m.WritebackIndex, pg.Index),
			Explain: "A WB_SYNC_NONE range_cyclic pass that stops before it is done (nr_to_write used " +
				"up, or the queue congested) records in mapping->writeback_index where the next pass " +
				"starts. If it records an index past a dirty page it never reached, the next passes " +
				"begin beyond that page and leave it dirty until the scan comes round the whole file " +
				"again: background writeback starves it."}
	}
	return nil
}
