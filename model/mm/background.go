package mm

import (
	"github.com/wbsim/wbsim/sim"
)

// Background writeback: the periodic kupdate flush, background writeout
// above the dirty threshold, and throttling of dirtiers. Translated from
// mm/page-writeback.c and fs/fs-writeback.c of the pdflush era for every
// modelled kernel: Linux 2.6.23 (torvalds/linux 00128188, mm/page-
// writeback.c, read via the search tool: global dirty limits, pdflush,
// no per-bdi proportions; 2.6.22 is the same in what is modelled) for
// wb_kupdate, background_writeout, get_dirty_limits and
// balance_dirty_pages; sync_sb_inodes from memory of 2.6.22's
// fs/fs-writeback.c; Linux 2.6.32 (zybsyzlz/linux-2.6.32 ec78931d,
// fs/fs-writeback.c, read) for writeback_single_inode, redirty_tail and
// requeue_io.
//
// 2.6.12: no 2.6.12 copy of these files is in the corpus; it was read
// between Linux 2.6.11 (jasonactions/linux2.6.11_comment 6a30cb34,
// mm/page-writeback.c; Antonio-Zhou/Linux-2.6.11 de3adf88,
// fs/fs-writeback.c) and Linux 2.6.14 (jasonactions/2.6.14-comment,
// 2.6.14/mm/page-writeback.c 87615918 and 2.6.14/fs/fs-writeback.c
// de5ac235), which agree in everything modelled here, so 2.6.12 has the
// same text. Where it differs from the 2.6.23/2.6.32 text the functions
// below branch on V2_6_12 and say so: balance_dirty_pages_ratelimited's
// post-increment test, get_dirty_limits without determine_dirtyable_
// memory's +1, and __writeback_single_inode/__sync_single_inode's
// refiling of the inode. The 2.6.32 bdi flusher threads (wb_writeback,
// bdi_start_writeback, per-bdi dirty limits) and 3.2's IO-less
// balance_dirty_pages are not modelled: every era runs the pdflush
// design. Further simplifications:
//
//   - one superblock and one dirty-inode list (oldest first) instead of
//     sb->s_dirty/s_io/s_more_io or the per-bdi b_dirty/b_io/b_more_io;
//     requeue_io puts the inode back at the old end, redirty_tail at the
//     young end;
//   - the kupdate timer is a daemon task that sleeps
//     dirty_writeback_interval; pdflush_operation (wakeup_flusher_threads)
//     spawns a daemon task for the background work unless one is already
//     working the queue;
//   - dirty limits are global (2.6.22), not the per-bdi proportions of
//     2.6.24+; dirtyable memory is Kernel.TotalRAMPages;
//   - congestion_wait is a fixed sleep (see CongestionWait).

// MAX_WRITEBACK_PAGES is how many pages kupdate and background writeout
// ask for per round.
const MAX_WRITEBACK_PAGES = 1024

// FlusherOptions configures StartFlusher.
type FlusherOptions struct {
	// NoKupdate disables the periodic writeback of old data (the kernel's
	// dirty_writeback_interval = 0).
	NoKupdate bool
}

type flusher struct {
	k          *Kernel
	opts       FlusherOptions
	kupdate    *sim.Task
	worker     *sim.Task // the background writeout task, while it runs
	background int       // background writeout tasks running (0 or 1)
}

// StartFlusher spawns the kupdate daemon: every dirty_writeback_interval
// it writes back inodes dirtied more than dirty_expire_interval ago.
// Background writeout (above the background threshold, or on Kick) runs
// in its own daemon task when asked. Daemons do not keep a run going.
func StartFlusher(k *Kernel, opts FlusherOptions) {
	f := &flusher{k: k, opts: opts}
	k.flusher = f
	if opts.NoKupdate || k.DirtyWritebackInterval <= 0 {
		return
	}
	f.kupdate = k.W.SpawnDaemon("kupdate", func(t *sim.Task) {
		// page_writeback_init arms wb_timer dirty_writeback_interval
		// after boot; each wb_kupdate re-arms it for the time it returns.
		t.Sleep(k.DirtyWritebackInterval)
		for {
			next := WbKupdate(t, k)
			if d := next - t.World().Now(); d > 0 {
				t.Sleep(d)
			}
		}
	})
}

