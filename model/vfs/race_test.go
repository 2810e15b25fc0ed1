package vfs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
)

// pwrite writes n fresh bytes at off through the VFS and tells the oracle
// what was copied, in the order a concurrent fsync needs (check.File's
// NewData, Wrote, WriteDone).
func (f *mfile) pwrite(t *sim.Task, vf *vfs.File, off, n int64) {
	data := f.of.NewData(n)
	ret := vfs.Pwrite(t, vf, data, off)
	if ret > 0 {
		f.of.Wrote(off, data.Slice(0, ret))
	}
	f.of.WriteDone(data)
	if ret != n {
		failf(t, "write", "pwrite %d+%d returned %d", off, n, ret)
	}
}

// mmapWrite stores n fresh bytes at off through a shared mapping.
func (f *mfile) mmapWrite(t *sim.Task, vf *vfs.File, off, n int64) {
	data := f.of.NewData(n)
	ret := vfs.MmapWrite(t, vf, off, data)
	if ret == 0 {
		f.of.Wrote(off, data)
	}
	f.of.WriteDone(data)
	if ret != 0 {
		failf(t, "mmap", "mmap write %d+%d returned %d", off, n, ret)
	}
}

// truncate truncates through the VFS (ftruncate). The oracle hears of it
// first: while the truncate runs, a concurrent fsync's check may already
// see the blocks gone, which the promise allows only past a truncation it
// knows of.
func (f *mfile) truncate(t *sim.Task, vf *vfs.File, size int64) {
	f.of.Truncate(size)
	if ret := vfs.Ftruncate(t, vf, size); ret != 0 {
		failf(t, "truncate", "ftruncate %d returned %d", size, ret)
	}
}

// flusher writes the file back behind the writer's back: passes of
// background-style writeback (do_writepages, WB_SYNC_NONE, range_cyclic)
// and, every other round, a checked fsync from a description of its own,
// or (without fsyncs) a sync(2), with pauses.
//
// An fsync in flight while another task truncates the file is not
// checkable with check.Oracle as it is: File.Truncate lowers the floor of
// the promises already made (fsyncs that returned), not of one still
// running, so the truncate race syncs instead.
func (f *mfile) flusher(t *sim.Task, rounds int, fsyncs bool) {
	vf, fd := f.open(t)
	if vf == nil {
		return
	}
	m := f.ino.I.Mapping
	for i := range rounds {
		wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 16, RangeCyclic: true}
		if f.m.k.Version == mm.V2_6_12 {
			wbc.RangeCyclic = false // 2.6.12's __mpage_writepages; range_cyclic came in 2.6.17
		}
		mm.DoWritepages(t, m, wbc)
		t.Sleep(50 * sim.Microsecond)
		switch {
		case i%2 == 0:
		case !fsyncs:
			vfs.Sync(t, f.m.v)
		case !f.fsync(t, vf, fd, false):
			return
		}
	}
	vfs.Close(t, vf)
}

// raceConfigs are the machines the race tests explore, in each era: mpage
// with 1 KiB blocks on the indirect layout (several blocks per page, so
// that truncation cuts pages in the middle and block_truncate_page has
// work), and the buffer a_ops with 4 KiB blocks on the extent layout
// (nobh in the later eras).
func raceConfigs() []config {
	var cs []config
	for _, v := range []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x} {
		cs = append(cs, config{version: v, bs: 1024, layout: blockfs.LayoutIndirect, mpage: true},
			config{version: v, bs: 4096, layout: blockfs.LayoutExtent, nobh: v != mm.V2_6_12})
	}
	return cs
}

// explore runs setup under PCT (depth 3) for n schedules and fails the
// test with the first failure.
func explore(t *testing.T, setup func(w *sim.World), n int) sim.ExploreResult {
	t.Helper()
	res := sim.Explore(context.Background(), setup, sim.ExploreOptions{
		Config:     sim.Config{MaxSteps: 400_000, TraceKeep: 64},
		Strategy:   func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, 3, k) },
		FirstSeed:  1,
		Schedules:  n,
		Workers:    2,
		CalibrateK: true,
	})
	if len(res.Failures) > 0 {
		r := res.Failures[0]
		t.Fatalf("seed %d failed: %s\nreplay: %s", r.Seed, r.Failure.Report(), r.Log)
	}
	return res
}

// raceSchedules is how many schedules a race test explores per machine.
const raceSchedules = 1000

// TestTruncateRacesWriteback: a writer extends a file, truncates it down
// and up (mid-block and mid-page) and writes again, while a flusher writes
// it back and syncs, and a reader reads it, under PCT. No page-state,
// page-ref or lock failure may happen, and at the end the file, fsynced
// (fsync-durable) and read back from the disk, must equal the oracle
// (read-correct, no-lost-write), with the file system consistent (fsck).
func TestTruncateRacesWriteback(t *testing.T) {
	for _, c := range raceConfigs() {
		t.Run(c.String(), func(t *testing.T) {
			res := explore(t, truncateRaceSetup(c), raceSchedules)
			t.Logf("%d schedules, k=%d, %d steps", res.Schedules, res.K, res.Steps)
		})
	}
}

