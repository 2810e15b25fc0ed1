package blockfs

import (
	"testing"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// TestFreeBlocksOutsideDatazone: ext2_free_blocks of a block number past
// the device (what a corrupt indirect block read back after drop-caches
// holds) is an ext2_error that frees nothing, as in 2.6.32's balloc.c,
// not a kernel BUG; freeing an allocated block still works.
func TestFreeBlocksOutsideDatazone(t *testing.T) {
	e := newEnv(1, mm.V2_6_2x, Options{BlockSize: 1024}, 1<<20)
	ei := e.fs.NewInode(10)
	var freeBefore, freeAfter, freeAfterOne uint64
	e.run(t, func(tk *sim.Task) {
		var err int
		var count uint64 = 1
		b := ext2NewBlocks(tk, ei.VFS, 0, &count, &err)
		if err != 0 || count != 1 {
			t.Errorf("ext2_new_blocks: err %d count %d", err, count)
			return
		}
		freeBefore = e.fs.free
		ext2FreeBlocks(tk, ei.VFS, 0xffffffff, 1)
		freeAfter = e.fs.free
		ext2FreeBlocks(tk, ei.VFS, b, 1)
		freeAfterOne = e.fs.free
	})
	if freeAfter != freeBefore || freeAfterOne != freeBefore+1 {
		t.Errorf("free blocks %d, then %d after the bad free, %d after the good one; want unchanged, then one more", freeBefore, freeAfter, freeAfterOne)
	}
	found := false
	for _, ev := range e.w.Trace().Events() {
		if ev.Op == "ext2_error" {
			found = true
		}
	}
	if !found {
		t.Error("no ext2_error recorded for the free outside the data zone")
	}
}
