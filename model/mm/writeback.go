package mm

import (
	"fmt"

	"github.com/wbsim/wbsim/sim"
)

// WritebackSyncMode is enum writeback_sync_modes.
type WritebackSyncMode int

// Sync modes.
const (
	WB_SYNC_NONE WritebackSyncMode = iota // don't wait on anything
	WB_SYNC_ALL                           // wait on every mapping (data integrity)
	WB_SYNC_HOLD                          // 2.6.12 to 2.6.28: hold the inode on sb_dirty for sys_sync()
)

func (m WritebackSyncMode) String() string {
	switch m {
	case WB_SYNC_NONE:
		return "WB_SYNC_NONE"
	case WB_SYNC_ALL:
		return "WB_SYNC_ALL"
	case WB_SYNC_HOLD:
		return "WB_SYNC_HOLD"
	}
	return fmt.Sprintf("WB_SYNC(%d)", int(m))
}

// WritebackControl is struct writeback_control (include/linux/writeback.h),
// with the fields of all three modelled eras; each says where it exists.
type WritebackControl struct {
	BDI      *BackingDevInfo // 2.6.12-2.6.3x: if set, only write back this queue
	SyncMode WritebackSyncMode
	// OlderThanThis: if set, only write back inodes dirtied before it
	// (kupdate). A pointer, as in the kernel.
	OlderThanThis *sim.Time
	NrToWrite     int64 // write this many pages, and decrement for each page written
	PagesSkipped  int64 // pages which were not written

	// Start and End are 2.6.12's byte range (wbc->start, wbc->end,
	// inclusive); both 0 means the whole file.
	Start, End int64
	// RangeStart and RangeEnd are the byte range of 2.6.16+ (inclusive).
	RangeStart, RangeEnd int64

	Nonblocking           bool // 2.6.12-2.6.3x: don't get stuck on request queues
	EncounteredCongestion bool // 2.6.12-2.6.3x: an output: a queue is full
	ForKupdate            bool // a kupdate writeback
	ForReclaim            bool // invoked from the page allocator (pageout)
	ForWritepages         bool // 2.6.12-2.6.30: this is a writepages() call
	RangeCyclic           bool // 2.6.17+: range_start is cyclic (start at writeback_index)
	// NoNrwriteIndexUpdate is 2.6.29-2.6.34: write_cache_pages leaves
	// nr_to_write and writeback_index alone (ext4 delalloc).
	NoNrwriteIndexUpdate bool
	// TaggedWritepages is 3.1+: tag-and-write to avoid livelock even in
	// WB_SYNC_NONE mode.
	TaggedWritepages bool
}

// WritepageFunc is writepage_t: the callback of write_cache_pages.
type WritepageFunc func(t *sim.Task, p *Page, wbc *WritebackControl, data any) int

// BDI statistics items (enum bdi_stat_item).
const (
	BDI_RECLAIMABLE = iota
	BDI_WRITEBACK
	NR_BDI_STAT_ITEMS
)

// BackingDevInfo is struct backing_dev_info: the queue a mapping writes to.
type BackingDevInfo struct {
	Name string
	// WriteCongestedFn, if set, is consulted by bdi_write_congested: the
	// block layer (or the disk model) installs its queue's congestion test.
	WriteCongestedFn func() bool
	congested        [2]bool // BDI_sync_congested / BDI_async_congested as set by set_bdi_congested

	// Capabilities (BDI_CAP_NO_WRITEBACK, BDI_CAP_NO_ACCT_DIRTY), both
	// false for a normal disk.
	NoWriteback    bool
	NoAccountDirty bool

	Stat          [NR_BDI_STAT_ITEMS]int64
	DirtyExceeded bool
	// pdflushBusy is the BDI_pdflush bit: a pdflush thread is writing
	// this queue (writeback_acquire/writeback_release).
	pdflushBusy bool
}

// NewBackingDevInfo makes a queue that is never congested until the
// block layer says otherwise.
func NewBackingDevInfo(name string) *BackingDevInfo { return &BackingDevInfo{Name: name} }

// BdiWriteCongested is bdi_write_congested(bdi).
func BdiWriteCongested(bdi *BackingDevInfo) bool {
	if bdi == nil {
		return false
	}
	if bdi.congested[1] {
		return true
	}
	return bdi.WriteCongestedFn != nil && bdi.WriteCongestedFn()
}

// SetBdiCongested is set_bdi_congested(bdi, WRITE).
func SetBdiCongested(bdi *BackingDevInfo) { bdi.congested[1] = true }

// ClearBdiCongested is clear_bdi_congested(bdi, WRITE). The kernel also
// wakes congestion_wait sleepers; the model's congestion_wait is a plain
// timed sleep (see CongestionWait).
func ClearBdiCongested(bdi *BackingDevInfo) { bdi.congested[1] = false }

