package mm

import (
	"slices"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// Era differences of the writeback daemons and writeback_single_inode
// (background.go): each test shows behaviour that only the era's own
// branch produces.

// newEraKernel makes a kernel of version v. For 2.6.12, whose
// generic_writepages is model/mpage's mpage_writepages (which mm cannot
// import), it installs a stand-in: the 2.6.2x write_cache_pages loop over
// the whole file, which honours nr_to_write the same way.
func newEraKernel(w *sim.World, v Version) *Kernel {
	k := NewKernel(w, v)
	if v == V2_6_12 {
		k.MpageWritepages = func(t *sim.Task, m *AddressSpace, wbc *WritebackControl) int {
			saved := *wbc
			if !wbc.RangeCyclic && wbc.Start == 0 && wbc.End == 0 {
				wbc.RangeStart, wbc.RangeEnd = 0, LLONG_MAX
			}
			ret := writeCachePages2x(t, m, wbc, writepageData, m)
			wbc.RangeStart, wbc.RangeEnd = saved.RangeStart, saved.RangeEnd
			return ret
		}
	}
	return k
}

func runWorld(t *testing.T, w *sim.World, what string) {
	t.Helper()
	if r := w.Run(); r.Failure != nil {
		t.Fatalf("%s: %v", what, r.Failure.Report())
	}
}

// 2.6.12's balance_dirty_pages_ratelimited tests the per-CPU count before
// incrementing it, so it calls balance_dirty_pages one page later than
// 2.6.23's balance_dirty_pages_ratelimited_nr.
func TestRatelimitPostIncrement2612(t *testing.T) {
	for _, v := range []Version{V2_6_12, V2_6_2x} {
		w := sim.New(sim.Config{Seed: 1})
		k := newEraKernel(w, v)
		k.RatelimitPages = 4
		ino := k.NewInode(1, 12, &testFS{}, nil)
		firstReset := 0
		w.Spawn("dirtier", func(tk *sim.Task) {
			for i := 1; i <= 3*int(k.RatelimitPages); i++ {
				BalanceDirtyPagesRatelimited(tk, ino.Mapping)
				if k.ratelimit == 0 && firstReset == 0 {
					firstReset = i
				}
			}
		})
		runWorld(t, w, string(v))
		want := int(k.RatelimitPages)
		if v == V2_6_12 {
			want++ // get_cpu_var(ratelimits)++ >= ratelimit
		}
		if firstReset != want {
			t.Errorf("%s: balance_dirty_pages first ran on dirtied page %d, want %d", v, firstReset, want)
		}
	}
}

// 2.6.12's get_dirty_limits divides total_pages; 2.6.23's
// determine_dirtyable_memory adds one page.
func TestDirtyLimitsAvailable2612(t *testing.T) {
	for _, v := range []Version{V2_6_12, V2_6_2x} {
		k := newEraKernel(sim.New(sim.Config{Seed: 1}), v)
		k.TotalRAMPages = 99 // 99*r/100 and 100*r/100 differ for every ratio
		available := k.TotalRAMPages + 1
		if v == V2_6_12 {
			available = k.TotalRAMPages
		}
		bg, dirty := GetDirtyLimits(k)
		wantBg := int64(k.DirtyBackgroundRatio) * available / 100
		wantDirty := int64(min(k.DirtyRatio, 50)) * available / 100
		if bg != wantBg || dirty != wantDirty {
			t.Errorf("%s: limits %d/%d, want %d/%d", v, bg, dirty, wantBg, wantDirty)
		}
	}
}

// dirtyTwo dirties a page of a at time 0 and of b at 1 s, then sleeps to
// 10 s.
func dirtyTwo(tk *sim.Task, a, b *Inode, pagesA int) {
	for i := range uint64(pagesA) {
		writePage(tk, a.Mapping, i, 1)
	}
	tk.Sleep(sim.Second)
	if b != nil {
		writePage(tk, b.Mapping, 0, 2)
	}
	tk.Sleep(9 * sim.Second)
}

func inos(list []*Inode) []uint64 {
	var r []uint64
	for _, in := range list {
		r = append(r, in.Ino)
	}
	return r
}

// A WB_SYNC_NONE writer that finds the inode being synced refiles it at
// the young end in 2.6.12 (list_move to s_dirty), at the old end
// (requeue_io) in later eras.
func TestSkipSyncingInode2612(t *testing.T) {
	for _, v := range []Version{V2_6_12, V2_6_2x} {
		order := dirtyOrderAfter(t, v, 1, func(tk *sim.Task, a *Inode) {
			a.State |= I_SYNC // someone else is writing a back
			writebackSingleInode(tk, a, &WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: 16, RangeCyclic: true})
			a.State &^= I_SYNC
		})
		want := []uint64{1, 2}
		if v == V2_6_12 {
			want = []uint64{2, 1}
		}
		if !slices.Equal(order, want) {
			t.Errorf("%s: dirty list %v, want %v", v, order, want)
		}
	}
}

