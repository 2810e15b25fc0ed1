package blockfs

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// MaxExtentLen is the longest extent extentGetBlock allocates or returns
// at once (ext4's EXT_INIT_MAX_LEN).
const MaxExtentLen = 1 << 15

// extentGetBlock is the get_block of LayoutExtent, modelled on ext4's
// extent path of that era (ext4_get_blocks -> ext4_ext_get_blocks, Linux
// 2.6.32) with the extent tree kept in the inode: look the block up under
// i_meta_lock (i_data_sem); a mapped block comes back with as much of its
// extent as b_size asks for; a hole stays unmapped unless create, which
// allocates up to b_size worth of blocks (no further than the next
// extent), continuing the previous extent on disk when it can. Logical
// block numbers are 64-bit; there are no indirect blocks, so no
// metadata I/O and no boundaries. Traces call it by its era's name
// (extentFn).
func extentGetBlock(t *sim.Task, inode *mm.Inode, iblock uint64, bh *block.BufferHead, create int) int {
	t.Enter(extentFn(inode, "ext4_get_block", "ext2_get_block"))
	defer t.Leave()
	ei := EXT2_I(inode)
	fs := ei.fs
	maxBlocks := uint64(bh.Size >> inode.Blkbits)
	if !inode.Kernel.Era().GetBlockMaps || maxBlocks == 0 {
		maxBlocks = 1
	}
	maxBlocks = min(maxBlocks, MaxExtentLen)

	ei.MetaLock.Lock(t) // down_read(&EXT4_I(inode)->i_data_sem)
	i := findExtent(ei.ext, iblock)
	if i >= 0 {
		e := ei.ext[i]
		n := min(maxBlocks, e.Len-(iblock-e.Logical))
		phys := e.Phys + (iblock - e.Logical)
		ei.MetaLock.Unlock(t)
		block.ClearBufferNew(t, bh)
		block.MapBh(t, bh, fs.Bdev, fs.Opts.BlockSize, phys)
		bh.Size = uint(n) << inode.Blkbits
		return 0
	}
	ei.MetaLock.Unlock(t)
	if create == 0 {
		return 0 // a hole
	}

	ei.TruncateMutex.Lock(t) // down_write(&EXT4_I(inode)->i_data_sem)
	// Recheck: another task may have allocated it meanwhile.
	if i = findExtent(ei.ext, iblock); i >= 0 {
		e := ei.ext[i]
		ei.TruncateMutex.Unlock(t)
		block.ClearBufferNew(t, bh)
		block.MapBh(t, bh, fs.Bdev, fs.Opts.BlockSize, e.Phys+(iblock-e.Logical))
		bh.Size = uint(min(maxBlocks, e.Len-(iblock-e.Logical))) << inode.Blkbits
		return 0
	}
	// How far the hole goes: up to the next extent.
	count := maxBlocks
	next := 0
	for next < len(ei.ext) && ei.ext[next].Logical < iblock {
		next++
	}
	if next < len(ei.ext) {
		count = min(count, ei.ext[next].Logical-iblock)
	}
	// Goal: continue the previous extent on disk (ext4_ext_find_goal).
	var goal uint64
	if ei.blockAllocInfo == nil {
		ei.blockAllocInfo = &blockAllocInfo{}
	}
	if next > 0 {
		prev := ei.ext[next-1]
		goal = prev.Phys + (iblock - prev.Logical)
	} else {
		goal = ext2FindGoal(t, inode, iblock, &indirect{slot: 0})
	}
	err := 0
	first := ext2NewBlocks(t, inode, goal, &count, &err)
	if err != 0 {
		ei.TruncateMutex.Unlock(t)
		return err
	}
	ei.MetaLock.Lock(t)
	ei.ext = insertExtent(ei.ext, iblock, first, count)
	ei.MetaLock.Unlock(t)
	ei.blockAllocInfo.lastAllocLogicalBlock = iblock + count - 1
	ei.blockAllocInfo.lastAllocPhysicalBlock = first + count - 1
	ei.TruncateMutex.Unlock(t)
	mm.MarkInodeDirty(t, inode, mm.I_DIRTY)

	block.SetBufferNew(t, bh)
	block.MapBh(t, bh, fs.Bdev, fs.Opts.BlockSize, first)
	bh.Size = uint(count) << inode.Blkbits
	return 0
}

// extentFn is the name a trace gives a function of the extent layout: ext4's
// name where the era has ext4 (ext4dev from Linux 2.6.19, ext4 from 2.6.28:
// the 2.6.2x and 3.x eras), else ext2's (2.6.12 has no ext4; there the
// extent layout stands in for ext2's block map, behind ext2's function
// names). An empty ext2 name means ext2 does that work inline, in its
// caller.
func extentFn(inode *mm.Inode, ext4, ext2 string) string {
	if !inode.Kernel.Era().Ext4Names {
		return ext2
	}
	return ext4
}
