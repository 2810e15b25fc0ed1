package mpage_test

import (
	"context"
	"fmt"
	"github.com/wbsim/wbsim/check"
	"runtime"
	"slices"
	"testing"

	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// The seed bugs, each found by sim.Explore with a strategy and a budget
// on its version with its fix off, and not found with the fix on.

// checkDisk compares n bytes of the file from off, as read (from the disk) gets
// them through the file system's map, with the oracle; "" if they match.
func (f *file) checkDisk(read func(off, n int64) content.Bytes, off, n int64) string {
	bs := int64(f.e.fs.BlockSize())
	var got content.Bytes
	for b := off / bs; b*bs < off+n; b++ {
		if phys, _, ok := f.ei.Lookup(uint64(b)); ok {
			got = got.Append(read(int64(phys)*bs, bs))
		} else {
			got = got.Append(content.Zeros(bs))
		}
	}
	start := off / bs * bs
	want := f.oracle.Truncate(max(f.oracle.Len(), start+got.Len())).Slice(start, got.Len())
	if d := diff(got, want); d != "" {
		return fmt.Sprintf("file bytes [%d,%d): %s", start, start+got.Len(), d)
	}
	return ""
}

// seedBug is one seed bug's search: the scenario, the strategy, the budget.
type seedBug struct {
	name      string
	version   mm.Version
	setup     func(v mm.Version, fixes mpage.Fixes) func(w *sim.World)
	strategy  sim.StrategyFactory
	budget    int
	invariant []string // the checks that may catch it first
	fix       mpage.Fixes
}

func (sb seedBug) explore(fixes mpage.Fixes, v mm.Version) sim.ExploreResult {
	return sim.Explore(context.Background(), sb.setup(v, fixes), sim.ExploreOptions{
		Config:     sim.Config{MaxSteps: 2_000_000, TraceKeep: 16},
		Strategy:   sb.strategy,
		FirstSeed:  1,
		Schedules:  sb.budget,
		Workers:    runtime.GOMAXPROCS(0),
		CalibrateK: true,
	})
}

func runSeedBug(t *testing.T, sb seedBug) {
	res := sb.explore(mpage.Fixes{}, sb.version)
	if len(res.Failures) == 0 {
		t.Fatalf("%s: not found on %s in %d schedules", sb.name, sb.version, res.Schedules)
	}
	f := res.Failures[0].Failure
	if !slices.Contains(sb.invariant, f.Invariant) {
		t.Fatalf("%s: found a different failure on %s: %s", sb.name, sb.version, f.Report())
	}
	t.Logf("%s on %s with the fix off: found at schedule %d (seed %d): %v\n  %s", sb.name, sb.version,
		res.Schedules, res.Failures[0].Seed, f, res.Failures[0].Log)

	res = sb.explore(sb.fix, sb.version)
	if len(res.Failures) != 0 {
		t.Fatalf("%s: still found on %s with the fix on: %s", sb.name, sb.version, res.Failures[0].Failure.Report())
	}
	t.Logf("%s on %s with the fix on: not found in %d schedules (%d steps, %v)", sb.name, sb.version,
		res.Schedules, res.Steps, res.Elapsed)
}

// sectorOverflowSetup: on a 32-bit kernel, a file of 512-byte blocks
// (extent layout: 64-bit logical blocks) gets data at page 0 and at page
// 2^29 (2 TiB), where block_in_file = page->index << 3 wraps to 0 in
// unsigned long. A flusher races with the writer; the writer syncs, drops
// the cache and reads both pages back (read-correct); at the end the disk
// must hold both (no-lost-write).
//
// The nobh write path leaves the pages without buffers, so mpage maps
// them itself on writeback too. With the file system's placement oracle
// installed, bio-shape sees the first bio that puts a page at the wrong
// sectors; without it (withOracle false) the data checks do.
func sectorOverflowSetup(withOracle bool) func(v mm.Version, fixes mpage.Fixes) func(w *sim.World) {
	return func(v mm.Version, fixes mpage.Fixes) func(w *sim.World) {
		return sectorOverflowWorld(v, fixes, withOracle)
	}
}

func sectorOverflowWorld(v mm.Version, fixes mpage.Fixes, withOracle bool) func(w *sim.World) {
	const far = int64(1) << 41 // page 2^29
	return func(w *sim.World) {
		e := newEnvOn(w, envOpts{version: v, bits32: true, cfg: mpage.Config{Fixes: fixes},
			fs: blockfs.Options{BlockSize: 512, Layout: blockfs.LayoutExtent, Nobh: true}})
		if !withOracle {
			e.bdev.Where = nil
		}
		f := e.newFile(50)
		m := f.ino.Mapping
		w.Spawn("writer", func(t *sim.Task) {
			f.write(t, 0, mm.PageSize, 1)
			f.write(t, far, mm.PageSize, 2)
			mm.FilemapWriteAndWait(t, m)
			f.dropCache(t)
			for _, off := range []int64{0, far} {
				got, ok := f.readPage(t, uint64(off>>mm.PageCacheShift))
				want := f.oracle.Slice(off, mm.PageSize)
				if d := diff(got, want); !ok || d != "" {
					w.Failf("read-correct", sim.Obj{Class: "page", A: 50, B: off >> mm.PageCacheShift},
						"read of file offset %d returned other data: %s", off, d)
				}
			}
		})
		w.Spawn("flusher", func(t *sim.Task) {
			wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024, RangeCyclic: v != mm.V2_6_12}
			mm.DoWritepages(t, m, wbc)
		})
		w.AtEnd(func() {
			for _, off := range []int64{0, far} {
				if d := f.checkDisk(e.dev.Read, off, mm.PageSize); d != "" {
					w.Failf("no-lost-write", sim.Obj{Class: "inode", A: 50}, "disk differs from the oracle: %s", d)
				}
			}
		})
	}
}

