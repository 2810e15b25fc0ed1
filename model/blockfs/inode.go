package blockfs

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// ext2's block map, fs/ext2/inode.c, Linux 2.6.32 (read from the 3.17
// copy, whose ext2_get_blocks is the same code).

// i_data layout, fs/ext2/ext2.h.
const (
	EXT2_NDIR_BLOCKS = 12
	EXT2_IND_BLOCK   = EXT2_NDIR_BLOCKS
	EXT2_DIND_BLOCK  = EXT2_IND_BLOCK + 1
	EXT2_TIND_BLOCK  = EXT2_DIND_BLOCK + 1
	EXT2_N_BLOCKS    = EXT2_TIND_BLOCK + 1
)

// indirect is the Indirect triple <p, key, bh>: where a block number is
// stored (the inode's i_data when bh is nil, else pointer slot of the
// block in bh), and the number read from there.
type indirect struct {
	bh   *block.BufferHead
	slot uint
	key  uint32
}

// readP is *p.
func (ei *Inode) readP(ind *indirect, delta uint) uint32 {
	if ind.bh == nil {
		return ei.Data[ind.slot+delta]
	}
	return getPtr(ind.bh, ind.slot+delta)
}

// writeP is *p = v (at p + delta).
func (ei *Inode) writeP(ind *indirect, delta uint, v uint32) {
	if ind.bh == nil {
		ei.Data[ind.slot+delta] = v
		return
	}
	setPtr(ind.bh, ind.slot+delta, v)
}

// addChain is add_chain(p, bh, v): p->key = *(p->p = v); p->bh = bh.
func (ei *Inode) addChain(p *indirect, bh *block.BufferHead, slot uint) {
	p.bh, p.slot = bh, slot
	p.key = ei.readP(p, 0)
}

// verifyChain is verify_chain(from, to): has none of the keys changed?
func (ei *Inode) verifyChain(chain []indirect, from, to int) bool {
	for from <= to && chain[from].key == ei.readP(&chain[from], 0) {
		from++
	}
	return from > to
}

// ext2BlockToPath is ext2_block_to_path(inode, i_block, offsets,
// boundary): the path of offsets from the inode to the block, its depth
// (0 if the block is out of range), and in *boundary how many blocks
// follow it in the same indirect block (or among the direct blocks).
// i_block is a long: on a 32-bit kernel it is the low 32 bits of the
// sector_t, sign included.
func ext2BlockToPath(inode *mm.Inode, iBlock int64, offsets *[4]uint, boundary *int) int {
	fs := EXT2_I(inode).fs
	ptrs := int64(fs.Opts.BlockSize / 4)         // EXT2_ADDR_PER_BLOCK
	ptrsBits := uint(fs.Blkbits - 2)             // EXT2_ADDR_PER_BLOCK_BITS
	const directBlocks = int64(EXT2_NDIR_BLOCKS) // direct_blocks
	indirectBlocks := ptrs                       // indirect_blocks
	doubleBlocks := int64(1) << (ptrsBits * 2)   // double_blocks
	n := 0
	final := int64(0)

	switch {
	case iBlock < 0:
		// ext2_msg(inode->i_sb, KERN_WARNING, "warning: %s: block < 0", __func__)
	case iBlock < directBlocks:
		offsets[n] = uint(iBlock)
		n++
		final = directBlocks
	default:
		if iBlock -= directBlocks; iBlock < indirectBlocks {
			offsets[n] = EXT2_IND_BLOCK
			offsets[n+1] = uint(iBlock)
			n += 2
			final = ptrs
		} else if iBlock -= indirectBlocks; iBlock < doubleBlocks {
			offsets[n] = EXT2_DIND_BLOCK
			offsets[n+1] = uint(iBlock >> ptrsBits)
			offsets[n+2] = uint(iBlock & (ptrs - 1))
			n += 3
			final = ptrs
		} else if iBlock -= doubleBlocks; iBlock>>(ptrsBits*2) < ptrs {
			offsets[n] = EXT2_TIND_BLOCK
			offsets[n+1] = uint(iBlock >> (ptrsBits * 2))
			offsets[n+2] = uint((iBlock >> ptrsBits) & (ptrs - 1))
			offsets[n+3] = uint(iBlock & (ptrs - 1))
			n += 4
			final = ptrs
		} else {
			// ext2_msg(inode->i_sb, KERN_WARNING, "warning: %s: block is too big", __func__)
		}
	}
	if boundary != nil {
		*boundary = int(final - 1 - (iBlock & (ptrs - 1)))
	}
	return n
}