// Kick is wakeup_pdflush / wakeup_flusher_threads(0) from outside a task:
// start background writeout of every dirty page. It spawns the worker
// daemon directly.
func (k *Kernel) Kick() {
	k.spawnBackground(k.NrFileDirty + k.NrUnstableNFS)
}

func (k *Kernel) spawnBackground(nrPages int64) {
	f := k.flusher
	if f == nil {
		f = &flusher{k: k, opts: FlusherOptions{NoKupdate: true}}
		k.flusher = f
	}
	if f.background > 0 {
		return // a pdflush thread is already working the queue
	}
	f.background++
	f.worker = k.W.SpawnDaemon("pdflush", func(t *sim.Task) {
		defer func() { f.background--; f.worker = nil }()
		BackgroundWriteout(t, k, nrPages)
	})
}

// WakeupFlusherThreads is wakeup_pdflush(nr_pages) (2.6.2x), called
// wakeup_flusher_threads from 2.6.32: start background writeout of
// nr_pages pages, or of every dirty page when nr_pages is 0.
func WakeupFlusherThreads(t *sim.Task, k *Kernel, nrPages int64) {
	if nrPages == 0 {
		nrPages = k.NrFileDirty + k.NrUnstableNFS
	}
	t.World().Record(sim.KindPoint, "wakeup_flusher_threads", sim.Obj{}, nrPages, "")
	k.spawnBackground(nrPages)
}

// GetDirtyLimits is get_dirty_limits(&background, &dirty, mapping), Linux
// 2.6.23 (read): the background and throttling thresholds in pages.
// Simplified: dirtyable memory is all of RAM, nothing counts as mapped or
// anonymous (so unmapped_ratio is 100 and its clamp caps dirty_ratio at
// 50), and no task is PF_LESS_THROTTLE or real-time.
//
// 2.6.12 (get_dirty_limits(wbs, ...), read from 2.6.11 and 2.6.14, see
// the file comment) computes the same ratios over available_memory =
// total_pages, without the "+ 1" that 2.6.23's determine_dirtyable_memory
// adds; otherwise the same (no highmem in the model).
func GetDirtyLimits(k *Kernel) (background, dirty int64) {
	available := k.TotalRAMPages + 1 // determine_dirtyable_memory never returns 0
	if !k.Era().DirtyableMemoryPlusOne {
		available = k.TotalRAMPages // unsigned long available_memory = total_pages
	}
	const unmappedRatio = 100
	dirtyRatio := int64(k.DirtyRatio)
	if dirtyRatio > unmappedRatio/2 {
		dirtyRatio = unmappedRatio / 2
	}
	if dirtyRatio < 5 {
		dirtyRatio = 5
	}
	backgroundRatio := int64(k.DirtyBackgroundRatio)
	if backgroundRatio >= dirtyRatio {
		backgroundRatio = dirtyRatio / 2
	}
	return backgroundRatio * available / 100, dirtyRatio * available / 100
}

// BackgroundWriteout is background_writeout(min_pages), Linux 2.6.23
// (read): write back at least minPages, and keep going while dirty memory
// is above the background threshold or until everything is clean.
// 2.6.12 is the same here (read from 2.6.11 and 2.6.14, see the file
// comment; blk_congestion_wait is congestion_wait).
func BackgroundWriteout(t *sim.Task, k *Kernel, minPages int64) {
	t.Enter("background_writeout")
	defer t.Leave()
	wbc := &WritebackControl{SyncMode: WB_SYNC_NONE, Nonblocking: true, RangeCyclic: true}
	for {
		backgroundThresh, _ := GetDirtyLimits(k)
		if k.NrFileDirty+k.NrUnstableNFS < backgroundThresh && minPages <= 0 {
			break
		}
		wbc.EncounteredCongestion = false
		wbc.NrToWrite = MAX_WRITEBACK_PAGES
		wbc.PagesSkipped = 0
		WritebackInodes(t, k, wbc)
		minPages -= MAX_WRITEBACK_PAGES - wbc.NrToWrite
		if wbc.NrToWrite > 0 || wbc.PagesSkipped > 0 {
			// Wrote less than expected
			CongestionWait(t, 100*sim.Millisecond)
			if !wbc.EncounteredCongestion {
				break
			}
		}
	}
}