// CongestionWait is congestion_wait(WRITE, timeout), mm/backing-dev.c:
// sleep until a queue leaves congestion or the timeout passes.
// Simplified: it always sleeps for the whole timeout (no wakeup from
// clear_bdi_congested), which only makes throttled writers slower.
func CongestionWait(t *sim.Task, timeout sim.Time) {
	t.Point("congestion_wait", sim.Obj{}, int64(timeout))
	t.Sleep(timeout)
}

// WritebackInProgress is writeback_in_progress(bdi), Linux 2.6.23:
// test_bit(BDI_pdflush).
func WritebackInProgress(bdi *BackingDevInfo) bool { return bdi.pdflushBusy }

// Dirty and writeback page-flag operations, mm/page-writeback.c.

// TestSetPageWriteback is test_set_page_writeback(page), mm/page-writeback.c,
// Linux 2.6.32 for 2.6.12/2.6.2x (zybsyzlz/linux-2.6.32 ec78931d,
// mm/page-writeback.c, read via the search tool) and Linux 3.1.10 for 3.x
// (AICP/kernel_asus_grouper 5635ba2d, read; 3.1 to 3.13 share it), which
// also clears PAGECACHE_TAG_TOWRITE: under tree_lock, set PG_writeback and tag the page
// WRITEBACK, clear the DIRTY tag if the page is no longer dirty, and count
// NR_WRITEBACK. It returns whether the page was already under writeback.
//
// Model check (page-state, not a kernel BUG): the page must be locked, as
// every caller in the modelled kernels holds the page lock here.
func TestSetPageWriteback(t *sim.Task, p *Page) bool {
	flagOp(t, p, "test_set_page_writeback")
	if !PageLocked(p) {
		pageStateViolation(t, p, fmt.Sprintf("set_page_writeback on unlocked page %d:%d", p.ino, p.Index),
			"PG_writeback was set on a page nobody had locked. Writeback starts under the page lock "+
				"(write_cache_pages locks the page, clear_page_dirty_for_io cleans it, ->writepage sets "+
				"PG_writeback and only then unlocks), so that truncate, which takes the page lock and "+
				"then waits on writeback, cannot slip in between.")
	}
	mapping := p.Mapping
	var ret bool
	if mapping != nil {
		bdi := mapping.BDI
		mapping.TreeLock.Lock(t)
		ret = p.testSet(PG_writeback)
		if !ret {
			mapping.PageTree.TagSet(p.Index, PAGECACHE_TAG_WRITEBACK)
			if !bdi.NoAccountDirty {
				bdi.Stat[BDI_WRITEBACK]++
			}
		}
		if !PageDirty(p) {
			mapping.PageTree.TagClear(p.Index, PAGECACHE_TAG_DIRTY)
		}
		if k := mapping.Host.Kernel; k.Era().TagToWrite || k.TowriteTagging {
			mapping.PageTree.TagClear(p.Index, PAGECACHE_TAG_TOWRITE)
		}
		mapping.TreeLock.Unlock(t)
	} else {
		ret = p.testSet(PG_writeback)
	}
	if !ret {
		p.k.NrWriteback++
	}
	return ret
}

// SetPageWriteback is set_page_writeback(page): test_set_page_writeback,
// result ignored.
func SetPageWriteback(t *sim.Task, p *Page) { TestSetPageWriteback(t, p) }

// TestClearPageWriteback is test_clear_page_writeback(page),
// mm/page-writeback.c, Linux 2.6.32 and 3.1.10 (both read via the search
// tool; the same but for 3.x's NR_WRITTEN and both eras' per-bdi writeout
// proportions, which the model does not keep): under tree_lock clear PG_writeback and
// the WRITEBACK tag, and uncount NR_WRITEBACK.
func TestClearPageWriteback(t *sim.Task, p *Page) bool {
	flagOp(t, p, "test_clear_page_writeback")
	mapping := p.Mapping
	var ret bool
	if mapping != nil {
		bdi := mapping.BDI
		mapping.TreeLock.Lock(t)
		ret = p.testClear(PG_writeback)
		if ret {
			mapping.PageTree.TagClear(p.Index, PAGECACHE_TAG_WRITEBACK)
			if !bdi.NoAccountDirty {
				bdi.Stat[BDI_WRITEBACK]--
			}
		}
		mapping.TreeLock.Unlock(t)
	} else {
		ret = p.testClear(PG_writeback)
	}
	if ret {
		p.k.NrWriteback--
	}
	return ret
}