// ext2GetBranch is ext2_get_branch(inode, depth, offsets, chain, err):
// read the chain of indirect blocks (sb_bread: this may sleep on I/O).
// It returns -1 (NULL) if the whole chain to the data block exists, else
// the index of the last triple filled: *err is 0 for a missing block,
// -EIO if an indirect block could not be read, -EAGAIN if the chain
// changed while it was being read.
func ext2GetBranch(t *sim.Task, inode *mm.Inode, depth int, offsets *[4]uint, chain *[4]indirect, err *int) int {
	ei := EXT2_I(inode)
	fs := ei.fs
	p := 0
	var bh *block.BufferHead
	off := 0

	*err = 0
	// i_data is not going away, no lock needed
	ei.addChain(&chain[0], nil, offsets[0])
	if chain[p].key == 0 {
		goto noBlock
	}
	for depth--; depth > 0; depth-- {
		bh = block.Bread(t, fs.Bdev, uint64(chain[p].key), fs.Opts.BlockSize) // sb_bread
		if bh == nil {
			goto failure
		}
		ei.MetaLock.Lock(t) // read_lock(&EXT2_I(inode)->i_meta_lock)
		if !ei.verifyChain(chain[:], 0, p) {
			goto changed
		}
		p++
		off++
		ei.addChain(&chain[p], bh, offsets[off])
		ei.MetaLock.Unlock(t)
		if chain[p].key == 0 {
			goto noBlock
		}
	}
	return -1

changed:
	ei.MetaLock.Unlock(t)
	block.Brelse(t, bh)
	*err = eagain
	goto noBlock
failure:
	*err = eio
noBlock:
	return p
}

// ext2FindNear is ext2_find_near(inode, ind): the preferred place for
// an allocation when the sequential heuristic fails: near the previous
// block in the same indirect block, or the indirect block itself, or
// coloured by the caller's pid within the inode's group.
func ext2FindNear(t *sim.Task, inode *mm.Inode, ind *indirect) uint64 {
	ei := EXT2_I(inode)
	fs := ei.fs
	// Try to find previous block
	for i := int(ind.slot) - 1; i >= 0; i-- {
		var v uint32
		if ind.bh == nil {
			v = ei.Data[i]
		} else {
			v = getPtr(ind.bh, uint(i))
		}
		if v != 0 {
			return uint64(v)
		}
	}
	// No such thing, so let's try location of indirect block
	if ind.bh != nil {
		return ind.bh.Blocknr
	}
	// It is going to be referred from inode itself? OK, just put it into
	// the same cylinder group then.
	blocksPerGroup := uint64(8 * fs.Opts.BlockSize) // EXT2_BLOCKS_PER_GROUP
	bgStart := 1 + ei.blockGroup*blocksPerGroup     // ext2_group_first_block_no
	colour := uint64(t.ID()%16) * (blocksPerGroup / 16)
	return bgStart + colour
}

// ext2FindGoal is ext2_find_goal(inode, block, partial).
func ext2FindGoal(t *sim.Task, inode *mm.Inode, blk uint64, partial *indirect) uint64 {
	blockI := EXT2_I(inode).blockAllocInfo
	// try the heuristic for sequential allocation, failing that at least
	// try to get decent locality.
	if blockI != nil && blk == blockI.lastAllocLogicalBlock+1 && blockI.lastAllocPhysicalBlock != 0 {
		return blockI.lastAllocPhysicalBlock + 1
	}
	return ext2FindNear(t, inode, partial)
}

// ext2BlksToAllocate is ext2_blks_to_allocate(branch, k, blks,
// blocks_to_boundary): how many direct blocks to allocate for the branch.
func (ei *Inode) ext2BlksToAllocate(branch *indirect, k int, blks uint64, blocksToBoundary int) uint64 {
	count := uint64(0)
	// Simple case, [t,d]Indirect block(s) has not allocated yet then it's
	// clear blocks on that path have not allocated
	if k > 0 {
		// right now don't hanel cross boundary allocation
		if blks < uint64(blocksToBoundary)+1 {
			count += blks
		} else {
			count += uint64(blocksToBoundary) + 1
		}
		return count
	}
	count++
	for count < blks && count <= uint64(blocksToBoundary) && ei.readP(branch, uint(count)) == 0 {
		count++
	}
	return count
}