// WbKupdate is wb_kupdate, Linux 2.6.23 (read; sync_supers writes no super
// block in the model, and the inodes in use are those on the dirty
// list): write back the inodes dirtied
// longer than dirty_expire_interval ago, MAX_WRITEBACK_PAGES at a time.
// It returns when the next run is due. 2.6.12 is the same here (read from
// 2.6.11 and 2.6.14, see the file comment; its intervals are in
// centiseconds).
func WbKupdate(t *sim.Task, k *Kernel) sim.Time {
	t.Enter("wb_kupdate")
	defer t.Leave()
	now := t.World().Now()
	oldest := now - k.DirtyExpireInterval
	next := now + k.DirtyWritebackInterval
	wbc := &WritebackControl{SyncMode: WB_SYNC_NONE, OlderThanThis: &oldest, Nonblocking: true,
		ForKupdate: true, RangeCyclic: true}
	nrToWrite := k.NrFileDirty + k.NrUnstableNFS + int64(len(k.dirtyInodes))
	for nrToWrite > 0 {
		wbc.EncounteredCongestion = false
		wbc.NrToWrite = MAX_WRITEBACK_PAGES
		WritebackInodes(t, k, wbc)
		if wbc.NrToWrite > 0 {
			if wbc.EncounteredCongestion {
				CongestionWait(t, 100*sim.Millisecond)
			} else {
				break // All the old data is written
			}
		}
		nrToWrite -= MAX_WRITEBACK_PAGES - wbc.NrToWrite
	}
	if t.World().Now()+sim.Second > next {
		next = t.World().Now() + sim.Second
	}
	return next
}

// WritebackInodes is writeback_inodes(wbc) with sync_sb_inodes, fs/fs-
// writeback.c, Linux 2.6.22 (from memory; its 2.6.32 successor
// writeback_inodes_wb, read, keeps these tests), over the model's one
// dirty list: take the inodes dirty now, oldest first, and write each
// back until nr_to_write runs out. It stops at an inode dirtied after the
// call began (livelock avoidance) or, for kupdate, after
// *older_than_this; with nonblocking it stops at a congested queue; a
// pdflush thread stops where another pdflush holds the queue
// (writeback_acquire). An inode of the wrong queue (wbc->bdi) is skipped,
// not the rest of the list: the model has one super block for all
// queues. With WB_SYNC_HOLD (sys_sync's first pass, 2.6.12 to 2.6.28)
// each inode written goes back on the dirty list, dirtied now, so that
// the WB_SYNC_ALL pass finds it and waits on its pages.
//
// 2.6.12's sync_sb_inodes (read from 2.6.11 and 2.6.14, see the file
// comment) has the same tests in the same order (its memory_backed /
// bdi_cap_writeback_dirty test is not modelled in any era: no queue of
// the model is memory-backed) and the same WB_SYNC_HOLD refiling.
func WritebackInodes(t *sim.Task, k *Kernel, wbc *WritebackControl) {
	t.Enter("writeback_inodes")
	defer t.Leave()
	start := t.World().Now()
	k.InodeLock.Lock(t)
	io := append([]*Inode(nil), k.dirtyInodes...) // list_splice_init(&sb->s_dirty, &sb->s_io)
	for _, inode := range io {
		if !inode.onDirty {
			continue // written back meanwhile by someone else
		}
		mapping := inode.Mapping
		bdi := mapping.BDI
		if wbc.Nonblocking && BdiWriteCongested(bdi) {
			wbc.EncounteredCongestion = true
			break // Skip a congested fs
		}
		if wbc.BDI != nil && bdi != wbc.BDI {
			continue // wrong queue (the model has one superblock, so skip only this inode)
		}
		// Was this inode dirtied after sync_sb_inodes was called?
		if inode.DirtiedWhen > start {
			break
		}
		// Was this inode dirtied too recently?
		if wbc.OlderThanThis != nil && inode.DirtiedWhen > *wbc.OlderThanThis {
			break
		}
		// Is another pdflush already flushing this queue?
		pdflush := k.currentIsPdflush(t)
		if pdflush && !writebackAcquire(bdi) {
			break
		}
		pagesSkipped := wbc.PagesSkipped
		k.InodeLock.Unlock(t)
		writebackSingleInode(t, inode, wbc)
		k.InodeLock.Lock(t)
		if wbc.SyncMode == WB_SYNC_HOLD {
			inode.DirtiedWhen = t.World().Now()
			k.moveToDirty(inode, false) // list_move(&inode->i_list, &sb->s_dirty)
		}
		if pdflush {
			bdi.pdflushBusy = false // writeback_release
		}
		if wbc.PagesSkipped != pagesSkipped {
			// writeback is not making progress due to locked buffers.
			// Skip this inode for now.
			if inode.onDirty {
				k.moveToDirty(inode, false)
			}
		}
		k.InodeLock.Unlock(t)
		t.CondResched()
		k.InodeLock.Lock(t)
		if wbc.NrToWrite <= 0 {
			break
		}
	}
	k.InodeLock.Unlock(t)
}

