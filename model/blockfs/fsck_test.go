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

// TestFsckFaultExcusesTruncatedDamage: a failed write of an indirect
// block clears its BH_Uptodate (end_buffer_async_write), so ext2_truncate
// reads the stale block back from the disk (here: never written, zeros),
// finds no pointer below the new end (ext2_find_shared's all_zeroes) and
// frees the whole branch. The data block the lost pointer held stays
// allocated and in no tree, as in the kernel until e2fsck, and the
// model's record still lists it below the new end; the damaged block is
// no longer in the tree to excuse the inode. Once a fault fired the record
// may list blocks the tree lost, whatever became of them (a failed read
// there frees them: ext2_find_shared ignores -EIO and detaches the whole
// branch), but the tree still maps nothing the record does not; without
// faults the mismatch is an error.
func TestFsckFaultExcusesTruncatedDamage(t *testing.T) {
	var ind, lost uint64
	e, ei := fsckFile(t, LayoutIndirect, func(tk *sim.Task, fs *Fs, ei *Inode) {
		ind = uint64(ei.Data[EXT2_NDIR_BLOCKS])
		lost, _, _ = ei.Lookup(12)
		bh := cachedBuffer(fs, ind)
		if bh == nil {
			t.Fatal("the indirect block is not in the buffer cache")
		}
		block.ClearBufferUptodate(tk, bh) // its write failed
		ei.VFS.SetISize(12*1024 + 1)      // block 12 holds the new end
		Ext2TruncateBlocks(tk, ei.VFS, 12*1024+1)
	})
	if ei.Data[EXT2_NDIR_BLOCKS] != 0 || e.fs.used(ind) || !e.fs.used(lost) {
		t.Fatalf("the truncate did not free the stale branch: i_data[12] %d, ind used %v, block 12 used %v",
			ei.Data[EXT2_NDIR_BLOCKS], e.fs.used(ind), e.fs.used(lost))
	}
	read := e.diskRead
	if err := e.fs.Check(FsckOptions{Read: read, ISize: true}); err == nil || !strings.Contains(err.Error(), "recorded") {
		t.Fatalf("with no fault, the lost block 12 gave %v", err)
	}
	faulted := FsckOptions{Read: read, ISize: true, Faulted: true, Damaged: func(b uint64) bool { return b == ind }}
	for _, crash := range []bool{false, true} {
		faulted.Crash = crash
		if err := e.fs.Check(faulted); err != nil {
			t.Fatalf("with the fault that lost it (crash %v): %v", crash, err)
		}
	}
	e.fs.bitmap[lost>>6] &^= 1 << (lost & 63) // freed with the branch, as after a failed read
	e.fs.free++
	if err := e.fs.Check(faulted); err != nil {
		t.Fatalf("the lost block freed: %v", err)
	}
	ei.shadow, _ = cutExtents(ei.shadow, 11) // the tree maps block 11, the record not
	if err := e.fs.Check(faulted); err == nil || !strings.Contains(err.Error(), "recorded") {
		t.Fatalf("a tree block the record lacks, under faults: %v", err)
	}
}

// cachedBuffer is block b's buffer in the block device's page cache.
func cachedBuffer(fs *Fs, b uint64) *block.BufferHead {
	p := fs.Bdev.Inode.Mapping.PageTree.Lookup(b / (mm.PageSize / uint64(fs.BlockSize())))
	if p == nil || !block.PageHasBuffers(p) {
		return nil
	}
	for bh := block.PageBuffers(p); ; {
		if bh.Blocknr == b {
			return bh
		}
		if bh = bh.ThisPage; bh == block.PageBuffers(p) {
			return nil
		}
	}
}

// TestFsckCrashExcusesTruncateInFlight: a truncate cuts the model's record
// at the new end under truncate_mutex, then frees the tree; a crash
// between leaves the tree mapping blocks the record does not. Excused at
// a crash while truncate_mutex is held and only past the block that holds
// i_size; not at quiescence, not without the mutex, not below the end.
func TestFsckCrashExcusesTruncateInFlight(t *testing.T) {
	crash := FsckOptions{ISize: true, Crash: true}
	var errs []error
	fsckFile(t, LayoutIndirect, func(tk *sim.Task, fs *Fs, ei *Inode) {
		ei.TruncateMutex.Lock(tk)
		ei.VFS.SetISize(12 * 1024)               // vmtruncate moved i_size
		ei.shadow, _ = cutExtents(ei.shadow, 12) // ext2_truncate cut the record, freed nothing yet
		errs = append(errs, fs.Check(crash), fs.Check(FsckOptions{ISize: true}))
		ei.VFS.SetISize(12*1024 + 1) // block 12, still in the tree, holds i_size
		errs = append(errs, fs.Check(crash))
		ei.VFS.SetISize(12 * 1024)
		ei.TruncateMutex.Unlock(tk)
		errs = append(errs, fs.Check(crash))
	})
	if errs[0] != nil {
		t.Errorf("at a crash mid-truncate: %v", errs[0])
	}
	for i, what := range []string{1: "at quiescence", 2: "below the new end", 3: "without truncate_mutex"} {
		if i > 0 && (errs[i] == nil || !strings.Contains(errs[i].Error(), "recorded")) {
			t.Errorf("%s: %v", what, errs[i])
		}
	}
}