// EndPageWriteback is end_page_writeback(page), mm/filemap.c, Linux 2.6.32
// (zybsyzlz/linux-2.6.32 ec78931d, read via the search tool; 3.0 is the
// same):
// if reclaim started this writeback (PG_reclaim), rotate the page to the
// tail of the inactive list so it is freed soon; clear PG_writeback (BUG()
// if it was not set); wake the page's PG_writeback waiters. It runs from
// I/O completion, in interrupt context: it does not sleep.
func EndPageWriteback(t *sim.Task, p *Page) {
	t.Enter("end_page_writeback")
	defer t.Leave()
	alive(t, p, "end_page_writeback")
	if TestClearPageReclaim(t, p) {
		RotateReclaimablePage(t, p)
	}
	if !TestClearPageWriteback(t, p) {
		pageStateBUG(t, p, fmt.Sprintf("end_page_writeback on page %d:%d not under writeback", p.ino, p.Index),
			"end_page_writeback was called for a page whose PG_writeback was already clear: the "+
				"writeback of this page was ended twice (two completions for one write, or a completion "+
				"plus an error path that also ends it), or it never started. The kernel BUG()s in "+
				"end_page_writeback when test_clear_page_writeback returns 0.")
	}
	sim.WakeUpBit(t, &p.Flags, PG_writeback, p.Obj())
}

// AccountPageDirtied is account_page_dirtied(page, mapping), 2.6.30: count
// a newly dirty page in NR_FILE_DIRTY and BDI_RECLAIMABLE.
func AccountPageDirtied(p *Page, m *AddressSpace) {
	if MappingCapAccountDirty(m) {
		p.k.NrFileDirty++
		m.BDI.Stat[BDI_RECLAIMABLE]++
	}
}

func accountPageCleaned(p *Page, m *AddressSpace) {
	p.k.NrFileDirty--
	m.BDI.Stat[BDI_RECLAIMABLE]--
}

// SetPageDirtyNobuffers is __set_page_dirty_nobuffers(page),
// mm/page-writeback.c, Linux 2.6.32 and 3.1.10 (read via the search tool;
// identical; the WARN_ON_ONCE for a page neither private nor uptodate is
// not modelled): if the page was clean, set PG_dirty,
// then under tree_lock (rechecking page->mapping against a racing
// truncate) account it and tag it DIRTY, and mark the inode
// I_DIRTY_PAGES. Returns 1 if the page became dirty.
func SetPageDirtyNobuffers(t *sim.Task, p *Page) int {
	t.Enter("__set_page_dirty_nobuffers")
	defer t.Leave()
	if !TestSetPageDirty(t, p) {
		mapping := p.Mapping
		if mapping == nil {
			return 1
		}
		mapping.TreeLock.Lock(t)
		mapping2 := p.Mapping
		if mapping2 != nil { // Race with truncate?
			if mapping2 != mapping {
				t.BUG(p.Obj(), "__set_page_dirty_nobuffers: page moved to another mapping")
			}
			AccountPageDirtied(p, mapping)
			mapping.PageTree.TagSet(p.Index, PAGECACHE_TAG_DIRTY)
		}
		mapping.TreeLock.Unlock(t)
		if mapping.Host != nil {
			MarkInodeDirty(t, mapping.Host, I_DIRTY_PAGES)
		}
		return 1
	}
	return 0
}

// RedirtyPageForWritepage is redirty_page_for_writepage(wbc, page).
func RedirtyPageForWritepage(t *sim.Task, wbc *WritebackControl, p *Page) int {
	wbc.PagesSkipped++
	return SetPageDirtyNobuffers(t, p)
}

// SetPageDirty is set_page_dirty(page), mm/page-writeback.c: Linux 2.6.32
// (zybsyzlz/linux-2.6.32 ec78931d, read via the search tool) for 2.6.12
// and 2.6.2x, Linux 3.1.10 (AICP/kernel_asus_grouper 5635ba2d, read) for
// 3.x and afs-2.6.3x: the mapping's ->set_page_dirty, or
// __set_page_dirty_buffers when it has none (CONFIG_BLOCK); for a page
// with no mapping, just the flag. From 2.6.39 a page with a mapping first
// loses PG_reclaim here (clear_page_dirty_for_io stopped clearing it in
// the same change), so a page redirtied after lru_deactivate_page or
// reclaim marked it is not rotated by its next end_page_writeback. The
// model takes that from the same kernels as ClearPageDirtyForIO does.
func SetPageDirty(t *sim.Task, p *Page) int {
	mapping := p.Mapping
	if mapping != nil {
		if p.k.Era().ClearReclaimOnDirty {
			ClearPageReclaim(t, p)
		}
		if spd, ok := mapping.AOps.(SetPageDirtyOp); ok {
			return spd.SetPageDirty(t, p)
		}
		if f := mapping.Host.Kernel.SetPageDirtyBuffers; f != nil {
			return f(t, p)
		}
		// No buffer layer linked in: the model's stand-in for
		// __set_page_dirty_buffers on a page without buffers is
		// __set_page_dirty_nobuffers, which is what it does then.
		return SetPageDirtyNobuffers(t, p)
	}
	if !PageDirty(p) {
		if !TestSetPageDirty(t, p) {
			return 1
		}
	}
	return 0
}