// WriteInodeNow is write_inode_now(inode, sync) without the inode write:
// writeback_single_inode with nr_to_write LONG_MAX, WB_SYNC_ALL when
// sync, else WB_SYNC_NONE.
func WriteInodeNow(t *sim.Task, inode *Inode, sync bool) int {
	wbc := &WritebackControl{NrToWrite: LLONG_MAX, RangeStart: 0, RangeEnd: LLONG_MAX}
	if sync {
		wbc.SyncMode = WB_SYNC_ALL
	}
	return writebackSingleInode(t, inode, wbc)
}

// writebackSingleInode is writeback_single_inode(inode, wbc),
// fs/fs-writeback.c (called without inode_lock here; it takes it): wait
// for or skip an inode already being synced (I_SYNC), set I_SYNC,
// do_writepages, write the inode if it was dirty, wait on the pages for
// WB_SYNC_ALL, then clear I_SYNC and put the inode back on the dirty list
// if it is (still, or again) dirty.
//
// The 2.6.12 and 2.6.2x eras run Linux 2.6.32's text (zybsyzlz/linux-
// 2.6.32 ec78931d, fs/fs-writeback.c, read via the search tool; 2.6.12's
// __sync_single_inode has the same order): all of I_DIRTY is cleared
// before the pages are written, and ->write_inode runs before the wait on
// the data. The 3.x and afs-2.6.3x eras run the 2.6.35+ order, checked
// for 3.x against Linux 3.0 (CyanogenMod/android_kernel_samsung_smdk4412
// 74cb155c, fs/fs-writeback.c, read via the search tool; it carries 3.1's
// tagged_writepages): only I_DIRTY_PAGES is cleared first, the data is
// waited on (WB_SYNC_ALL), and then the metadata flags are taken and the
// inode written.
//
// Refiling when done differs by era:
//
//   - 2.6.12 (__writeback_single_inode and __sync_single_inode, read from
//     2.6.11 and 2.6.14, see the file comment): an inode under I_LOCK
//     that a WB_SYNC_NONE caller skips goes to the young end
//     (list_move to s_dirty), not to the old end; afterwards pages left
//     dirty on an otherwise clean inode put it at the old end for kupdate
//     (list_move_tail) and otherwise at the young end with dirtied_when
//     = now; an inode redirtied meanwhile goes to the young end keeping
//     its dirtied_when.
//   - 2.6.2x and afs-2.6.3x: Linux 2.6.32 (read): kupdate's select_queue
//     for I_DIRTY_PAGES, redirty_tail otherwise.
//   - 3.x (3.0 copy above): sync livelock prevention first (an inode
//     still dirty after WB_SYNC_ALL or tagged writeback gets dirtied_when
//     = now); pages left dirty mean requeue_io if the slice is used up,
//     redirty_tail if not, whoever the caller; a redirtied inode gets
//     redirty_tail.
func writebackSingleInode(t *sim.Task, inode *Inode, wbc *WritebackControl) int {
	t.Enter("writeback_single_inode")
	defer t.Leave()
	k := inode.Kernel
	mapping := inode.Mapping
	wait := wbc.SyncMode == WB_SYNC_ALL

	k.InodeLock.Lock(t)
	if inode.State&I_SYNC != 0 {
		// If this inode is locked for writeback and we are not doing
		// writeback-for-data-integrity, move it to the old end so that
		// writeback can proceed with the other inodes.
		if !wait {
			if !k.Era().RequeueIO {
				// 2.6.12: list_move(&inode->i_list, &inode->i_sb->s_dirty)
				k.moveToDirty(inode, false)
			} else {
				k.moveToDirty(inode, true) // requeue_io
			}
			k.InodeLock.Unlock(t)
			return 0
		}
		// It's a data-integrity sync. We must wait.
		for inode.State&I_SYNC != 0 {
			k.InodeLock.Unlock(t)
			sim.WaitOnBit(t, &inode.State, 7, inode.Obj(), "inode_wait_for_writeback")
			k.InodeLock.Lock(t)
		}
	}
	old := !k.Era().WaitDataBeforeInode
	var dirty uint64
	inode.State |= I_SYNC
	if old {
		// Set I_SYNC, reset I_DIRTY
		dirty = inode.State & I_DIRTY
		inode.State &^= I_DIRTY
	} else {
		// Set I_SYNC, reset I_DIRTY_PAGES
		inode.State &^= I_DIRTY_PAGES
	}
	k.delDirty(inode)
	k.InodeLock.Unlock(t)

	ret := DoWritepages(t, mapping, wbc)

	if !old {
		// Make sure to wait on the data before writing out the metadata.
		if wait {
			if err := FilemapFdatawait(t, mapping); ret == 0 {
				ret = err
			}
		}
		k.InodeLock.Lock(t)
		dirty = inode.State & I_DIRTY
		inode.State &^= I_DIRTY_SYNC | I_DIRTY_DATASYNC
		k.InodeLock.Unlock(t)
	}
	// Don't write the inode if only I_DIRTY_PAGES was set
	if dirty&(I_DIRTY_SYNC|I_DIRTY_DATASYNC) != 0 && k.WriteInode != nil {
		if err := k.WriteInode(t, inode, wait); ret == 0 {
			ret = err
		}
	}
	if old && wait {
		if err := FilemapFdatawait(t, mapping); ret == 0 {
			ret = err
		}
	}

	k.InodeLock.Lock(t)
	if k.plant != plantKeepISync {
		inode.State &^= I_SYNC
	}
	switch {
	case !k.Era().RequeueIO:
		syncSingleInodeRefile2612(t, k, inode, wbc)
	case k.Era().Refile3x:
		writebackSingleInodeRefile3x(t, k, inode, wbc)
	case inode.State&(I_FREEING|I_CLEAR) == 0:
		switch {
		case inode.State&I_DIRTY_PAGES != 0 && wbc.ForKupdate:
			// More pages get dirtied by a fast dirtier.
			selectQueue(t, k, inode, wbc)
		case inode.State&I_DIRTY != 0:
			redirtyTail(t, k, inode)
		case MappingTagged(mapping, PAGECACHE_TAG_DIRTY):
			// We didn't write back all the pages. Redirty the inode:
			// for kupdate so that it gets more writeout as soon as the
			// queue becomes uncongested, otherwise fully, so that other
			// inodes get some writeout too.
			inode.State |= I_DIRTY_PAGES
			if wbc.ForKupdate {
				selectQueue(t, k, inode, wbc)
			} else {
				redirtyTail(t, k, inode)
			}
		default:
			// The inode is clean.
		}
	}
	k.InodeLock.Unlock(t)
	sim.WakeUpBit(t, &inode.State, 7, inode.Obj()) // inode_sync_complete
	return ret
}

