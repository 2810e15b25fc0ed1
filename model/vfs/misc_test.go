package vfs_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// wbIntegritySetup is model/mpage's wb-integrity seed bug reached through
// the VFS: 2.6.12's sys_fsync starts writeback with filemap_fdatawrite,
// which asks __mpage_writepages for nrpages*2 pages; a writer that keeps
// dirtying pages ahead of the sweep uses nr_to_write up, page 99 is never
// written, and fsync (->fsync, then filemap_fdatawait) returns 0 anyway.
func wbIntegritySetup(v mm.Version, fixes mpage.Fixes) func(w *sim.World) {
	return func(w *sim.World) {
		c := config{version: v, bs: 4096, layout: blockfs.LayoutExtent, mpage: true, mpageFix: fixes,
			sectors: 1 << 14}
		m := newMachine(w, c)
		f := m.create("f")
		m.quiescent()
		w.Spawn("writer", func(t *sim.Task) {
			vf, _ := f.open(t)
			f.pwrite(t, vf, 0, 14*mm.PageSize)
			f.pwrite(t, vf, 99*mm.PageSize, mm.PageSize)
			w.Spawn("fsync", func(t *sim.Task) {
				vf, fd := f.open(t)
				if f.fsync(t, vf, fd, false) {
					vfs.Close(t, vf)
				}
			})
			for i := int64(14); i < 99; i++ {
				f.pwrite(t, vf, i*mm.PageSize, mm.PageSize)
			}
			vfs.Close(t, vf)
		})
	}
}

// TestWBIntegrityThroughVFS: the fsync path of the 2.6.12 era reaches the
// seed bug (fsync-durable) under PCT; with the mpage fix it does not, nor
// in 2.6.2x and 3.x, whose vfs_fsync_range writes with
// filemap_write_and_wait_range (nr_to_write LONG_MAX).
func TestWBIntegrityThroughVFS(t *testing.T) {
	run := func(v mm.Version, fixes mpage.Fixes) sim.ExploreResult {
		return sim.Explore(context.Background(), wbIntegritySetup(v, fixes), sim.ExploreOptions{
			Config: sim.Config{MaxSteps: 400_000}, FirstSeed: 1, Schedules: 1000, Workers: 2, CalibrateK: true,
			Strategy: func(seed uint64, k int64) sim.Strategy { return sim.NewPCT(seed, 3, k) },
		})
	}
	res := run(mm.V2_6_12, mpage.Fixes{})
	if len(res.Failures) == 0 {
		t.Fatalf("2.6.12: the wb-integrity bug was not found in %d schedules", res.Schedules)
	}
	if f := res.Failures[0].Failure; f.Invariant != check.InvFsyncDurable {
		t.Fatalf("2.6.12: found another failure: %s", f.Report())
	}
	t.Logf("2.6.12: found at schedule %d: %v", res.Schedules, res.Failures[0].Failure)
	for _, tc := range []struct {
		v     mm.Version
		fixes mpage.Fixes
	}{{mm.V2_6_12, mpage.Fixes{WBIntegrity: true}}, {mm.V2_6_2x, mpage.Fixes{}}, {mm.V3x, mpage.Fixes{}}} {
		if res := run(tc.v, tc.fixes); len(res.Failures) != 0 {
			t.Errorf("%s with fixes %s: %s", tc.v, tc.fixes, res.Failures[0].Failure.Report())
		}
	}
}