// dirtyOrderAfter dirties inodes 1 and 2 of a kernel of era v with
// dirtyTwo (pagesA pages of inode 1), runs wb on inode 1 and returns the
// inode numbers on the dirty list, oldest first.
func dirtyOrderAfter(t *testing.T, v Version, pagesA int, wb func(tk *sim.Task, a *Inode)) []uint64 {
	t.Helper()
	w := sim.New(sim.Config{Seed: 1})
	k := newEraKernel(w, v)
	a := k.NewInode(1, 12, &testFS{}, nil)
	b := k.NewInode(2, 12, &testFS{}, nil)
	var order []uint64
	w.Spawn("t", func(tk *sim.Task) {
		dirtyTwo(tk, a, b, pagesA)
		wb(tk, a)
		order = inos(k.DirtyInodes())
	})
	runWorld(t, w, string(v))
	return order
}

// Pages left dirty after a non-kupdate writeback: 2.6.12 sets
// dirtied_when to now; 2.6.32's redirty_tail keeps it when it does not
// break the list's order.
func TestRefilePagesLeft2612(t *testing.T) {
	for _, v := range []Version{V2_6_12, V2_6_2x} {
		w := sim.New(sim.Config{Seed: 1})
		k := newEraKernel(w, v)
		a := k.NewInode(1, 12, &testFS{}, nil)
		var first, at sim.Time
		w.Spawn("t", func(tk *sim.Task) {
			dirtyTwo(tk, a, nil, 3)
			first, at = a.DirtiedWhen, tk.World().Now()
			writebackSingleInode(tk, a, &WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: 1, RangeCyclic: true})
		})
		runWorld(t, w, string(v))
		refreshed := a.DirtiedWhen >= at
		if !a.onDirty || a.State&I_DIRTY_PAGES == 0 || refreshed != (v == V2_6_12) ||
			(!refreshed && a.DirtiedWhen != first) {
			t.Errorf("%s: on list %v, state %#x, dirtied_when %v (first dirtied %v, writeback at %v)",
				v, a.onDirty, a.State, a.DirtiedWhen, first, at)
		}
	}
}

// An inode redirtied while it was written: 2.6.12 moves it to the young
// end keeping dirtied_when; 2.6.32's redirty_tail refreshes dirtied_when
// when it is older than the young end's.
func TestRefileRedirtied2612(t *testing.T) {
	for _, v := range []Version{V2_6_12, V2_6_2x} {
		w := sim.New(sim.Config{Seed: 1})
		k := newEraKernel(w, v)
		k.WriteInode = func(tk *sim.Task, ino *Inode, wait bool) int {
			MarkInodeDirty(tk, ino, I_DIRTY_SYNC) // the file system dirties it again
			return 0
		}
		a := k.NewInode(1, 12, &testFS{}, nil)
		b := k.NewInode(2, 12, &testFS{}, nil)
		var first, at sim.Time
		var order []uint64
		w.Spawn("t", func(tk *sim.Task) {
			MarkInodeDirty(tk, a, I_DIRTY_SYNC)
			dirtyTwo(tk, a, b, 1)
			first, at = a.DirtiedWhen, tk.World().Now()
			writebackSingleInode(tk, a, &WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: 16, RangeCyclic: true})
			order = inos(k.DirtyInodes())
		})
		runWorld(t, w, string(v))
		ok := a.DirtiedWhen >= at // 2.6.32: redirty_tail refreshes it
		if v == V2_6_12 {
			ok = a.DirtiedWhen == first // list_move keeps it
		}
		if !ok || !slices.Equal(order, []uint64{2, 1}) {
			t.Errorf("%s: dirtied_when %v (first dirtied %v, writeback at %v), dirty list %v (want [2 1])",
				v, a.DirtiedWhen, first, at, order)
		}
	}
}

