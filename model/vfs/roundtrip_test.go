package vfs_test

import (
	"fmt"
	"testing"

	"github.com/wbsim/wbsim/check"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
	"pgregory.net/rapid"
)

// rtOp is one step of the round-trip state machine.
type rtOp struct {
	Kind     string
	Off, Len int64
}

func (o rtOp) String() string {
	switch o.Kind {
	case "write", "mmap":
		return fmt.Sprintf("%s %d+%d", o.Kind, o.Off, o.Len)
	case "read":
		return fmt.Sprintf("read %d+%d", o.Off, o.Len)
	case "truncate", "ftruncate":
		return fmt.Sprintf("%s %d", o.Kind, o.Off)
	}
	return o.Kind
}

// drawConfig draws a machine: AFS, or blockfs as ext2 in one of the three
// eras with a random layout, block size, write path and a_ops.
func drawConfig(rt *rapid.T) config {
	if rapid.IntRange(0, 4).Draw(rt, "afs") == 0 {
		return config{afs: true, version: mm.VAFS}
	}
	c := config{
		version: rapid.SampledFrom([]mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x}).Draw(rt, "version"),
		bs:      rapid.SampledFrom([]uint{1024, 2048, 4096}).Draw(rt, "blocksize"),
		layout:  rapid.SampledFrom([]blockfs.Layout{blockfs.LayoutIndirect, blockfs.LayoutExtent}).Draw(rt, "layout"),
		mpage:   rapid.Bool().Draw(rt, "mpage"),
	}
	// nobh_write_begin's -EIO with blocks smaller than a page (see
	// blockfs's TestWritePaths) is the era's behaviour, not the vfs's.
	c.nobh = c.bs == 4096 && rapid.Bool().Draw(rt, "nobh")
	c.noMkwrite = rapid.Bool().Draw(rt, "noMkwrite")
	return c
}

// drawOps draws a program for one file. Offsets stay within 256 KiB, with
// the odd far one for holes; truncates cut anywhere, mid-block included.
func drawOps(rt *rapid.T) []rtOp {
	off := func(label string) int64 {
		return rapid.OneOf(rapid.Int64Range(0, 64<<10), rapid.Int64Range(0, 256<<10),
			rapid.Int64Range(1<<20, 1<<20+8192)).Draw(rt, label)
	}
	return rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) rtOp {
		kind := rapid.SampledFrom([]string{"write", "write", "write", "read", "read", "truncate", "ftruncate",
			"fsync", "fdatasync", "sync", "drop", "mmap", "reopen"}).Draw(rt, "kind")
		switch kind {
		case "write", "mmap":
			return rtOp{Kind: kind, Off: off("off"), Len: rapid.Int64Range(1, 3*mm.PageSize).Draw(rt, "len")}
		case "read":
			return rtOp{Kind: kind, Off: off("off"), Len: rapid.Int64Range(1, 5*mm.PageSize).Draw(rt, "len")}
		case "truncate", "ftruncate":
			return rtOp{Kind: kind, Off: off("size")}
		}
		return rtOp{Kind: kind}
	}), 1, 25).Draw(rt, "ops")
}

// TestRoundTrip is the round trip through the VFS as a rapid state
// machine: random writes (extending files, leaving holes), reads, truncates
// (truncate(2) and ftruncate(2), down and up, mid-block), shared-mapping
// writes, fsync and fdatasync, sync, drop_caches and reopening, on blockfs
// mounted as ext2 in each era (2.6.12's ->prepare_write/->commit_write
// path included) and on AFS. The oracle (check.Oracle) is told every
// write and truncate in the order they happen; every read must return its
// bytes (read-correct), every fsync must return 0 and leave them on stable
// storage (fsync-durable), every sync leave them on the disk
// (no-lost-write), and the run must end with no page reference, lock or
// writeback left behind, a consistent file system, and every block free
// again once the file is truncated to 0. AFS of the era maps
// files read-only (mmap gives -EINVAL): the program checks that answer
// instead. A truncate on AFS is afs_setattr (flush, then FS.StoreData with
// the new length).
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c := drawConfig(rt)
		if f := roundTrip(c, drawOps(rt)); f != nil {
			rt.Fatalf("%s: %s", c, f.Report())
		}
	})
}

// roundTrip runs ops on one file of a machine configured by c and returns
// the run's failure, if any.
func roundTrip(c config, ops []rtOp) *sim.Failure {
	w := sim.New(sim.Config{Seed: 1, MaxSteps: 2_000_000, TraceKeep: 64})
	m := newMachine(w, c)
	f := m.create("f")
	m.quiescent()
	w.Spawn("prog", func(t *sim.Task) { runProgram(t, m, f, ops) })
	return w.Run().Failure
}

