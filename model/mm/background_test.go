package mm

import (
	"context"
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// kupdate writes back data older than dirty_expire_interval (30 s) on its
// 5 s period, and not before.
func TestFlusherKupdate(t *testing.T) {
	for _, v := range []Version{V2_6_2x, V3x} {
		w := sim.New(sim.Config{Seed: 1})
		fs := &testFS{Latency: sim.Millisecond}
		k, ino := newTestKernel(w, v, fs)
		m := ino.Mapping
		StartFlusher(k, FlusherOptions{})
		var at20, at40 int64
		w.Spawn("writer", func(t *sim.Task) {
			for i := range uint64(10) {
				writePage(t, m, i, 1)
			}
			t.Sleep(20 * sim.Second)
			at20 = k.NrFileDirty
			t.Sleep(20 * sim.Second)
			at40 = k.NrFileDirty
		})
		if r := w.Run(); r.Failure != nil {
			t.Fatalf("%s: %v", v, r.Failure.Report())
		}
		if at20 != 10 || at40 != 0 || len(fs.Written) != 10 {
			t.Errorf("%s: dirty at 20s %d (want 10), at 40s %d (want 0), written %d", v, at20, at40, len(fs.Written))
		}
		if len(k.DirtyInodes()) != 0 {
			t.Errorf("%s: inode still on the dirty list", v)
		}
	}
}

// A writer far over the dirty threshold is throttled: it writes back
// pages itself (balance_dirty_pages) and background writeout starts.
func TestBalanceDirtyPages(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	fs := &testFS{Latency: sim.Millisecond}
	k, ino := newTestKernel(w, V2_6_2x, fs)
	k.TotalRAMPages = 1000 // dirty threshold 200 pages, background 100
	m := ino.Mapping
	var maxDirty int64
	w.Spawn("writer", func(t *sim.Task) {
		for i := range uint64(600) {
			writePage(t, m, i, 1)
			BalanceDirtyPagesRatelimited(t, m)
			maxDirty = max(maxDirty, k.NrFileDirty+k.NrWriteback)
		}
	})
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure.Report())
	}
	_, dirtyThresh := GetDirtyLimits(k)
	// balance_dirty_pages stops throttling once the writer has written
	// its chunk ("We've done our duty"), so the limit is loose; writeback
	// pages in flight count too.
	if maxDirty > dirtyThresh*3/2 {
		t.Errorf("dirty+writeback reached %d, threshold %d", maxDirty, dirtyThresh)
	}
	if len(fs.Written) < 300 {
		t.Errorf("only %d pages written back while dirtying 600", len(fs.Written))
	}
}

// Direct reclaim under a memory limit: clean pages are freed, dirty ones
// written with PG_reclaim (2.6.2x) or left to the flusher (3.x); the
// accounting stays balanced.
func TestDirectReclaim(t *testing.T) {
	for _, v := range []Version{V2_6_2x, V3x} {
		w := sim.New(sim.Config{Seed: 1})
		fs := &testFS{Latency: sim.Millisecond}
		k, ino := newTestKernel(w, v, fs)
		k.MemLimit = 32
		m := ino.Mapping
		k.CheckQuiescent(m)
		w.Spawn("writer", func(t *sim.Task) {
			for i := range uint64(200) {
				writePage(t, m, i, 1)
				if i%50 == 49 {
					FilemapWriteAndWait(t, m)
				}
			}
			FilemapWriteAndWait(t, m)
		})
		r := w.Run()
		if r.Failure != nil {
			t.Fatalf("%s: %v", v, r.Failure.Report())
		}
		if m.NrPages >= 200 || k.NrAllocated() > 64 {
			t.Errorf("%s: %d pages cached, %d allocated: reclaim did not keep up", v, m.NrPages, k.NrAllocated())
		}
	}
}