func TestSeedBugSectorOverflow(t *testing.T) {
	for _, withOracle := range []bool{true, false} {
		sb := seedBug{name: "sector-overflow", version: mm.V2_6_12, setup: sectorOverflowSetup(withOracle),
			strategy: func(seed uint64, k int64) sim.Strategy { return sim.NewRandom(seed) },
			budget:   50, invariant: []string{"read-correct", "no-lost-write"}, fix: mpage.Fixes{SectorOverflow: true}}
		if withOracle {
			sb.invariant = []string{"bio-shape"}
		}
		runSeedBug(t, sb)
		// The later seeds carry the cast: no fix needed.
		for _, v := range []mm.Version{mm.V2_6_2x, mm.V3x} {
			if res := sb.explore(mpage.Fixes{}, v); len(res.Failures) != 0 {
				t.Errorf("%s: found on %s, whose seed has the cast: %s", sb.name, v, res.Failures[0].Failure.Report())
			}
		}
	}
}

// wbIntegritySetup: 2.6.12's fsync asks __mpage_writepages for nrpages*2
// pages. The file has pages 0-13 and 99 dirty (15 pages cached: 30 to
// write) when fsync begins; a writer keeps dirtying pages 14-98. If the
// writer gets ahead of fsync's sweep, nr_to_write runs out on the new
// pages (after the rest of that pagevec) and page 99 is never written,
// yet fsync returns 0 (fsync-durable).
func wbIntegritySetup(v mm.Version, fixes mpage.Fixes) func(w *sim.World) {
	return func(w *sim.World) {
		e := newEnvOn(w, envOpts{version: v, cfg: mpage.Config{Fixes: fixes},
			fs: blockfs.Options{BlockSize: 4096, Layout: blockfs.LayoutExtent}, latency: 50 * sim.Microsecond})
		f := e.newFile(51)
		w.Spawn("writer", func(t *sim.Task) {
			f.write(t, 0, 14*mm.PageSize, 1)
			f.write(t, 99*mm.PageSize, mm.PageSize, 2)
			w.Spawn("fsync", func(t *sim.Task) {
				if r := f.fsync(t); r != 0 {
					return
				}
				// Everything written before fsync began must be stable.
				for _, rg := range [][2]int64{{0, 14 * mm.PageSize}, {99 * mm.PageSize, mm.PageSize}} {
					if d := f.checkDisk(e.dev.Stable, rg[0], rg[1]); d != "" {
						w.Failf("fsync-durable", sim.Obj{Class: "inode", A: 51},
							"fsync returned 0 but data written before it is not on stable storage: %s", d)
					}
				}
			})
			for i := int64(14); i < 99; i++ {
				f.write(t, i*mm.PageSize, mm.PageSize, content.Stamp(3+i))
			}
		})
	}
}

func TestSeedBugWBIntegrity(t *testing.T) {
	runSeedBug(t, seedBug{name: "wb-integrity", version: mm.V2_6_12, setup: wbIntegritySetup,
		strategy: func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, 3, k) },
		budget:   1000, invariant: []string{"fsync-durable"}, fix: mpage.Fixes{WBIntegrity: true}})
}

// cyclicWrapSetup: pages 0-9 are dirty; a flusher makes three cyclic
// WB_SYNC_NONE passes with plenty of nr_to_write while a writer rewrites
// pages 0-4 and appends pages 10-12. A pass that starts at
// writeback_index > 0 and finds an appended page never wraps to the
// rewritten pages below. The check (cyclic-complete): a cyclic pass with
// enough nr_to_write writes every page that was dirty, unlocked and not
// under writeback when it began (clear_page_dirty_for_io reaches it, or
// it leaves the page cache).
func cyclicWrapSetup(v mm.Version, fixes mpage.Fixes) func(w *sim.World) {
	return func(w *sim.World) {
		e := newEnvOn(w, envOpts{version: v, cfg: mpage.Config{Fixes: fixes},
			fs: blockfs.Options{BlockSize: 4096}, latency: 50 * sim.Microsecond})
		f := e.newFile(52)
		m := f.ino.Mapping
		cc := check.NewCyclicComplete(w)
		w.Spawn("writer", func(t *sim.Task) {
			f.write(t, 0, 10*mm.PageSize, 1)
			w.Spawn("flusher", func(t *sim.Task) {
				for range 3 {
					wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1024,
						RangeCyclic: v != mm.V2_6_12}
					p := cc.Begin(m, wbc)
					mm.DoWritepages(t, m, wbc)
					if fl := cc.End(p, wbc); fl != nil {
						w.Fail(fl)
					}
					t.Sleep(200 * sim.Microsecond)
				}
			})
			f.write(t, 0, 5*mm.PageSize, 2)
			f.write(t, 10*mm.PageSize, 3*mm.PageSize, 3)
		})
	}
}

func TestSeedBugCyclicWrap(t *testing.T) {
	runSeedBug(t, seedBug{name: "cyclic-wrap", version: mm.V2_6_12, setup: cyclicWrapSetup,
		strategy: func(seed uint64, k int64) sim.Strategy { return sim.NewRandom(seed) },
		budget:   300, invariant: []string{"cyclic-complete"}, fix: mpage.Fixes{CyclicWrap: true}})
}