// ext2AllocBlocks is ext2_alloc_blocks(inode, goal, indirect_blks, blks,
// new_blocks, err): allocate the indirect blocks the branch needs and at
// least the first direct block; return how many direct blocks were
// allocated (they follow new_blocks[indirect_blks]).
func ext2AllocBlocks(t *sim.Task, inode *mm.Inode, goal uint64, indirectBlks int, blks uint64,
	newBlocks *[4]uint64, err *int) uint64 {
	var count uint64
	index := 0
	var currentBlock uint64
	var ret uint64

	// Here we try to allocate the requested multiple blocks at once, on a
	// best-effort basis. To build a branch, we should allocate blocks for
	// the indirect blocks(if not allocated yet), and at least the first
	// direct block of this branch. That's the minimum number of blocks
	// need to allocate(required)
	target := blks + uint64(indirectBlks)
	for {
		count = target
		// allocating blocks for indirect blocks and direct blocks
		currentBlock = ext2NewBlocks(t, inode, goal, &count, err)
		if *err != 0 {
			goto failedOut
		}
		target -= count
		// allocate blocks for indirect blocks
		for index < indirectBlks && count > 0 {
			newBlocks[index] = currentBlock
			index++
			currentBlock++
			count--
		}
		if count > 0 {
			break
		}
	}
	// save the new block number for the first direct block
	newBlocks[index] = currentBlock
	// total number of blocks allocated for direct blocks
	ret = count
	*err = 0
	return ret

failedOut:
	for i := 0; i < index; i++ {
		ext2FreeBlocks(t, inode, newBlocks[i], 1)
	}
	if index > 0 {
		mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	}
	return ret
}

// ext2AllocBranch is ext2_alloc_branch(inode, indirect_blks, blks, goal,
// offsets, branch): allocate the missing indirect blocks and the data
// blocks, zero the new indirect blocks (through the buffer cache, marked
// dirty and associated with the inode for fsync) and link them to each
// other; the last link, from the existing tree, is left for
// ext2_splice_branch (branch[0].key holds it).
func ext2AllocBranch(t *sim.Task, inode *mm.Inode, indirectBlks int, blks *uint64, goal uint64,
	offsets []uint, branch []indirect) int {
	ei := EXT2_I(inode)
	fs := ei.fs
	blocksize := fs.Opts.BlockSize
	var newBlocks [4]uint64
	err := 0

	num := ext2AllocBlocks(t, inode, goal, indirectBlks, *blks, &newBlocks, &err)
	if err != 0 {
		return err
	}
	branch[0].key = uint32(newBlocks[0])
	// metadata blocks and data blocks are allocated.
	for n := 1; n <= indirectBlks; n++ {
		// Get buffer_head for parent block, zero it out and set the
		// pointer to new one, then send parent to disk.
		bh := block.Getblk(t, fs.Bdev, newBlocks[n-1], blocksize) // sb_getblk
		branch[n].bh = bh
		block.LockBuffer(t, bh)
		zeroBlock(bh)
		branch[n].slot = offsets[n]
		branch[n].key = uint32(newBlocks[n])
		ei.writeP(&branch[n], 0, branch[n].key)
		if n == indirectBlks {
			currentBlock := newBlocks[n]
			// End of chain, update the last new metablock of the chain
			// to point to the new allocated data blocks numbers
			for i := uint64(1); i < num; i++ {
				currentBlock++
				ei.writeP(&branch[n], uint(i), uint32(currentBlock))
			}
		}
		block.SetBufferUptodate(t, bh)
		block.UnlockBuffer(t, bh)
		block.MarkBufferDirtyInode(t, bh, inode)
		// We used to sync bh here if IS_SYNC(inode). But we now rely upon
		// generic_write_sync() and b_inode_buffers. But not for
		// directories.
	}
	*blks = num
	return err
}

