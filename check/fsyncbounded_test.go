package check

import (
	"testing"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// tagRace schedules the race of TestFsyncBoundedLentBatch: the syncer
// runs until its own tagging returns, then the writer until it releases
// tree_lock inside its tag_pages_for_writeback (its batch is tagged, its
// call has not returned), then the syncer again.
type tagRace struct {
	syncer, writer *sim.Task
	phase          int
}

func (r *tagRace) observe(_ *sim.World, ev *sim.Event) {
	switch {
	case r.phase == 0 && ev.Task == r.syncer.ID() && ev.Kind == sim.KindLeave && ev.Op == "tag_pages_for_writeback":
		r.phase = 1
	case r.phase == 1 && ev.Task == r.writer.ID() && ev.Kind == sim.KindUnlock && ev.Fn == "tag_pages_for_writeback":
		r.phase = 2
	}
}

func (r *tagRace) Choose(d *sim.Decision) int {
	want := r.syncer
	if r.phase == 1 {
		want = r.writer
	}
	for i, c := range d.Candidates {
		if c == want {
			return i
		}
	}
	return 0
}

// dirtyPage is a write of page index reduced to its mm calls.
func dirtyPage(t *sim.Task, m *mm.AddressSpace, index uint64) {
	p := mm.GrabCachePageWriteBegin(t, m, index, 0)
	mm.SetPageUptodate(t, p)
	mm.SetPageDirty(t, p)
	mm.UnlockPage(t, p)
	mm.PageCacheRelease(t, p)
}

// writePage is a store of page index: clear_page_dirty_for_io, then a
// write that completes at once.
func writePage(t *sim.Task, m *mm.AddressSpace, index uint64) {
	p := m.PageTree.Lookup(index)
	mm.LockPage(t, p)
	mm.ClearPageDirtyForIO(t, p)
	mm.SetPageWriteback(t, p)
	mm.UnlockPage(t, p)
	mm.EndPageWriteback(t, p)
}

// integritySweep brackets body as a WB_SYNC_ALL ->writepages call of the
// whole file.
func integritySweep(c *FsyncBounded, t *sim.Task, m *mm.AddressSpace, body func()) {
	wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL, NrToWrite: mm.LLONG_MAX, RangeEnd: mm.LLONG_MAX}
	s := c.Begin(t, m, wbc)
	body()
	c.End(s)
}

// runTagRace runs the race on the afs era's page cache: the syncer's
// sweep begins with page 0 dirty, tags and writes it; the writer then
// dirties pages 1 and 2 and makes an integrity sweep that tags pages
// [tagFirst, tagLast]; right after the writer's batch is tagged and
// tree_lock released, before its tag_pages_for_writeback returns, the
// syncer writes pages 1 and 2 if TOWRITE (as a store gathers the tagged
// pages of its record, or write_cache_pages the tagged pages it meets),
// and page 2 regardless when always2.
func runTagRace(t *testing.T, tagFirst, tagLast uint64, always2 bool) *sim.Result {
	t.Helper()
	r := &tagRace{}
	w := sim.New(sim.Config{Seed: 1, Strategy: r, MaxSteps: 100_000})
	c := NewFsyncBounded(w)
	k := mm.NewKernel(w, mm.VAFS)
	m := k.NewInode(1, 12, mm.NoAOps{}, nil).Mapping
	r.syncer = w.Spawn("syncer", func(t *sim.Task) {
		dirtyPage(t, m, 0)
		integritySweep(c, t, m, func() {
			mm.TagPagesForWriteback(t, m, 0, k.PgoffMax())
			writePage(t, m, 0)
			for r.phase < 2 {
				t.Yield()
			}
			for i := uint64(1); i <= 2; i++ {
				if m.PageTree.TagGet(i, mm.PAGECACHE_TAG_TOWRITE) || i == 2 && always2 {
					writePage(t, m, i)
				}
			}
		})
	})
	r.writer = w.Spawn("writer", func(t *sim.Task) {
		dirtyPage(t, m, 1)
		dirtyPage(t, m, 2)
		integritySweep(c, t, m, func() {
			mm.TagPagesForWriteback(t, m, tagFirst, tagLast)
		})
	})
	w.Observe(r.observe)
	res := w.Run()
	if r.phase != 2 {
		t.Fatalf("the schedule did not reach the race (phase %d)", r.phase)
	}
	return res
}

// TestFsyncBoundedLentBatch: another integrity sweep's TOWRITE tags are
// this sweep's slack from the moment its batch is tagged and tree_lock
// released, not only once its tag_pages_for_writeback returns (the
// TestPropStack failure on afs: sync(2) gathered a page fsync had just
// tagged while fsync yielded in cond_resched). A page nobody tagged
// still counts against the sweep.
func TestFsyncBoundedLentBatch(t *testing.T) {
	t.Run("tagged by another sweep", func(t *testing.T) {
		if res := runTagRace(t, 0, ^uint64(0), false); res.Failure != nil {
			t.Fatalf("a page another sweep tagged was not lent: %s", res.Failure.Report())
		}
	})
	t.Run("not tagged", func(t *testing.T) {
		res := runTagRace(t, 1, 1, true)
		if res.Failure == nil || res.Failure.Invariant != InvFsyncBounded {
			t.Fatalf("the sweep wrote page 2, dirtied after it began and tagged by nobody, unnoticed: %v", res.Failure)
		}
		t.Logf("caught: %s", res.Failure.Msg)
	})
}
