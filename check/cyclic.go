package check

import (
	"fmt"
	"slices"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// InvCyclicComplete is the id of the cyclic-complete invariant.
const InvCyclicComplete = "cyclic-complete"

// CyclicComplete checks the cyclic-complete invariant: a cyclic
// WB_SYNC_NONE writeback pass over a mapping (range_cyclic, or 2.6.12's
// pass from writeback_index with no range) with enough nr_to_write — it
// ends with some left and met no congestion — writes every page that was
// dirty, unlocked and not under writeback when it began:
// clear_page_dirty_for_io reaches the page during the pass (in any task),
// or the page leaves the mapping. A pass that never wraps back to index 0
// breaks it (the 2.6.12 cyclic-wrap seed bug). With NoWrap a pass owes
// only the pages from its start to the end of the file: Linux 4.20's
// cyclic writeback (the cyclic-wrap-deadlock fix) never wraps and starts
// the next pass at 0 instead, so two passes together write every page.
//
// It watches the trace for clear_page_dirty_for_io points, so it is made
// once per world (NewCyclicComplete registers the observer); the caller
// brackets each ->writepages call with Begin and End.
type CyclicComplete struct {
	// NoWrap says the kernel's cyclic passes do not wrap (see above).
	NoWrap bool
	w      *sim.World
	active []*CyclicPass
}

// CyclicPass is one watched writeback pass.
type CyclicPass struct {
	m     *mm.AddressSpace
	ino   int64
	start uint64
	want  []*mm.Page
	seen  map[int64]bool
}

// NewCyclicComplete makes the checker for w and starts watching its
// trace.
func NewCyclicComplete(w *sim.World) *CyclicComplete {
	c := &CyclicComplete{w: w}
	w.Observe(c.observe)
	return c
}

func (c *CyclicComplete) observe(_ *sim.World, ev *sim.Event) {
	if len(c.active) == 0 || ev.Kind != sim.KindPoint || ev.Op != "clear_page_dirty_for_io" || ev.Obj.Class != "page" {
		return
	}
	for _, p := range c.active {
		if ev.Obj.A == p.ino {
			p.seen[ev.Obj.B] = true
		}
	}
}

// IsCyclic says whether wbc asks for a cyclic data writeback pass.
func IsCyclic(m *mm.AddressSpace, wbc *mm.WritebackControl) bool {
	if wbc.SyncMode != mm.WB_SYNC_NONE {
		return false
	}
	if wbc.RangeCyclic {
		return true
	}
	return m.Host != nil && m.Host.Kernel != nil && m.Host.Kernel.Era().WbcStartEnd && wbc.Start == 0 && wbc.End == 0
}

// Begin starts watching a ->writepages call on m with wbc, if it is a
// cyclic pass; it returns nil otherwise. It reads page flags plainly (no
// scheduling point), so call it right before the pass.
func (c *CyclicComplete) Begin(m *mm.AddressSpace, wbc *mm.WritebackControl) *CyclicPass {
	if !IsCyclic(m, wbc) || wbc.NrToWrite <= 0 {
		return nil
	}
	p := &CyclicPass{m: m, start: m.WritebackIndex, seen: map[int64]bool{}}
	if m.Host != nil {
		p.ino = int64(m.Host.Ino)
	}
	m.PageTree.Range(0, -1, func(_ uint64, pg *mm.Page) bool {
		if mm.PageDirty(pg) && !mm.PageLocked(pg) && !mm.PageWriteback(pg) {
			p.want = append(p.want, pg)
		}
		return true
	})
	c.active = append(c.active, p)
	return p
}

// Abandon stops watching the pass p (nil: nothing) without judging it: a
// pass that met a write error may stop there (write_cache_pages' "done =
// 1" on an error, afs_writepages_region's return), whatever nr_to_write
// is left.
func (c *CyclicComplete) Abandon(p *CyclicPass) {
	c.active = without(c.active, p)
}

// without is active without x (active itself if x is not in it): the
// checks' list of the calls they watch, once a call returns.
func without[T comparable](active []T, x T) []T {
	if i := slices.Index(active, x); i >= 0 {
		return slices.Delete(active, i, i+1)
	}
	return active
}

// End ends the pass p (nil: nothing) and returns the violation, if any:
// the first page that was dirty when it began and that it did not write,
// though nr_to_write was not used up and no congestion stopped it.
func (c *CyclicComplete) End(p *CyclicPass, wbc *mm.WritebackControl) *sim.Failure {
	if p == nil {
		return nil
	}
	c.Abandon(p)
	if wbc.NrToWrite <= 0 || wbc.EncounteredCongestion {
		return nil // not enough nr_to_write, or told to back off
	}
	for _, pg := range p.want {
		if p.seen[int64(pg.Index)] || pg.Mapping != p.m || c.NoWrap && pg.Index < p.start {
			continue
		}
		return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvCyclicComplete, Obj: pg.Obj(),
			Msg: fmt.Sprintf("cyclic writeback pass (from writeback_index %d, %d of nr_to_write left) did not write page %d, dirty when it began",
				p.start, wbc.NrToWrite, pg.Index),
			Explain: "A range_cyclic writeback pass starts at mapping->writeback_index and must wrap " +
				"back to index 0 once, so that with enough nr_to_write it writes every page that was " +
				"dirty when it began. A pass that stops at the end of the file leaves the pages below " +
				"its start dirty for another pass, however much it was allowed to write."}
	}
	return nil
}