// ext2SpliceBranch is ext2_splice_branch(inode, block, where, num, blks):
// fill the missing link, so the new branch becomes part of the tree, and
// do the housekeeping (allocation heuristic, dirty buffer or inode).
func ext2SpliceBranch(t *sim.Task, inode *mm.Inode, blk uint64, where []indirect, num int, blks uint64) {
	ei := EXT2_I(inode)
	blockI := ei.blockAllocInfo

	// XXX LOCKING probably should have i_meta_lock ?
	// That's it
	ei.writeP(&where[0], 0, where[0].key)

	// Update the host buffer_head or inode to point to more just
	// allocated direct blocks blocks
	if num == 0 && blks > 1 {
		currentBlock := uint64(where[0].key) + 1
		for i := uint64(1); i < blks; i++ {
			ei.writeP(&where[0], uint(i), uint32(currentBlock))
			currentBlock++
		}
	}

	// update the most recently allocated logical & physical block in
	// i_block_alloc_info, to assist find the proper goal block for next
	// allocation
	if blockI != nil {
		blockI.lastAllocLogicalBlock = blk + blks - 1
		blockI.lastAllocPhysicalBlock = uint64(where[num].key) + blks - 1
	}

	// The model's record of what is mapped (the bio-shape oracle).
	ei.shadowSet(blk, uint64(where[num].key), blks)

	// We are done with atomic stuff, now do the rest of housekeeping

	// had we spliced it onto indirect block?
	if where[0].bh != nil {
		block.MarkBufferDirtyInode(t, where[0].bh, inode)
	}
	mm.MarkInodeDirty(t, inode, mm.I_DIRTY) // inode->i_ctime = CURRENT_TIME_SEC; mark_inode_dirty(inode)
}

// ext2GetBlocks is ext2_get_blocks(inode, iblock, maxblocks, bh_result,
// create), fs/ext2/inode.c, Linux 2.6.32: map up to maxblocks blocks
// from iblock; with create, allocate what is missing. It returns the
// number of blocks mapped (> 0), 0 for a hole when create is 0, or a
// negative errno.
func ext2GetBlocks(t *sim.Task, inode *mm.Inode, iblock uint64, maxblocks uint64, bhResult *block.BufferHead,
	create int) int {
	ei := EXT2_I(inode)
	fs := ei.fs
	err := eio
	var offsets [4]uint
	var chain [4]indirect
	var partial int
	var goal uint64
	var indirectBlks int
	blocksToBoundary := 0
	var depth int
	var count uint64
	var firstBlock uint64

	t.BUG_ON(maxblocks == 0, inode.Obj(), "ext2_get_blocks: maxblocks == 0")

	// ext2_block_to_path takes a long.
	iBlock := int64(iblock)
	if fs.K.Bits32 {
		iBlock = int64(int32(uint32(iblock)))
	}
	depth = ext2BlockToPath(inode, iBlock, &offsets, &blocksToBoundary)
	if depth == 0 {
		return err
	}

	partial = ext2GetBranch(t, inode, depth, &offsets, &chain, &err)
	// Simplest case - block found, no allocation needed
	if partial < 0 {
		firstBlock = uint64(chain[depth-1].key)
		block.ClearBufferNew(t, bhResult) // What's this do?
		count++
		// map more blocks
		for count < maxblocks && count <= uint64(blocksToBoundary) {
			if !ei.verifyChain(chain[:], 0, depth-1) {
				// Indirect block might be removed by truncate while we
				// were reading it. Handling of that case: forget what
				// we've got now, go to reread.
				err = eagain
				count = 0
				break
			}
			blk := ei.readP(&chain[depth-1], uint(count))
			if uint64(blk) == firstBlock+count {
				count++
			} else {
				break
			}
		}
		if err != eagain {
			goto gotIt
		}
	}

	// Next simple case - plain lookup or failed read of indirect block
	if create == 0 || err == eio {
		if create == 0 && err == 0 {
			ei.shadowSet(iblock, 0, 1) // the tree says: a hole
		}
		goto cleanup
	}

	ei.TruncateMutex.Lock(t)
	// If the indirect block is missing while we are reading the
	// chain(ext2_get_branch() returns -EAGAIN err), or if the chain has
	// been changed after we grab the semaphore, (either because another
	// process truncated this branch, or another get_block allocated this
	// branch) re-grab the chain to see if the request block has been
	// allocated or not.
	//
	// Since we already block the truncate/other get_block at this point,
	// we will have the current copy of the chain when we splice the
	// branch into the tree.
	if err == eagain || !ei.verifyChain(chain[:], 0, partial) {
		for partial > 0 {
			block.Brelse(t, chain[partial].bh)
			partial--
		}
		partial = ext2GetBranch(t, inode, depth, &offsets, &chain, &err)
		if partial < 0 {
			count++
			ei.TruncateMutex.Unlock(t)
			if err != 0 {
				goto cleanup
			}
			block.ClearBufferNew(t, bhResult)
			goto gotIt
		}
	}

	// Okay, we need to do block allocation. Lazily initialize the block
	// allocation info here if necessary
	if ei.blockAllocInfo == nil {
		ei.blockAllocInfo = &blockAllocInfo{} // ext2_init_block_alloc_info
	}

	goal = ext2FindGoal(t, inode, iblock, &chain[partial])

	// the number of blocks need to allocate for [d,t]indirect blocks
	indirectBlks = depth - partial - 1
	// Next look up the indirect map to count the totoal number of direct
	// blocks to allocate for this branch.
	count = ei.ext2BlksToAllocate(&chain[partial], indirectBlks, maxblocks, blocksToBoundary)
	// XXX ???? Block out ext2_truncate while we alter the tree
	err = ext2AllocBranch(t, inode, indirectBlks, &count, goal, offsets[partial:], chain[partial:])
	if err != 0 {
		ei.TruncateMutex.Unlock(t)
		goto cleanup
	}

	ext2SpliceBranch(t, inode, iblock, chain[partial:], indirectBlks, count)
	ei.TruncateMutex.Unlock(t)
	block.SetBufferNew(t, bhResult)
gotIt:
	ei.shadowSet(iblock, uint64(chain[depth-1].key), count)
	block.MapBh(t, bhResult, fs.Bdev, fs.Opts.BlockSize, uint64(chain[depth-1].key))
	if count > uint64(blocksToBoundary) {
		block.SetBufferBoundary(t, bhResult)
	}
	err = int(count)
	// Clean up and exit
	partial = depth - 1 // the whole chain
cleanup:
	for partial > 0 {
		block.Brelse(t, chain[partial].bh)
		partial--
	}
	return err
}

