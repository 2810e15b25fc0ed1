package check

import (
	"fmt"
	"strings"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// InvFsyncBounded is the id of the fsync-bounded invariant.
const InvFsyncBounded = "fsync-bounded"

// FsyncBounded checks the fsync-bounded invariant: a data-integrity
// sweep — a WB_SYNC_ALL ->writepages call, as fsync, msync, sync(2) and a
// flush before truncate make — writes no more pages than were dirty in
// its range when it began, plus a slack: the pages tag_pages_for_writeback
// tagged PAGECACHE_TAG_TOWRITE although they were not dirty when this
// sweep began. Those were dirtied after the call, while the tagging task
// waited for tree_lock or between two WRITEBACK_TAG_BATCH batches, and
// the 2.6.35+ loop writes every TOWRITE page, so they are the era's own
// allowance. It counts the sweep's own tagging at its
// tag_pages_for_writeback's return: the first (and, for a range_cyclic
// sweep, the second, of the wrapped range below writeback_index). It
// counts another integrity sweep's tagging of the mapping batch by batch,
// at each release of tree_lock in that sweep's tag_pages_for_writeback:
// from then on the tags are there for this sweep to meet and write
// (write_cache_pages writes any TOWRITE page, and a store gathers any
// TOWRITE page of its record), while the tagging task may yet yield in
// cond_resched, or tag its next batch, before its call returns. A sweep
// that does not tag has no slack, and one that tags its range again (a
// loop that starts over) gets nothing for it.
//
// So a writer that never stops cannot keep an fsync going: without
// TOWRITE tagging, the sweep meets the pages the writer dirties ahead of
// it and writes them too, for as long as the writer writes — the sync
// livelock that "mm: implement writeback livelock avoidance using page
// tagging" (Jan Kara, commit f446daaea9d4, 2.6.35) fixed. The check fires
// as soon as the sweep writes one page too many, long before a step or
// time budget would end the run.
//
// A page is written when clear_page_dirty_for_io is called on it by the
// sweeping task during the call (it watches the trace), so it is made
// once per world (NewFsyncBounded registers the observer); the caller
// brackets each ->writepages call with Begin and End (the kernel's
// WritepagesObserver).
type FsyncBounded struct {
	w      *sim.World
	active []*Sweep
}

// Sweep is one watched integrity sweep.
type Sweep struct {
	task       int32
	m          *mm.AddressSpace
	ino        int64
	start, end uint64
	// allowed are the pages it may write: dirty when it began, or
	// tagged TOWRITE for a sweep of the mapping since.
	allowed map[uint64]bool
	dirty   int // how many were dirty when it began
	// tags counts its own taggings; wrapAt is where a range_cyclic
	// sweep's wrapped second tagging ends (writeback_index), else 0.
	tags    int
	wrapAt  uint64
	written int
	wrote   map[uint64]bool
	// odd are pages it wrote that it was not allowed, or wrote twice.
	odd []string
}

// NewFsyncBounded makes the checker for w and starts watching its trace.
func NewFsyncBounded(w *sim.World) *FsyncBounded {
	c := &FsyncBounded{w: w}
	w.Observe(c.observe)
	return c
}

// Begin starts watching a ->writepages call of t on m with wbc, if it is
// an integrity sweep (WB_SYNC_ALL); it returns nil otherwise. It reads
// page flags plainly (no scheduling point).
func (c *FsyncBounded) Begin(t *sim.Task, m *mm.AddressSpace, wbc *mm.WritebackControl) *Sweep {
	if wbc.SyncMode != mm.WB_SYNC_ALL || wbc.NrToWrite <= 0 {
		return nil
	}
	s := &Sweep{task: t.ID(), m: m, allowed: map[uint64]bool{}, wrote: map[uint64]bool{}}
	if m.Host != nil {
		s.ino = int64(m.Host.Ino)
	}
	s.start, s.end = syncRange(m, wbc)
	if wbc.RangeCyclic {
		s.wrapAt = m.WritebackIndex
	}
	m.PageTree.Range(s.start, -1, func(i uint64, pg *mm.Page) bool {
		if i > s.end {
			return false
		}
		if mm.PageDirty(pg) {
			s.allowed[i] = true
		}
		return true
	})
	s.dirty = len(s.allowed)
	c.active = append(c.active, s)
	return s
}

// End stops watching s (nil: nothing).
func (c *FsyncBounded) End(s *Sweep) {
	c.active = without(c.active, s)
}

func (c *FsyncBounded) observe(w *sim.World, ev *sim.Event) {
	if len(c.active) == 0 {
		return
	}
	switch {
	case ev.Kind == sim.KindUnlock && ev.Fn == "tag_pages_for_writeback":
		// A batch is tagged and tree_lock released: the other sweeps may
		// meet its tags before this tagging returns.
		if by := c.sweepOf(ev.Task); by != nil {
			c.lendTags(by, false)
		}
	case ev.Kind == sim.KindLeave && ev.Op == "tag_pages_for_writeback":
		if by := c.sweepOf(ev.Task); by != nil {
			by.tags++
			c.lendTags(by, true)
		}
	case ev.Kind == sim.KindPoint && ev.Op == "clear_page_dirty_for_io" && ev.Obj.Class == "page":
		for _, s := range c.active {
			if s.task != ev.Task || s.ino != ev.Obj.A {
				continue
			}
			s.written++
			switch i := uint64(ev.Obj.B); {
			case s.wrote[i]:
				s.odd = append(s.odd, fmt.Sprintf("%d (again)", i))
			case !s.allowed[i]:
				s.odd = append(s.odd, fmt.Sprintf("%d (not dirty when it began)", i))
			}
			s.wrote[uint64(ev.Obj.B)] = true
			if s.written > len(s.allowed) {
				w.Fail(s.failure(ev.Obj))
			}
		}
	}
}

// sweepOf is the sweep task id is making, or nil: the tagging task's own
// sweep says which mapping it tagged.
func (c *FsyncBounded) sweepOf(task int32) *Sweep {
	for _, s := range c.active {
		if s.task == task {
			return s
		}
	}
	return nil
}

// lendTags adds the TOWRITE pages of the mapping that sweep by tagged:
// with self, to by itself, for its first tagging, or below wrapAt for its
// second; else to every other sweep of that mapping.
func (c *FsyncBounded) lendTags(by *Sweep, self bool) {
	for _, s := range c.active {
		if s.m != by.m || (s == by) != self {
			continue
		}
		end := s.end
		if self && s.tags > 1 {
			if s.tags > 2 || s.wrapAt == 0 {
				continue
			}
			end = min(end, s.wrapAt-1)
		}
		s.m.PageTree.Range(s.start, mm.PAGECACHE_TAG_TOWRITE, func(i uint64, _ *mm.Page) bool {
			if i > end {
				return false
			}
			s.allowed[i] = true
			return true
		})
	}
}

func (s *Sweep) failure(obj sim.Obj) *sim.Failure {
	odd := s.odd
	more := ""
	if len(odd) > 8 {
		odd, more = odd[:8], fmt.Sprintf(" and %d more", len(s.odd)-8)
	}
	return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvFsyncBounded, Obj: obj,
		Msg: fmt.Sprintf("a WB_SYNC_ALL writeback sweep of inode %d wrote %d pages, more than the %d dirty when it began plus %d tagged for it since; pages: %s%s",
			s.ino, s.written, s.dirty, len(s.allowed)-s.dirty, strings.Join(odd, ", "), more),
		Explain: "A data-integrity sweep (fsync, sync, msync) owes the pages that were dirty when it " +
			"began, no more: otherwise a task that keeps dirtying pages ahead of it keeps it going for " +
			"as long as it writes, and the fsync does not return (the sync livelock). Since Linux 2.6.35 " +
			"(commit f446daaea9d4, \"mm: implement writeback livelock avoidance using page tagging\") " +
			"write_cache_pages first tags the dirty pages PAGECACHE_TAG_TOWRITE and then writes only " +
			"tagged ones; the slack allowed here is the pages that tagging took in after the sweep " +
			"began. A kernel without the tagging writes every page it meets dirty."}
}
