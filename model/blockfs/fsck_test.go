package blockfs

import (
	"strings"
	"testing"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// fsckFile builds a file system with one 14-block file (12 direct blocks
// and two behind an indirect block, 1 KiB blocks) whose i_size ends in
// its last block, and returns its inode. then, if not nil, runs next in
// the same task.
func fsckFile(t *testing.T, layout Layout, then func(tk *sim.Task, fs *Fs, ei *Inode)) (*env, *Inode) {
	t.Helper()
	e := newEnv(1, mm.V3x, Options{BlockSize: 1024, Layout: layout}, 4096)
	ei := e.fs.NewInode(12)
	e.run(t, func(tk *sim.Task) {
		for b := uint64(0); b < 14; b++ {
			bh := &block.BufferHead{Size: e.fs.BlockSize()}
			if ret := e.fs.GetBlock(tk, ei.VFS, b, bh, 1); ret != 0 {
				t.Fatalf("get_block %d: %d", b, ret)
			}
		}
		ei.VFS.SetISize(13*1024 + 1)
		if then != nil {
			then(tk, e.fs, ei)
		}
	})
	return e, ei
}

// TestFsckClean: a file system built by get_block, with i_size in the
// last mapped block, passes every rule, in both layouts.
func TestFsckClean(t *testing.T) {
	for _, l := range []Layout{LayoutIndirect, LayoutExtent} {
		e, ei := fsckFile(t, l, nil)
		if err := e.fs.Check(FsckOptions{ISize: true}); err != nil {
			t.Fatalf("%v: %v", l, err)
		}
		if want := uint64(14 * 2); l == LayoutExtent && ei.IBlocks != want {
			t.Fatalf("i_blocks %d, want %d", ei.IBlocks, want)
		}
	}
}

// TestFsckFindsPlantedDamage: each planted inconsistency is reported
// with its own message.
func TestFsckFindsPlantedDamage(t *testing.T) {
	cases := []struct {
		name, want string
		plant      func(fs *Fs, ei *Inode)
	}{
		{"bitmap bit cleared", "free in the bitmap", func(fs *Fs, ei *Inode) {
			b := uint64(ei.Data[3])
			fs.bitmap[b>>6] &^= 1 << (b & 63)
			fs.free++
		}},
		{"bitmap bit set", "leaked", func(fs *Fs, ei *Inode) {
			b, _ := fs.nextFree(0)
			fs.markUsed(b, 1)
		}},
		{"free count", "free count", func(fs *Fs, ei *Inode) { fs.free-- }},
		{"double-mapped block", "used twice", func(fs *Fs, ei *Inode) { ei.Data[1] = ei.Data[0] }},
		{"i_blocks", "i_blocks", func(fs *Fs, ei *Inode) { ei.IBlocks += 2 }},
		{"i_size lowered", "past the block that holds i_size", func(fs *Fs, ei *Inode) { ei.VFS.SetISize(12 * 1024) }},
		{"i_size zero", "past the block that holds i_size", func(fs *Fs, ei *Inode) { ei.VFS.SetISize(0) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, ei := fsckFile(t, LayoutIndirect, nil)
			c.plant(e.fs, ei)
			err := e.fs.Check(FsckOptions{ISize: true})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("fsck said %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestFsckCrashExcusesOpsInFlight: at a crash, blocks past i_size and a
// leak are excused only while an operation that may leave them holds the
// inode's i_mutex or truncate_mutex; a block used twice never is.
func TestFsckCrashExcusesOpsInFlight(t *testing.T) {
	crash := FsckOptions{ISize: true, Crash: true}
	var errs []error
	fsckFile(t, LayoutIndirect, func(tk *sim.Task, fs *Fs, ei *Inode) {
		ei.VFS.SetISize(12 * 1024) // a truncate has moved i_size, not yet freed
		b, _ := fs.nextFree(0)
		fs.markUsed(b, 1) // ext2_alloc_branch has allocated, not yet spliced
		errs = append(errs, fs.Check(crash))
		ei.VFS.IMutex.Lock(tk)
		ei.TruncateMutex.Lock(tk)
		errs = append(errs, fs.Check(crash), fs.Check(FsckOptions{ISize: true}))
		ei.Data[1] = ei.Data[0]
		errs = append(errs, fs.Check(crash))
		ei.TruncateMutex.Unlock(tk)
		ei.VFS.IMutex.Unlock(tk)
	})
	if errs[0] == nil {
		t.Error("with no lock held, fsck at a crash excused blocks past i_size and a leak")
	}
	if errs[1] != nil {
		t.Errorf("at a crash mid-truncate: %v", errs[1])
	}
	if errs[2] == nil {
		t.Errorf("at quiescence the same image passed")
	}
	if errs[3] == nil || !strings.Contains(errs[3].Error(), "used twice") {
		t.Errorf("a block used twice at a crash: %v", errs[3])
	}
}

// TestFsckFaultExcuses: what an injected fault did is excused, and only
// that: an inode behind a damaged indirect block is not compared with its
// record, leaks and i_blocks are not judged once faults fired, but a
// block used twice still is.
func TestFsckFaultExcuses(t *testing.T) {
	e, ei := fsckFile(t, LayoutIndirect, nil)
	ind := uint64(ei.Data[EXT2_NDIR_BLOCKS])
	// The indirect block reads back as zeros (a failed write, then a re-read).
	read := func(off, n int64) content.Bytes { return content.Zeros(n) }
	if e.bdev.Inode.Mapping.PageTree.Delete(ind/(mm.PageSize/1024)) == nil {
		t.Fatal("the indirect block is not in the buffer cache")
	}
	if err := e.fs.Check(FsckOptions{Read: read, ISize: true}); err == nil {
		t.Fatal("a zeroed indirect block passed")
	}
	faulted := FsckOptions{Read: read, ISize: true, Faulted: true, Damaged: func(b uint64) bool { return b == ind }}
	if err := e.fs.Check(faulted); err != nil {
		t.Fatalf("with the fault that zeroed it: %v", err)
	}
	ei.Data[1] = ei.Data[0]
	if err := e.fs.Check(faulted); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Fatalf("a block used twice under faults: %v", err)
	}
}