// shadowSet makes the model's record of what is mapped (Inode.shadow, the
// bio-shape oracle) say what the block tree just said: logical blocks
// [l, l+n) are at p, p+1, ... (p == 0: a hole). Not kernel code. The two
// differ only when the tree forgot blocks: when the write of an indirect
// block fails, end_buffer_write_sync clears its uptodate bit and the next
// sb_bread reads the old block back from the disk, so the blocks it
// pointed to are holes again, and may be allocated anew (the old ones stay
// allocated, lost, as in the kernel until fsck). A truncate that frees the
// stale block, or one it could not read, leaves them in the record below
// the new end, until a lookup finds the holes (FsckOptions.Faulted).
func (ei *Inode) shadowSet(l, p, n uint64) {
	same, overlap := true, false
	for b := l; b < l+n; b++ {
		i := findExtent(ei.shadow, b)
		overlap = overlap || i >= 0
		if p == 0 {
			same = same && i < 0
		} else {
			same = same && i >= 0 && ei.shadow[i].Phys+(b-ei.shadow[i].Logical) == p+(b-l)
		}
	}
	if same {
		return
	}
	if overlap {
		low, rest := cutExtents(ei.shadow, l)
		_, high := cutExtents(rest, l+n)
		ei.shadow = append(low, high...)
	}
	if p != 0 {
		ei.shadow = insertExtent(ei.shadow, l, p, n)
	}
}

// ext2GetBlock is ext2_get_block(inode, iblock, bh_result, create),
// fs/ext2/inode.c, Linux 2.6.32: map as many blocks as b_size asks for;
// b_size comes back as the size mapped. In the 2.6.12 era it maps one
// block whatever b_size says, as 2.6.12's ext2_get_block did.
func ext2GetBlock(t *sim.Task, inode *mm.Inode, iblock uint64, bhResult *block.BufferHead, create int) int {
	t.Enter("ext2_get_block")
	defer t.Leave()
	maxBlocks := uint64(bhResult.Size >> inode.Blkbits)
	if !inode.Kernel.Era().GetBlockMaps {
		maxBlocks = 1
	}
	ret := ext2GetBlocks(t, inode, iblock, maxBlocks, bhResult, create)
	if ret > 0 {
		bhResult.Size = uint(ret) << inode.Blkbits
		ret = 0
	}
	return ret
}
