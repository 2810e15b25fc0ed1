package check

import (
	"fmt"

	"github.com/wbsim/wbsim/sim"
)

// InvDirtyExpire is the id of the dirty-expire invariant.
const InvDirtyExpire = "dirty-expire"

// DirtyExpire checks the age clause of the dirty-expire invariant: while
// the periodic flusher runs, no page stays dirty much longer than the
// era's dirty_expire_interval. The bound, derived from wb_kupdate
// (model/mm/background.go):
//
//  1. a page first dirtied at time p makes its inode dirty no later than
//     p (__mark_inode_dirty sets dirtied_when only when the inode was
//     clean), so inode->dirtied_when <= p;
//  2. a kupdate pass that starts at time k writes back the inodes with
//     dirtied_when <= k - dirty_expire_interval, oldest first, in rounds
//     of MAX_WRITEBACK_PAGES until no old data is left (waiting out
//     congestion): the first pass that starts at or after p + expire
//     takes the page's inode;
//  3. that pass may still leave the page dirty: a WB_SYNC_NONE pass skips
//     a page under writeback or locked, and an inode another task is
//     syncing (I_SYNC); the inode goes back on the dirty list and the
//     next pass, dirty_writeback_interval later (at least a second after
//     the last one ended: wb_kupdate re-arms its timer for max(start +
//     interval, end + 1s)), finds that writeback over.
//
// So the page must be clean (clear_page_dirty_for_io, or truncated) by
// the end of the second kupdate pass that starts at or after p + expire:
// within expire + 2 x max(interval, 1s + the pass) + the second pass's
// length. The check judges it at the end of every kupdate pass: a page
// dirty since p <= (the previous pass's start - expire) fails.
//
// An inode refiled young (redirty_tail setting dirtied_when to now) makes
// its pages wait another expire interval: that is the era's own delay,
// and the check reports it. It watches the page-flag points of the trace
// (SetPageDirty, TestSetPageDirty: dirty from now unless already;
// TestClearPageDirty, ClearPageDirty: clean), so it is made once per
// world; it judges only runs without injected faults, where every write
// back can succeed (a failed write leaves a page dirty for good).
type DirtyExpire struct {
	// Expire is the kernel's dirty_expire_interval.
	Expire sim.Time
	w      *sim.World
	since  map[pageID]sim.Time // each dirty page's first-dirty time
	order  []dirtied           // the same, in time order, with stale entries
	// passStart and prevStart are the starts of the kupdate pass running
	// (or last run) and of the one before (-1: none yet).
	passStart, prevStart sim.Time
}

// pageID is a page's inode number and index (its sim.Obj's A and B).
type pageID struct{ ino, index int64 }

type dirtied struct {
	page pageID
	at   sim.Time
}

// NewDirtyExpire makes the checker for w, whose kernel expires dirty data
// after expire, and starts watching its trace.
func NewDirtyExpire(w *sim.World, expire sim.Time) *DirtyExpire {
	c := &DirtyExpire{Expire: expire, w: w, since: map[pageID]sim.Time{}, passStart: -1, prevStart: -1}
	w.Observe(c.observe)
	return c
}

func (c *DirtyExpire) observe(w *sim.World, ev *sim.Event) {
	switch ev.Kind {
	case sim.KindPoint:
		if ev.Obj.Class != "page" {
			return
		}
		id := pageID{ev.Obj.A, ev.Obj.B}
		switch ev.Op {
		case "SetPageDirty", "TestSetPageDirty":
			if _, dirty := c.since[id]; !dirty {
				c.since[id] = w.Now()
				c.order = append(c.order, dirtied{id, w.Now()})
			}
		case "TestClearPageDirty", "ClearPageDirty":
			delete(c.since, id)
		}
	case sim.KindEnter:
		if ev.Op == "wb_kupdate" {
			c.prevStart, c.passStart = c.passStart, w.Now()
		}
	case sim.KindLeave:
		if ev.Op == "wb_kupdate" && c.prevStart >= 0 {
			if f := c.judge(); f != nil {
				w.Fail(f)
			}
		}
	}
}

// judge returns the failure of the oldest dirty page, if it is overdue.
func (c *DirtyExpire) judge() *sim.Failure {
	for len(c.order) > 0 {
		d := c.order[0]
		if at, dirty := c.since[d.page]; dirty && at == d.at {
			break
		}
		c.order = c.order[1:] // cleaned, or dirtied again later
	}
	if len(c.order) == 0 || c.order[0].at > c.prevStart-c.Expire {
		return nil
	}
	d := c.order[0]
	return &sim.Failure{Kind: sim.FailInvariant, Invariant: InvDirtyExpire, Obj: sim.Obj{Class: "page", A: d.page.ino, B: d.page.index},
		Msg: fmt.Sprintf("page %d:%d has been dirty since %s, and the kupdate passes that began at %s and %s, both more than dirty_expire_interval (%s) later, left it dirty",
			d.page.ino, d.page.index, d.at, c.prevStart, c.passStart, c.Expire),
		Explain: "The periodic flusher (wb_kupdate, every dirty_writeback_interval) writes back every " +
			"inode dirtied more than dirty_expire_interval ago, so a dirty page is written within " +
			"about that age: the first pass after it expires takes its inode, and if that pass had to " +
			"skip the page (under writeback, locked, or its inode being synced) the next one writes " +
			"it. A page still dirty after two such passes is held back by writeback itself: an inode " +
			"refiled as freshly dirtied, a pass that stops early, or a page it never reaches."}
}