// syncSingleInodeRefile2612 is the end of __sync_single_inode, 2.6.12
// (read from 2.6.11 and 2.6.14, see the file comment), under inode_lock:
// refile the inode by its state. A clean inode leaves the dirty list
// (inode_in_use or inode_unused in the kernel).
func syncSingleInodeRefile2612(t *sim.Task, k *Kernel, inode *Inode, wbc *WritebackControl) {
	if inode.State&I_FREEING != 0 {
		return
	}
	mapping := inode.Mapping
	if inode.State&I_DIRTY == 0 && MappingTagged(mapping, PAGECACHE_TAG_DIRTY) {
		// We didn't write back all the pages. Redirty the inode.
		if wbc.ForKupdate {
			// For the kupdate function we leave the inode at the head
			// of sb_dirty so it will get more writeout as soon as the
			// queue becomes uncongested.
			inode.State |= I_DIRTY_PAGES
			k.moveToDirty(inode, true) // list_move_tail
		} else {
			// Otherwise fully redirty the inode so that other inodes
			// on this superblock will get some writeout.
			inode.State |= I_DIRTY_PAGES
			inode.DirtiedWhen = t.World().Now()
			k.moveToDirty(inode, false) // list_move
		}
	} else if inode.State&I_DIRTY != 0 {
		// Someone redirtied the inode while were writing back the pages.
		k.moveToDirty(inode, false) // list_move, dirtied_when kept
	}
	// else: the inode is clean
}