func truncateRaceSetup(c config) func(w *sim.World) {
	return func(w *sim.World) {
		m := newMachine(w, c)
		f := m.create("f")
		m.quiescent()
		const P = mm.PageSize
		w.Spawn("writer", func(t *sim.Task) {
			vf, fd := f.open(t)
			if vf == nil {
				return
			}
			f.pwrite(t, vf, 0, 6*P)
			f.truncate(t, vf, 3*P+100) // mid-block, mid-page
			f.pwrite(t, vf, 5*P-10, 20)
			f.truncate(t, vf, 7*P+1500) // up
			f.truncate(t, vf, 2*P+1000) // down again, mid-block
			f.pwrite(t, vf, 2*P+3000, 2000)
			if !f.fsync(t, vf, fd, false) {
				return
			}
			vfs.DropCaches(t, m.v)
			if f.readAll(t, vf) {
				fail(t, f.of.CheckNoLostWrite(f.disk))
			}
			vfs.Close(t, vf)
		})
		w.Spawn("flusher", func(t *sim.Task) { f.flusher(t, 4, false) })
		w.Spawn("reader", func(t *sim.Task) { f.reader(t, 3) })
	}
}

// reader reads the file while others change it: what it gets depends on
// the schedule, so it checks only that a read returns what it says, and
// nothing past the largest size the file has.
func (f *mfile) reader(t *sim.Task, rounds int) {
	vf, _ := f.open(t)
	if vf == nil {
		return
	}
	for i := range int64(rounds) {
		got, n := vfs.Pread(t, vf, i*3000, 8*mm.PageSize)
		if n != got.Len() || n > 8*mm.PageSize {
			failf(t, check.InvReadCorrect, "pread returned %d with %d bytes", n, got.Len())
		}
		t.Sleep(30 * sim.Microsecond)
	}
	vfs.Close(t, vf)
}

// TestMmapWriteRacesWriteback: a writer stores into a shared mapping of a
// file (the era's fault path: ->page_mkwrite where there is one, and
// set_page_dirty) at offsets that cross pages, while a flusher writes it
// back and fsyncs it, under PCT. No page-state, page-ref or lock failure,
// every fsync keeps its promise, and the file reads back equal to the
// oracle at the end and is on the disk. Each era runs with and without
// block_page_mkwrite.
func TestMmapWriteRacesWriteback(t *testing.T) {
	var cs []config
	for _, c := range raceConfigs() {
		cs = append(cs, c)
		if c.version != mm.V2_6_12 {
			c.noMkwrite = true
			cs = append(cs, c)
		}
	}
	for _, c := range cs {
		t.Run(c.String(), func(t *testing.T) {
			res := explore(t, mmapRaceSetup(c), raceSchedules)
			t.Logf("%d schedules, k=%d, %d steps", res.Schedules, res.K, res.Steps)
		})
	}
}

func mmapRaceSetup(c config) func(w *sim.World) {
	return func(w *sim.World) {
		m := newMachine(w, c)
		f := m.create("f")
		m.quiescent()
		const P = mm.PageSize
		w.Spawn("writer", func(t *sim.Task) {
			vf, fd := f.open(t)
			if vf == nil {
				return
			}
			f.truncate(t, vf, 5*P+300) // a sparse file: the mapping's pages are holes
			f.pwrite(t, vf, P, P)
			f.mmapWrite(t, vf, 100, 3000)
			f.mmapWrite(t, vf, P-500, P+1000)
			f.mmapWrite(t, vf, 4*P+10, P+200) // the last page, inside i_size
			f.pwrite(t, vf, 2*P+7, 33)
			f.mmapWrite(t, vf, 2*P, 100)
			if !f.fsync(t, vf, fd, false) {
				return
			}
			vfs.DropCaches(t, m.v)
			if f.readAll(t, vf) {
				fail(t, f.of.CheckNoLostWrite(f.disk))
			}
			vfs.Close(t, vf)
		})
		w.Spawn("flusher", func(t *sim.Task) { f.flusher(t, 4, true) })
	}
}

// TestRaceSetupsCanFail checks that the race scenarios' checks bite: with
// the flusher's fsync reporting success while skipping the data
// (filemap_write_and_wait_range replaced by nothing), the exploration
// must find an fsync-durable failure.
func TestRaceSetupsCanFail(t *testing.T) {
	c := config{version: mm.V2_6_2x, bs: 1024, layout: blockfs.LayoutIndirect, mpage: true, noBarrier: true}
	setup := func(w *sim.World) {
		m := newMachine(w, c)
		f := m.create("f")
		m.quiescent()
		w.Spawn("writer", func(t *sim.Task) {
			vf, fd := f.open(t)
			if vf == nil {
				return
			}
			f.pwrite(t, vf, 0, 3*mm.PageSize)
			f.fsync(t, vf, fd, false) // no barrier: the data sits in the volatile cache
			vfs.Close(t, vf)
		})
	}
	res := sim.Explore(context.Background(), setup, sim.ExploreOptions{
		Config: sim.Config{MaxSteps: 100_000}, FirstSeed: 1, Schedules: 5,
		Strategy: func(seed uint64, k int64) sim.Strategy { return sim.NewRandom(seed) },
	})
	if len(res.Failures) == 0 || res.Failures[0].Failure.Invariant != check.InvFsyncDurable {
		t.Fatalf("a nobarrier mount's fsync was not caught by fsync-durable: %v", fmt.Sprint(res.Failures))
	}
}