func runProgram(t *sim.Task, m *machine, f *mfile, ops []rtOp) {
	vf, fd := f.open(t)
	if vf == nil {
		return
	}
	for i, op := range ops {
		if t.World().Failure() != nil {
			return
		}
		t.World().Record(sim.KindNote, "op", sim.Obj{Class: "test", A: int64(i)}, 0, op.String())
		switch op.Kind {
		case "write":
			data := f.of.Write(op.Off, op.Len)
			if ret := vfs.Pwrite(t, vf, data, op.Off); ret != op.Len {
				failf(t, "write", "op %d %s returned %d", i, op, ret)
			}
		case "read":
			got, n := vfs.Pread(t, vf, op.Off, op.Len)
			if n != got.Len() {
				failf(t, check.InvReadCorrect, "op %d %s returned %d with %d bytes", i, op, n, got.Len())
			}
			fail(t, f.of.CheckRead(op.Off, op.Len, got))
		case "truncate", "ftruncate":
			var ret int
			if op.Kind == "truncate" {
				ret = vfs.Truncate(t, f.ino, op.Off)
			} else {
				ret = vfs.Ftruncate(t, vf, op.Off)
			}
			switch {
			case ret != 0:
				failf(t, "truncate", "op %d %s returned %d", i, op, ret)
			default:
				f.of.Truncate(op.Off)
			}
		case "mmap":
			size := f.of.Size()
			if m.afs != nil {
				if ret := vfs.MmapWrite(t, vf, 0, content.Fill(1, 1<<40, 0)); ret != errno.EINVAL.Neg() {
					failf(t, "mmap", "op %d: a shared writable mapping of an AFS file gave %d, want -EINVAL", i, ret)
				}
				continue
			}
			if size == 0 {
				continue
			}
			off := op.Off % size // a shared mapping can only store inside the file
			n := min(op.Len, size-off)
			data := f.of.Write(off, n)
			if ret := vfs.MmapWrite(t, vf, off, data); ret != 0 {
				failf(t, "mmap", "op %d mmap write %d+%d returned %d", i, off, n, ret)
			}
		case "fsync", "fdatasync":
			f.fsync(t, vf, fd, op.Kind == "fdatasync")
		case "sync":
			vfs.Sync(t, m.v)
			fail(t, f.of.CheckNoLostWrite(f.disk))
		case "drop":
			vfs.DropCaches(t, m.v)
		case "reopen":
			if ret := vfs.Close(t, vf); ret != 0 {
				failf(t, "close", "op %d close returned %d", i, ret)
			}
			vf, fd = f.open(t)
			if vf == nil {
				return
			}
		}
	}
	if t.World().Failure() != nil {
		return
	}
	// The end: everything durable, and read back from the disk.
	if !f.fsync(t, vf, fd, false) {
		return
	}
	vfs.DropCaches(t, m.v)
	if !f.readAll(t, vf) {
		return
	}
	if m.fs != nil {
		// Truncated to 0, the file gives back every block it had.
		f.of.Truncate(0)
		if ret := vfs.Ftruncate(t, vf, 0); ret != 0 {
			failf(t, "truncate", "ftruncate 0 returned %d", ret)
		}
		if free := m.fs.FreeBlocks(); free != m.free0 {
			failf(t, "truncate", "after truncating to 0, %d blocks are free, want %d", free, m.free0)
		}
	}
	vfs.Close(t, vf)
}

// A page written through mpage has no buffers; a truncate to the middle
// of its first block then creates them uptodate and unmapped, and
// block_truncate_page must still ask get_block, zero the rest of the
// block and dirty it: otherwise the block's old tail stays on the disk
// and shows when the file grows again (the 2.4 text's "Hole? Nothing to
// do", which TestRoundTrip found in the model's 2.6.12 era).
func TestTruncateMidBlockAfterMpageWrite(t *testing.T) {
	for _, v := range []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x} {
		c := config{version: v, bs: 1024, layout: blockfs.LayoutIndirect, mpage: true}
		ops := []rtOp{{Kind: "write", Off: 4096, Len: 1}, {Kind: "mmap", Off: 0, Len: 2}, {Kind: "fsync"},
			{Kind: "truncate", Off: 1}, {Kind: "truncate", Off: 2}}
		if f := roundTrip(c, ops); f != nil {
			t.Errorf("%s: %s", c, f.Report())
		}
	}
}