// writebackSingleInodeRefile3x is the end of writeback_single_inode, 3.x
// (3.0 with 3.1's tagged_writepages, read; see writebackSingleInode),
// under the list lock.
func writebackSingleInodeRefile3x(t *sim.Task, k *Kernel, inode *Inode, wbc *WritebackControl) {
	if inode.State&I_FREEING != 0 {
		return
	}
	// Sync livelock prevention. Each inode is tagged and synced in one
	// shot. If still dirty, it will be redirty_tail()'ed below. Update
	// the dirty time to prevent enqueue and sync it again.
	if inode.State&I_DIRTY != 0 && (wbc.SyncMode == WB_SYNC_ALL || wbc.TaggedWritepages) {
		inode.DirtiedWhen = t.World().Now()
	}
	if MappingTagged(inode.Mapping, PAGECACHE_TAG_DIRTY) {
		// We didn't write back all the pages.
		inode.State |= I_DIRTY_PAGES
		if wbc.NrToWrite <= 0 {
			k.moveToDirty(inode, true) // slice used up: queue for next turn (requeue_io)
		} else {
			redirtyTail(t, k, inode) // writeback blocked by something other than congestion
		}
	} else if inode.State&I_DIRTY != 0 {
		// Filesystems can dirty the inode during writeback operations.
		redirtyTail(t, k, inode)
	}
	// else: the inode is clean (list_del_init)
}

// selectQueue is writeback_single_inode's select_queue label.
func selectQueue(t *sim.Task, k *Kernel, inode *Inode, wbc *WritebackControl) {
	if wbc.NrToWrite <= 0 {
		k.moveToDirty(inode, true) // slice used up: queue for next turn (requeue_io)
	} else {
		redirtyTail(t, k, inode) // somehow blocked: retry later
	}
}

// redirtyTail is redirty_tail(inode), Linux 2.6.32 (read): refile at the
// young end, refreshing dirtied_when if it would break the list's time
// order.
func redirtyTail(t *sim.Task, k *Kernel, inode *Inode) {
	if n := len(k.dirtyInodes); n > 0 {
		if tail := k.dirtyInodes[n-1]; tail != inode && inode.DirtiedWhen < tail.DirtiedWhen {
			inode.DirtiedWhen = t.World().Now()
		}
	}
	k.moveToDirty(inode, false)
}

// BalanceDirtyPagesRatelimited is balance_dirty_pages_ratelimited(mapping)
// (balance_dirty_pages_ratelimited_nr with 1), Linux 2.6.23 (read; one
// CPU's counter): once per
// ratelimit_pages dirtied pages (8 while over the limit), check the dirty
// limits.
func BalanceDirtyPagesRatelimited(t *sim.Task, mapping *AddressSpace) {
	BalanceDirtyPagesRatelimitedNr(t, mapping, 1)
}