// TestAFSFiles: an AFS open takes a reference on the opener's key
// (afs_open's afs_request_key) and close drops it (afs_release); an open
// without a key fails with -ENOKEY; the file leaves the super block's
// list when its last reference goes; the VFS's write and fsync reach the
// server.
func TestAFSFiles(t *testing.T) {
	res := runOne(config{afs: true, version: mm.VAFS}, func(t *sim.Task, m *machine, f *mfile) {
		if vf, err := vfs.Open(t, f.ino, vfs.FMODE_READ, nil); vf != nil || err != errno.ENOKEY.Neg() {
			failf(t, "open", "an open without a key gave %v, %d; want -ENOKEY", vf, err)
			return
		}
		u0 := m.key.Usage()
		vf, fd := f.open(t)
		if m.key.Usage() != u0+1 || len(m.sb.Files()) != 1 {
			failf(t, "open", "after open: key usage %d (was %d), %d files", m.key.Usage(), u0, len(m.sb.Files()))
			return
		}
		f.pwrite(t, vf, 10, 5000)
		if !f.fsync(t, vf, fd, false) {
			return
		}
		if got := m.srv.File(f.id).Data.Read(0, 5010); !got.Equal(f.of.Expected(0, 5010)) {
			failf(t, "server", "server holds %v", got)
		}
		vfs.Close(t, vf)
		if m.key.Usage() != u0 || len(m.sb.Files()) != 0 {
			failf(t, "close", "after close: key usage %d (want %d), %d files", m.key.Usage(), u0, len(m.sb.Files()))
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure.Report())
	}
}

// TestCloseReleases: closing an ext2 file runs ->release once its last
// reference goes (a mapping holds one): the file stays on s_files while
// mapped.
func TestCloseReleases(t *testing.T) {
	for _, v := range []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x} {
		res := runOne(config{version: v, bs: 4096}, func(t *sim.Task, m *machine, f *mfile) {
			vf, _ := f.open(t)
			f.pwrite(t, vf, 0, 100)
			vma, err := vfs.Mmap(t, vf, vfs.PROT_READ|vfs.PROT_WRITE, vfs.MAP_SHARED)
			if err != 0 {
				failf(t, "mmap", "mmap returned %d", err)
				return
			}
			vfs.Close(t, vf)
			if n := len(m.sb.Files()); n != 1 || vf.Count() != 1 {
				failf(t, "close", "closed but mapped: %d files, count %d", n, vf.Count())
			}
			vfs.Munmap(t, vma)
			if n := len(m.sb.Files()); n != 0 {
				failf(t, "close", "unmapped: %d files left", n)
			}
		})
		if res.Failure != nil {
			t.Fatalf("%s: %s", v, res.Failure.Report())
		}
	}
}

// TestTruncateThroughVFS: truncate(2) and ftruncate(2) on ext2 reach the
// era's ext2 truncation: a cut into the middle of a block frees every
// block past it and zeroes its tail on disk, so that extending the file
// again reads zeros there even from the disk; truncating to 0 frees every
// block the file had.
func TestTruncateThroughVFS(t *testing.T) {
	for _, v := range []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x} {
		for _, layout := range []blockfs.Layout{blockfs.LayoutIndirect, blockfs.LayoutExtent} {
			c := config{version: v, bs: 1024, layout: layout, mpage: true}
			t.Run(c.String(), func(t *testing.T) {
				var free0, freeMid, freeEnd uint64
				res := runOne(c, func(t *sim.Task, m *machine, f *mfile) {
					free0 = m.fs.FreeBlocks()
					vf, fd := f.open(t)
					f.pwrite(t, vf, 0, 300<<10) // into the double-indirect range
					if !f.fsync(t, vf, fd, false) {
						return
					}
					vfs.DropCaches(t, m.v)
					f.of.Truncate(1500)
					if ret := vfs.Truncate(t, f.ino, 1500); ret != 0 {
						failf(t, "truncate", "truncate returned %d", ret)
						return
					}
					if !f.fsync(t, vf, fd, false) {
						return
					}
					freeMid = m.fs.FreeBlocks()
					vfs.DropCaches(t, m.v)
					f.of.Truncate(5000)
					if ret := vfs.Ftruncate(t, vf, 5000); ret != 0 {
						failf(t, "truncate", "ftruncate returned %d", ret)
						return
					}
					vfs.DropCaches(t, m.v)
					if !f.readAll(t, vf) {
						return
					}
					if got := f.disk(0, 2048); !got.Equal(content.Bytes{}.Append(f.of.Expected(0, 2048))) {
						failf(t, "disk", "the cut block on disk holds %v", got)
						return
					}
					f.of.Truncate(0)
					vfs.Ftruncate(t, vf, 0)
					vfs.Close(t, vf)
					freeEnd = m.fs.FreeBlocks()
				})
				if res.Failure != nil {
					t.Fatal(res.Failure.Report())
				}
				if diff := cmp.Diff(free0-2, freeMid); diff != "" { // blocks 0 and 1 stay
					t.Errorf("free blocks after the cut (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(free0, freeEnd); diff != "" {
					t.Errorf("free blocks after truncating to 0 (-want +got):\n%s", diff)
				}
			})
		}
	}
}