// SetPageDirtyLock is set_page_dirty_lock(page).
func SetPageDirtyLock(t *sim.Task, p *Page) int {
	LockPage(t, p)
	ret := SetPageDirty(t, p)
	UnlockPage(t, p)
	return ret
}

// ClearPageDirtyForIO is clear_page_dirty_for_io(page),
// mm/page-writeback.c: Linux 2.6.32 (zybsyzlz/linux-2.6.32 ec78931d, read
// via the search tool) for 2.6.12/2.6.2x, which first clears PG_reclaim,
// and Linux 3.1.10 (AICP/kernel_asus_grouper 5635ba2d, read) for 3.x and
// afs-2.6.3x, which does not (set_page_dirty clears it instead). BUG unless the page
// is locked. The DIRTY tag stays set (a concurrent tagged walk can still
// find the page) until ->writepage calls set_page_writeback or
// set_page_dirty; the flag and the tag disagree only while the page is
// locked. page_mkclean finds no dirty ptes (no mmap in the model), so the
// set_page_dirty branch never runs. Returns 1 if the page was dirty.
func ClearPageDirtyForIO(t *sim.Task, p *Page) int {
	t.Point("clear_page_dirty_for_io", p.Obj(), 0)
	alive(t, p, "clear_page_dirty_for_io")
	mapping := p.Mapping
	if !PageLocked(p) {
		pageStateBUG(t, p, fmt.Sprintf("clear_page_dirty_for_io on unlocked page %d:%d", p.ino, p.Index),
			"clear_page_dirty_for_io cleans the page for I/O and relies on the page lock to keep "+
				"truncate, set_page_dirty from fault handlers and other writeback away until the page "+
				"is under writeback: BUG_ON(!PageLocked(page)).")
	}
	if !p.k.Era().ClearReclaimOnDirty {
		ClearPageReclaim(t, p)
	}
	if mapping != nil && MappingCapAccountDirty(mapping) {
		if TestClearPageDirty(t, p) {
			accountPageCleaned(p, mapping)
			return 1
		}
		return 0
	}
	if TestClearPageDirty(t, p) {
		return 1
	}
	return 0
}

// CancelDirtyPage is cancel_dirty_page(page, account_size), mm/truncate.c,
// Linux 2.6.32: the page is being truncated; drop its dirty state and
// accounting without writing it. The DIRTY tag goes when the page leaves
// the tree.
func CancelDirtyPage(t *sim.Task, p *Page, accountSize uint) {
	if TestClearPageDirty(t, p) {
		mapping := p.Mapping
		if mapping != nil && MappingCapAccountDirty(mapping) {
			accountPageCleaned(p, mapping)
		}
	}
}

// MarkInodeDirty is __mark_inode_dirty(inode, flags), fs/fs-writeback.c,
// Linux 2.6.32 (no ->dirty_inode super op in the model): under inode_lock,
// add flags to i_state; an inode that was clean and is not being synced
// (I_SYNC: the syncer re-files it when done) goes on the dirty list with
// dirtied_when = now. An inode already dirty keeps its place, so the list
// stays ordered by dirtied_when.
func MarkInodeDirty(t *sim.Task, ino *Inode, flags uint64) {
	if ino.State&flags == flags {
		return
	}
	k := ino.Kernel
	k.InodeLock.Lock(t)
	if ino.State&flags != flags {
		wasDirty := ino.State & I_DIRTY
		ino.State |= flags
		if ino.State&I_SYNC == 0 && ino.State&(I_FREEING|I_CLEAR) == 0 && wasDirty == 0 {
			ino.DirtiedWhen = t.World().Now()
			k.moveToDirty(ino, false)
		}
	}
	k.InodeLock.Unlock(t)
}

// moveToDirty files ino on the dirty list: at the young end (list_move to
// the head of b_dirty) or, with old, at the old end (list_move_tail).
func (k *Kernel) moveToDirty(ino *Inode, old bool) {
	k.delDirty(ino)
	if old {
		k.dirtyInodes = append([]*Inode{ino}, k.dirtyInodes...)
	} else {
		k.dirtyInodes = append(k.dirtyInodes, ino)
	}
	ino.onDirty = true
}

func (k *Kernel) delDirty(ino *Inode) {
	if !ino.onDirty {
		return
	}
	for i, x := range k.dirtyInodes {
		if x == ino {
			k.dirtyInodes = append(k.dirtyInodes[:i], k.dirtyInodes[i+1:]...)
			break
		}
	}
	ino.onDirty = false
}

// DirtyInodes lists the inodes on the dirty list, oldest first.
func (k *Kernel) DirtyInodes() []*Inode { return append([]*Inode(nil), k.dirtyInodes...) }