// sys_sync in 2.6.12: the WB_SYNC_HOLD pass puts each written inode back
// on the dirty list, so the WB_SYNC_ALL pass finds it and waits for the
// writeback the first pass started.
func TestSyncHoldThenAll2612(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	k := newEraKernel(w, V2_6_12)
	a := k.NewInode(1, 12, &testFS{Latency: 5 * sim.Millisecond}, nil)
	var held bool
	var heldWhen, holdStart sim.Time
	var writebackAfter int64 = -1
	w.Spawn("sync", func(tk *sim.Task) {
		for i := range uint64(4) {
			writePage(tk, a.Mapping, i, 1)
		}
		tk.Sleep(sim.Second)
		holdStart = tk.World().Now()
		WritebackInodes(tk, k, &WritebackControl{SyncMode: WB_SYNC_HOLD, NrToWrite: 100})
		held, heldWhen = a.onDirty, a.DirtiedWhen
		WritebackInodes(tk, k, &WritebackControl{SyncMode: WB_SYNC_ALL, NrToWrite: LLONG_MAX})
		writebackAfter = k.NrWriteback
	})
	runWorld(t, w, "2.6.12")
	if !held || heldWhen < holdStart {
		t.Errorf("after WB_SYNC_HOLD: on dirty list %v, dirtied_when %v, want true and >= %v", held, heldWhen, holdStart)
	}
	if writebackAfter != 0 {
		t.Errorf("WB_SYNC_ALL pass returned with %d pages still under writeback", writebackAfter)
	}
	if a.onDirty || k.NrFileDirty != 0 {
		t.Errorf("after sync: inode on dirty list %v, %d dirty pages", a.onDirty, k.NrFileDirty)
	}
}

// 3.x: pages left because the slice was used up mean requeue_io (old
// end) for any caller; 2.6.32 sends a non-kupdate inode to redirty_tail.
func TestRefileSliceUsedUp3x(t *testing.T) {
	for _, v := range []Version{V3x, V2_6_2x} {
		order := dirtyOrderAfter(t, v, 3, func(tk *sim.Task, a *Inode) {
			writebackSingleInode(tk, a, &WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: 1, RangeCyclic: true})
		})
		want := []uint64{2, 1}
		if v == V3x {
			want = []uint64{1, 2}
		}
		if !slices.Equal(order, want) {
			t.Errorf("%s: dirty list %v, want %v", v, order, want)
		}
	}
}

// 3.x sync livelock prevention: an inode still dirty after WB_SYNC_ALL
// writeback gets dirtied_when = now, so the same sync does not pick it up
// again; 2.6.32 keeps dirtied_when when nothing younger is listed.
func TestSyncLivelockDirtiedWhen3x(t *testing.T) {
	for _, v := range []Version{V3x, V2_6_2x} {
		w := sim.New(sim.Config{Seed: 1})
		k := newEraKernel(w, v)
		k.WriteInode = func(tk *sim.Task, ino *Inode, wait bool) int {
			MarkInodeDirty(tk, ino, I_DIRTY_SYNC)
			return 0
		}
		a := k.NewInode(1, 12, &testFS{}, nil)
		var first, at sim.Time
		w.Spawn("t", func(tk *sim.Task) {
			MarkInodeDirty(tk, a, I_DIRTY_SYNC)
			dirtyTwo(tk, a, nil, 1)
			first, at = a.DirtiedWhen, tk.World().Now()
			WriteInodeNow(tk, a, true)
		})
		runWorld(t, w, string(v))
		ok := a.DirtiedWhen == first
		if v == V3x {
			ok = a.DirtiedWhen >= at
		}
		if !a.onDirty || !ok {
			t.Errorf("%s: on list %v, dirtied_when %v (first dirtied %v, sync at %v)", v, a.onDirty, a.DirtiedWhen, first, at)
		}
	}
}

// 3.x truncate_inode_pages_range (3.1's loops): pass two rescans from
// start until a lookup from start finds nothing in range (the pincer), so
// a page added behind it while it waited on writeback is removed too;
// 2.6.32's pass two stops at the first lookup that begins beyond end.
func TestTruncatePincer3x(t *testing.T) {
	for _, v := range []Version{V3x, V2_6_2x} {
		w := sim.New(sim.Config{Seed: 1})
		k := newEraKernel(w, v)
		fs := &testFS{Latency: 10 * sim.Millisecond}
		a := k.NewInode(1, 12, fs, nil)
		m := a.Mapping
		var left *Page
		w.Spawn("truncate", func(tk *sim.Task) {
			for _, i := range []uint64{0, 1, 5} {
				writePage(tk, m, i, 1)
			}
			FilemapFdatawriteRange(tk, m, 0, PageSize-1) // page 0: written back until 10 ms
			tk.Sleep(5 * sim.Millisecond)
			FilemapFdatawriteRange(tk, m, PageSize, 2*PageSize-1) // page 1: until 15 ms
			TruncateInodePagesRange(tk, m, 0, 2*PageSize-1)       // pages 0 and 1
			left = FindGetPage(tk, m, 0)
			if left != nil {
				PageCacheRelease(tk, left)
			}
		})
		w.Spawn("writer", func(tk *sim.Task) {
			tk.Sleep(12 * sim.Millisecond) // page 0 gone, truncate waits on page 1
			writePage(tk, m, 0, 2)
		})
		runWorld(t, w, string(v))
		if (left == nil) != (v == V3x) {
			t.Errorf("%s: page 0 re-added during truncate left in the cache: %v", v, left != nil)
		}
	}
}
