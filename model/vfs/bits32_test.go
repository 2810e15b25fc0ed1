package vfs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// runOne runs body as the only task of a machine and returns the result.
func runOne(c config, body func(t *sim.Task, m *machine, f *mfile)) *sim.Result {
	w := sim.New(sim.Config{Seed: 1, MaxSteps: 1_000_000, TraceKeep: 64})
	m := newMachine(w, c)
	f := m.create("f")
	m.quiescent()
	w.Spawn("test", func(t *sim.Task) { body(t, m, f) })
	return w.Run()
}

// TestLargeOffsets writes at offsets whose page index needs more than 32
// bits, on the extent layout (the only one that reaches them), in every
// era. On a 64-bit kernel the write works and reads back after an fsync
// and drop_caches, and nothing lands at the index the offset would wrap
// to. On a 32-bit kernel pgoff_t is 32 bits and MAX_LFS_FILESIZE is
// 2^43 - 1: generic_write_checks refuses a write at or past it with
// -EFBIG before any page is touched, shortens one that crosses it, and
// a write just below it (page index 2^31 - 1) works; a read past it is not
// refused, and its page index wraps.
func TestLargeOffsets(t *testing.T) {
	for _, v := range []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x} {
		for _, bits32 := range []bool{false, true} {
			c := config{version: v, bits32: bits32, bs: 4096, layout: blockfs.LayoutExtent, mpage: true}
			t.Run(c.String(), func(t *testing.T) {
				res := runOne(c, func(t *sim.Task, m *machine, f *mfile) {
					vf, fd := f.open(t)
					far := int64(1) << 44 // page index 2^32
					if !bits32 {
						f.pwrite(t, vf, far, 100)
						f.pwrite(t, vf, 0, 10)
						if !f.fsync(t, vf, fd, false) {
							return
						}
						vfs.DropCaches(t, m.v)
						got, _ := vfs.Pread(t, vf, far-50, 200)
						if fail(t, f.of.CheckRead(far-50, 200, got)) {
							return
						}
						got, _ = vfs.Pread(t, vf, 0, 4096) // the index 2^32 wraps to on 32 bits
						fail(t, f.of.CheckRead(0, 4096, got))
						vfs.Close(t, vf)
						return
					}
					data := f.of.NewData(100)
					if ret := vfs.Pwrite(t, vf, data, far); ret != int64(errno.EFBIG.Neg()) {
						failf(t, "efbig", "a write at 2^44 on a 32-bit kernel returned %d, want -EFBIG", ret)
						return
					}
					f.of.WriteDone(data)
					if n := f.ino.I.Mapping.NrPages; n != 0 || mm.ISizeRead(f.ino.I) != 0 {
						failf(t, "efbig", "the refused write left %d pages, i_size %d", n, mm.ISizeRead(f.ino.I))
						return
					}
					maxBytes := vfs.MaxLFSFilesize(m.k)
					data = f.of.NewData(1)
					if ret := vfs.Pwrite(t, vf, data, maxBytes); ret != int64(errno.EFBIG.Neg()) {
						failf(t, "efbig", "a write at s_maxbytes returned %d, want -EFBIG", ret)
						return
					}
					f.of.WriteDone(data)
					// Crossing s_maxbytes: a short write up to it.
					pos := maxBytes + 1 - mm.PageSize // page index 2^31 - 1
					data = f.of.NewData(2 * mm.PageSize)
					ret := vfs.Pwrite(t, vf, data, pos)
					if ret != mm.PageSize-1 {
						failf(t, "efbig", "a write across s_maxbytes returned %d, want %d", ret, mm.PageSize-1)
						return
					}
					f.of.Wrote(pos, data.Slice(0, ret))
					f.of.WriteDone(data)
					if !f.fsync(t, vf, fd, false) {
						return
					}
					vfs.DropCaches(t, m.v)
					got, _ := vfs.Pread(t, vf, pos-10, 2*mm.PageSize)
					if fail(t, f.of.CheckRead(pos-10, 2*mm.PageSize, got)) {
						return
					}
					// A read is not checked against s_maxbytes in these eras:
					// at 2^44 + 100 its page index, 2^32, wraps to 0 in
					// pgoff_t, which lies inside i_size, and the read returns
					// page 0's bytes (in the kernel as in the model).
					f.pwrite(t, vf, 0, 300)
					got, n := vfs.Pread(t, vf, far+100, 50)
					if n != 50 || !got.Equal(f.of.Expected(100, 50)) {
						failf(t, "wrap", "a read at 2^44+100 returned %d bytes %v, want page 0's %v", n, got,
							f.of.Expected(100, 50))
					}
					vfs.Close(t, vf)
				})
				if res.Failure != nil {
					t.Fatal(res.Failure.Report())
				}
			})
		}
	}
}