// Reclaim, writeback and truncate together under PCT.
func TestReclaimTruncateWritebackPCT(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	for _, v := range []Version{V2_6_2x, V3x} {
		setup := func(w *sim.World) {
			fs := &testFS{Latency: sim.Millisecond}
			k, ino := newTestKernel(w, v, fs)
			k.MemLimit = 6
			m := ino.Mapping
			k.CheckQuiescent(m)
			w.Spawn("writer", func(t *sim.Task) {
				for i := range uint64(12) {
					ino.IMutex.Lock(t)
					writePage(t, m, i, content.Stamp(i+1))
					ino.IMutex.Unlock(t)
				}
			})
			w.Spawn("fsync", func(t *sim.Task) {
				FilemapWriteAndWait(t, m)
			})
			w.Spawn("truncate", func(t *sim.Task) {
				ino.IMutex.Lock(t)
				VMTruncate(t, ino, 3*PageSize)
				ino.IMutex.Unlock(t)
			})
		}
		res := sim.Explore(context.Background(), setup, sim.ExploreOptions{
			Config:    sim.Config{MaxSteps: 200_000},
			Strategy:  func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, 3, k) },
			FirstSeed: 1, Schedules: n, Workers: 2, CalibrateK: true,
		})
		if len(res.Failures) > 0 {
			f := res.Failures[0].Failure
			t.Fatalf("%s: seed %d: %v\n%s", v, res.Failures[0].Seed, f, f.Report())
		}
	}
}

// wb_kupdate re-arms its timer for the time it returns (the start of the
// pass plus dirty_writeback_interval, at least a second on): with a 1 s
// interval, passes run at 1 s, 2 s, 3 s..., so a page dirtied at 1.5 s
// is clean by 2.5 s.
func TestKupdatePeriod(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	fs := &testFS{Latency: sim.Millisecond}
	k, ino := newTestKernel(w, V2_6_2x, fs)
	k.DirtyWritebackInterval = sim.Second
	k.DirtyExpireInterval = 0
	StartFlusher(k, FlusherOptions{})
	var dirty int64
	w.Spawn("writer", func(t *sim.Task) {
		t.Sleep(1500 * sim.Millisecond)
		writePage(t, ino.Mapping, 0, 1)
		t.Sleep(sim.Second)
		dirty = k.NrFileDirty
	})
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure.Report())
	}
	if dirty != 0 {
		t.Errorf("at 2.5 s %d pages still dirty: kupdate did not run at 2 s", dirty)
	}
}

// balance_dirty_pages starts background writeout with min_pages 0
// (pdflush_operation(background_writeout, 0)): it stops once below the
// background threshold and leaves the rest dirty.
func TestBalanceDirtyPagesBackgroundStopsAtThreshold(t *testing.T) {
	w := sim.New(sim.Config{Seed: 1})
	fs := &testFS{Latency: sim.Millisecond}
	k, ino := newTestKernel(w, V2_6_2x, fs)
	k.TotalRAMPages = 10000 // dirty threshold 2000 pages, background 1000
	m := ino.Mapping
	var dirty int64
	w.Spawn("writer", func(t *sim.Task) {
		for i := range uint64(3000) {
			writePage(t, m, i, 1)
		}
		BalanceDirtyPages(t, m)
		t.Sleep(5 * sim.Second)
		dirty = k.NrFileDirty
	})
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure.Report())
	}
	if bg, _ := GetDirtyLimits(k); dirty == 0 || dirty >= bg {
		t.Errorf("%d pages dirty after background writeout, want some, fewer than the background threshold %d", dirty, bg)
	}
}

// writeback_single_inode of the 2.6 eras (2.6.32's text) writes the inode
// before it waits on the data; 3.x waits on the data first.
func TestWritebackSingleInodeOrder(t *testing.T) {
	for _, tc := range []struct {
		v           Version
		dataPending bool
	}{{V2_6_2x, true}, {V3x, false}} {
		w := sim.New(sim.Config{Seed: 1})
		fs := &testFS{Latency: sim.Millisecond}
		k, ino := newTestKernel(w, tc.v, fs)
		var pending, called bool
		k.WriteInode = func(t *sim.Task, _ *Inode, _ bool) int {
			called, pending = true, k.NrWriteback > 0
			return 0
		}
		w.Spawn("sync", func(t *sim.Task) {
			writePage(t, ino.Mapping, 0, 1)
			MarkInodeDirty(t, ino, I_DIRTY_SYNC)
			WriteInodeNow(t, ino, true)
		})
		if r := w.Run(); r.Failure != nil {
			t.Fatalf("%s: %v", tc.v, r.Failure.Report())
		}
		if !called || pending != tc.dataPending {
			t.Errorf("%s: write_inode called %v, with data under writeback %v; want true, %v", tc.v, called, pending, tc.dataPending)
		}
	}
}