// BalanceDirtyPagesRatelimitedNr is balance_dirty_pages_ratelimited_nr.
//
// 2.6.12 has only balance_dirty_pages_ratelimited (read from 2.6.11 and
// 2.6.14, see the file comment), whose test is
// get_cpu_var(ratelimits)++ >= ratelimit: it compares the count before
// this page, so balance_dirty_pages runs on the (ratelimit+1)th dirtied
// page, one later than 2.6.23's *p += nr; *p >= ratelimit.
func BalanceDirtyPagesRatelimitedNr(t *sim.Task, mapping *AddressSpace, nrPagesDirtied int64) {
	k := mapping.Host.Kernel
	ratelimit := k.RatelimitPages
	if k.dirtyExceeded {
		ratelimit = 8
	}
	if !k.Era().RatelimitCountsThisPage {
		before := k.ratelimit
		k.ratelimit += nrPagesDirtied
		if before >= ratelimit {
			k.ratelimit = 0
			BalanceDirtyPages(t, mapping)
		}
		return
	}
	k.ratelimit += nrPagesDirtied
	if k.ratelimit >= ratelimit {
		k.ratelimit = 0
		BalanceDirtyPages(t, mapping)
	}
}

// BalanceDirtyPages is balance_dirty_pages(mapping), mm/page-writeback.c,
// Linux 2.6.23 (read; laptop_mode off): while dirty plus writeback pages exceed the dirty
// threshold, the dirtier itself writes back up to write_chunk pages of
// this queue (writeback_inodes) and sleeps in congestion_wait; afterwards
// it starts background writeout if dirty memory is above the background
// threshold and no flusher works the queue.
func BalanceDirtyPages(t *sim.Task, mapping *AddressSpace) {
	t.Enter("balance_dirty_pages")
	defer t.Leave()
	k := mapping.Host.Kernel
	bdi := mapping.BDI
	var nrReclaimable, backgroundThresh, dirtyThresh int64
	var pagesWritten int64
	writeChunk := k.RatelimitPages + k.RatelimitPages/2 // sync_writeback_pages()

	for {
		wbc := &WritebackControl{BDI: bdi, SyncMode: WB_SYNC_NONE, NrToWrite: writeChunk, RangeCyclic: true}
		backgroundThresh, dirtyThresh = GetDirtyLimits(k)
		nrReclaimable = k.NrFileDirty + k.NrUnstableNFS
		if nrReclaimable+k.NrWriteback <= dirtyThresh {
			break
		}
		if !k.dirtyExceeded {
			k.dirtyExceeded = true
		}
		if nrReclaimable != 0 {
			WritebackInodes(t, k, wbc)
			backgroundThresh, dirtyThresh = GetDirtyLimits(k)
			nrReclaimable = k.NrFileDirty + k.NrUnstableNFS
			if nrReclaimable+k.NrWriteback <= dirtyThresh {
				break
			}
			pagesWritten += writeChunk - wbc.NrToWrite
			if pagesWritten >= writeChunk {
				break // We've done our duty
			}
		}
		if k.plant == plantBdpSpin {
			t.CondResched()
			continue
		}
		CongestionWait(t, 100*sim.Millisecond)
	}
	if nrReclaimable+k.NrWriteback <= dirtyThresh && k.dirtyExceeded {
		k.dirtyExceeded = false
	}
	if WritebackInProgress(bdi) {
		return // pdflush is already working this queue
	}
	if nrReclaimable > backgroundThresh {
		// pdflush_operation(background_writeout, 0): min_pages 0, so
		// the worker stops once below the background threshold (not
		// wakeup_pdflush(0), which would ask for every dirty page).
		t.World().Record(sim.KindPoint, "pdflush_operation", sim.Obj{}, 0, "background_writeout")
		k.spawnBackground(0)
	}
}

// currentIsPdflush is current_is_pdflush(), mm/pdflush.c, Linux 2.6.23
// (PF_FLUSHER): whether t is one of the flusher's daemons (kupdate or a
// background writeout worker).
func (k *Kernel) currentIsPdflush(t *sim.Task) bool {
	f := k.flusher
	return f != nil && (t == f.kupdate || t == f.worker)
}

// writebackAcquire is writeback_acquire(bdi), Linux 2.6.23:
// !test_and_set_bit(BDI_pdflush): at most one pdflush thread works a
// queue at a time.
func writebackAcquire(bdi *BackingDevInfo) bool {
	if bdi.pdflushBusy {
		return false
	}
	bdi.pdflushBusy = true
	return true
}