// sectorOverflowSetup is model/mpage's sector-overflow seed bug reached
// through the VFS: on a 32-bit kernel with 512-byte blocks, a page at file
// offset 2^41 (page index 2^29) is file block 2^32. 2.6.12's mpage
// computes the page's first block as page->index << (PAGE_CACHE_SHIFT -
// blkbits) in unsigned long, which wraps to block 0: its writeback goes
// to file block 0's sectors (bio-shape), and a read after drop_caches
// reads block 0's data (read-correct). The write comes in through
// pwrite(2), generic_file_aio_write and the nobh write path, and the read
// through read(2) and mpage_readpages.
func sectorOverflowSetup(v mm.Version, fixes mpage.Fixes) func(w *sim.World) {
	return func(w *sim.World) {
		c := config{version: v, bits32: true, bs: 512, layout: blockfs.LayoutExtent, nobh: true, mpage: true,
			mpageFix: fixes}
		m := newMachine(w, c)
		f := m.create("f")
		m.quiescent()
		const far = int64(1) << 41
		w.Spawn("writer", func(t *sim.Task) {
			vf, fd := f.open(t)
			f.pwrite(t, vf, 0, mm.PageSize)
			f.pwrite(t, vf, far, mm.PageSize)
			if !f.fsync(t, vf, fd, false) {
				return
			}
			vfs.DropCaches(t, m.v)
			for _, off := range []int64{0, far} {
				got, _ := vfs.Pread(t, vf, off, mm.PageSize)
				if fail(t, f.of.CheckRead(off, mm.PageSize, got)) {
					return
				}
			}
			vfs.Close(t, vf)
		})
	}
}

// TestSectorOverflowThroughVFS: the 2.6.12 seed bug fails the run
// (bio-shape, or read-correct), with and without a concurrent flusher
// schedule to vary the path; the mpage fix (the (sector_t) cast) makes it
// pass, and 2.6.2x and 3.x, whose seeds have the cast, pass.
func TestSectorOverflowThroughVFS(t *testing.T) {
	run := func(v mm.Version, fixes mpage.Fixes) sim.ExploreResult {
		return sim.Explore(context.Background(), sectorOverflowSetup(v, fixes), sim.ExploreOptions{
			Config: sim.Config{MaxSteps: 400_000}, FirstSeed: 1, Schedules: 5, KeepGoing: true,
			Strategy: func(seed uint64, k int64) sim.Strategy { return sim.NewRandom(seed) },
		})
	}
	res := run(mm.V2_6_12, mpage.Fixes{})
	if len(res.Failures) != res.Schedules {
		t.Fatalf("2.6.12 without the fix: %d of %d schedules failed, want all", len(res.Failures), res.Schedules)
	}
	for _, r := range res.Failures {
		if inv := r.Failure.Invariant; inv != "bio-shape" && inv != check.InvReadCorrect {
			t.Errorf("seed %d failed with %s, want bio-shape or read-correct: %s", r.Seed, inv, r.Failure.Report())
		}
	}
	for _, tc := range []struct {
		v     mm.Version
		fixes mpage.Fixes
	}{{mm.V2_6_12, mpage.Fixes{SectorOverflow: true}}, {mm.V2_6_2x, mpage.Fixes{}}, {mm.V3x, mpage.Fixes{}}} {
		if res := run(tc.v, tc.fixes); len(res.Failures) != 0 {
			t.Errorf("%s with fixes %s: %s", tc.v, tc.fixes, res.Failures[0].Failure.Report())
		}
	}
}

// TestFsyncDurable fsyncs through the VFS after writes of every shape, in
// every era and on AFS, and checks each promise against stable storage
// (the device's durable store through the file's block map; the server).
// With a nobarrier mount, fsync returns 0 with the data in the disk's
// volatile cache, and the check must say so.
func TestFsyncDurable(t *testing.T) {
	cs := []config{{afs: true, version: mm.VAFS}}
	for _, v := range []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x} {
		cs = append(cs, config{version: v, bs: 1024, layout: blockfs.LayoutIndirect},
			config{version: v, bs: 4096, layout: blockfs.LayoutExtent, mpage: true})
	}
	for _, c := range cs {
		for _, noBarrier := range []bool{false, true} {
			if c.afs && noBarrier {
				continue
			}
			c.noBarrier = noBarrier
			t.Run(fmt.Sprintf("%s/nobarrier=%v", c, noBarrier), func(t *testing.T) {
				res := runOne(c, func(t *sim.Task, m *machine, f *mfile) {
					vf, fd := f.open(t)
					f.pwrite(t, vf, 100, 5000)
					f.pwrite(t, vf, 300<<10, 10) // a hole, then the indirect tree
					if !f.fsync(t, vf, fd, false) {
						return
					}
					f.pwrite(t, vf, 4000, 9000)
					f.fsync(t, vf, fd, true)
					vfs.Close(t, vf)
				})
				switch {
				case noBarrier && (res.Failure == nil || res.Failure.Invariant != check.InvFsyncDurable):
					t.Fatalf("nobarrier: want an fsync-durable failure, got %v", res.Failure)
				case !noBarrier && res.Failure != nil:
					t.Fatal(res.Failure.Report())
				}
			})
		}
	}
}
