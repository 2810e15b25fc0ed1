package blockfs

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// Truncation: ext2_truncate with its helpers (fs/ext2/inode.c),
// block_truncate_page and nobh_truncate_page (fs/buffer.c), and the era's
// glue between the VFS and them.
//
// Versions: ext2_truncate, ext2_find_shared, ext2_free_data,
// ext2_free_branches and all_zeroes are Linux 2.6.32's (checked against
// a 2.6.3x fs/ext2/inode.c with truncate_mutex and a 2.6.1x one with
// ext2_discard_prealloc and the two-argument nobh_truncate_page, both
// read via the search tool as unnamed file texts; 3.2 moved the
// block-freeing half verbatim into __ext2_truncate_blocks, which
// ext2TruncateBlocksInner is, and 2.6.12's differs only in having no
// truncate_mutex and an ext2_discard_prealloc call; the model takes
// truncate_mutex in every era because its get_block, 2.6.32's, does).
// block_truncate_page is 2.6.32's; in the 2.6.12 era it computes the
// first block of the page as pgoff_t iblock = index << (PAGE_CACHE_SHIFT
// - i_blkbits), without the later (sector_t) cast (akpm's "LBD fix for
// 2.6.3", lkml, March 2004, made iblock a pgoff_t; the cast came later),
// so on a 32-bit kernel it wraps like 2.6.12's mpage. nobh_truncate_page
// is 2.6.32's for every era (2.6.12's went through ->prepare_write, which
// the model does not have for nobh; see model/vfs).
//
// The glue: in 2.6.12 and 2.6.2x, truncate(2) reaches ext2 through
// notify_change -> ext2_setattr -> inode_setattr -> vmtruncate (mm), which
// cuts the page cache and then calls i_op->truncate, ext2_truncate; in 3.x
// ext2_setattr calls ext2_setsize: block_truncate_page, truncate_setsize,
// __ext2_truncate_blocks. Fs.SetSize is that ATTR_SIZE branch for callers
// without model/vfs.
//
// The model's record of what is mapped (Inode.shadow, the bio-shape
// oracle's and Lookup's view) is cut at the new end when the tree is: it
// is bookkeeping, not kernel state.
//
// LayoutExtent has no kernel counterpart for its in-inode extent list; its
// truncation (extentTruncateBlocks) follows ext4_ext_truncate's shape
// (under i_data_sem, remove the extents past the last block and free their
// blocks) without ext4's extent-tree code.

// allZeroes is all_zeroes(p, q): are pointer slots [from, to) of the
// indirect block in bh all zero?
func allZeroes(bh *block.BufferHead, from, to uint) bool {
	for i := from; i < to; i++ {
		if getPtr(bh, i) != 0 {
			return false
		}
	}
	return true
}

// ptrRun is a run of block pointers [from, to): in i_data (bh == nil and
// local == nil), in the indirect block in bh, or the one local variable
// *local (the "&nr, &nr+1" of ext2_truncate).
type ptrRun struct {
	bh       *block.BufferHead
	local    *uint32
	from, to uint
}

func (ei *Inode) runGet(r ptrRun, i uint) uint32 {
	switch {
	case r.local != nil:
		return *r.local
	case r.bh != nil:
		return getPtr(r.bh, i)
	}
	return ei.Data[i]
}

func (ei *Inode) runSet(r ptrRun, i uint, v uint32) {
	switch {
	case r.local != nil:
		*r.local = v
	case r.bh != nil:
		setPtr(r.bh, i, v)
	default:
		ei.Data[i] = v
	}
}

// ext2FindShared is ext2_find_shared(inode, depth, offsets, chain, top),
// fs/ext2/inode.c, Linux 2.6.32: find the indirect blocks for partial
// truncation. It returns the index in chain of the last triple whose
// block must survive (the caller frees the tails of the blocks from it up
// to the inode) and sets *top to the root of the branch that hangs
// wholly past the new end, detached from the tree (0 if there is none).
func ext2FindShared(t *sim.Task, inode *mm.Inode, depth int, offsets *[4]uint, chain *[4]indirect,
	top *uint32) int {
	ei := EXT2_I(inode)
	var err int
	var k, p int

	*top = 0
	for k = depth; k > 1 && offsets[k-1] == 0; k-- {
	}
	partial := ext2GetBranch(t, inode, k, offsets, chain, &err)
	if partial < 0 { // if (!partial) partial = chain + k-1;
		partial = k - 1
	}
	// If the branch acquired continuation since we've looked at it -
	// fine, it should all survive and (new) top doesn't belong to us.
	ei.MetaLock.Lock(t) // write_lock(&EXT2_I(inode)->i_meta_lock)
	if chain[partial].key == 0 && ei.readP(&chain[partial], 0) != 0 {
		ei.MetaLock.Unlock(t)
		goto noTop
	}
	for p = partial; p > 0 && allZeroes(chain[p].bh, 0, chain[p].slot); p-- {
	}
	// OK, we've found the last block that must survive. The rest of our
	// branch should be detached before unlocking. However, if that rest
	// of branch is all ours and does not grow immediately from the inode
	// it's easier to cheat and just decrement partial->p.
	if p == k-1 && p > 0 {
		chain[p].slot-- // p->p--: the slot is > 0 here (all_zeroes of an empty run is true)
	} else {
		*top = ei.readP(&chain[p], 0)
		ei.writeP(&chain[p], 0, 0)
	}
	ei.MetaLock.Unlock(t)

	for partial > p {
		block.Brelse(t, chain[partial].bh)
		partial--
	}
noTop:
	return partial
}

// ext2FreeData is ext2_free_data(inode, p, q), fs/ext2/inode.c, Linux
// 2.6.32: free the data blocks the pointers of r name, clearing them,
// in contiguous runs.
func ext2FreeData(t *sim.Task, inode *mm.Inode, r ptrRun) {
	ei := EXT2_I(inode)
	var blockToFree, count uint64

	for i := r.from; i < r.to; i++ {
		nr := uint64(ei.runGet(r, i))
		if nr == 0 {
			continue
		}
		ei.runSet(r, i, 0)
		// accumulate blocks to free if they're contiguous
		if count == 0 {
			goto freeThis
		} else if blockToFree == nr-count {
			count++
			continue
		}
		mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
		ext2FreeBlocks(t, inode, blockToFree, count)
	freeThis:
		blockToFree = nr
		count = 1
	}
	if count > 0 {
		mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
		ext2FreeBlocks(t, inode, blockToFree, count)
	}
}

// ext2FreeBranches is ext2_free_branches(inode, p, q, depth),
// fs/ext2/inode.c, Linux 2.6.32: free the subtrees of depth depth the
// pointers of r root, then the pointers' own blocks. Each indirect block
// is read (sb_bread: this may sleep on I/O) and then forgotten (bforget:
// its contents no longer matter, it must not be written back).
func ext2FreeBranches(t *sim.Task, inode *mm.Inode, r ptrRun, depth int) {
	ei := EXT2_I(inode)
	fs := ei.fs
	if depth == 0 {
		ext2FreeData(t, inode, r)
		return
	}
	depth--
	addrPerBlock := fs.Opts.BlockSize / 4
	for i := r.from; i < r.to; i++ {
		nr := ei.runGet(r, i)
		if nr == 0 {
			continue
		}
		ei.runSet(r, i, 0)
		bh := block.Bread(t, fs.Bdev, uint64(nr), fs.Opts.BlockSize) // sb_bread
		// A read failure? Report error and clear slot (should be rare).
		if bh == nil {
			t.World().Record(sim.KindNote, "ext2_free_branches", inode.Obj(), int64(nr),
				"ext2_error: Read failure")
			fs.ErrorFS = true // ext2_error marks the file system for repair
			continue
		}
		ext2FreeBranches(t, inode, ptrRun{bh: bh, from: 0, to: addrPerBlock}, depth)
		block.Bforget(t, bh)
		ext2FreeBlocks(t, inode, uint64(nr), 1)
		mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	}
}

// ext2TruncateBlocksInner is __ext2_truncate_blocks(inode, offset),
// fs/ext2/inode.c, Linux 3.2 (the body of 2.6.32's ext2_truncate after
// block_truncate_page): free every block of the file at or past the block
// that holds byte offset, under truncate_mutex. For LayoutExtent it is
// extentTruncateBlocks.
func ext2TruncateBlocksInner(t *sim.Task, inode *mm.Inode, offset int64) {
	ei := EXT2_I(inode)
	fs := ei.fs
	if fs.Opts.Layout == LayoutExtent {
		extentTruncateBlocks(t, inode, offset)
		return
	}
	addrPerBlock := fs.Opts.BlockSize / 4
	var offsets [4]uint
	var chain [4]indirect
	var partial int
	var nr uint32
	blocksize := int64(fs.Opts.BlockSize)

	// long iblock: on a 32-bit kernel, 32 bits.
	iblock := (offset + blocksize - 1) >> fs.Blkbits
	if fs.K.Bits32 {
		iblock = int64(int32(uint32(iblock)))
	}
	n := ext2BlockToPath(inode, iblock, &offsets, nil)
	if n == 0 {
		return
	}

	// From here we block out all ext2_get_block() callers who want to
	// modify the block allocation tree.
	ei.TruncateMutex.Lock(t)
	ei.shadow, _ = cutExtents(ei.shadow, uint64(iblock)) // the model's record

	if n == 1 {
		ext2FreeData(t, inode, ptrRun{from: offsets[0], to: EXT2_NDIR_BLOCKS})
		goto doIndirects
	}

	partial = ext2FindShared(t, inode, n, &offsets, &chain, &nr)
	// Kill the top of shared branch (already detached)
	if nr != 0 {
		if partial == 0 {
			mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
		} else {
			block.MarkBufferDirtyInode(t, chain[partial].bh, inode)
		}
		ext2FreeBranches(t, inode, ptrRun{local: &nr, from: 0, to: 1}, (n-1)-partial)
	}
	// Clear the ends of indirect blocks on the shared branch
	for partial > 0 {
		ext2FreeBranches(t, inode, ptrRun{bh: chain[partial].bh, from: chain[partial].slot + 1, to: addrPerBlock},
			(n-1)-partial)
		block.MarkBufferDirtyInode(t, chain[partial].bh, inode)
		block.Brelse(t, chain[partial].bh)
		partial--
	}
doIndirects:
	// Kill the remaining (whole) subtrees
	switch offsets[0] {
	default:
		if nr = ei.Data[EXT2_IND_BLOCK]; nr != 0 {
			ei.Data[EXT2_IND_BLOCK] = 0
			mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
			ext2FreeBranches(t, inode, ptrRun{local: &nr, from: 0, to: 1}, 1)
		}
		fallthrough
	case EXT2_IND_BLOCK:
		if nr = ei.Data[EXT2_DIND_BLOCK]; nr != 0 {
			ei.Data[EXT2_DIND_BLOCK] = 0
			mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
			ext2FreeBranches(t, inode, ptrRun{local: &nr, from: 0, to: 1}, 2)
		}
		fallthrough
	case EXT2_DIND_BLOCK:
		if nr = ei.Data[EXT2_TIND_BLOCK]; nr != 0 {
			ei.Data[EXT2_TIND_BLOCK] = 0
			mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
			ext2FreeBranches(t, inode, ptrRun{local: &nr, from: 0, to: 1}, 3)
		}
		fallthrough
	case EXT2_TIND_BLOCK:
	}

	// ext2_discard_reservation(inode): the model's allocator keeps no
	// reservation window.
	ei.TruncateMutex.Unlock(t)
}

// extentTruncateBlocks frees the blocks of a LayoutExtent file at or past
// the block that holds byte offset: ext4_ext_truncate's shape (Linux
// 2.6.32) over the model's in-inode extent list. Under i_data_sem (the
// truncate mutex, as extentGetBlock takes it for allocation) the extents
// past the end are cut off the list (under i_meta_lock, which lookups
// take), then their blocks are freed. On 2.6.12 (no ext4) this is the
// block freeing that ext2_truncate does inline, so it adds no frame.
func extentTruncateBlocks(t *sim.Task, inode *mm.Inode, offset int64) {
	if fn := extentFn(inode, "ext4_ext_truncate", ""); fn != "" {
		t.Enter(fn)
		defer t.Leave()
	}
	ei := EXT2_I(inode)
	fs := ei.fs
	bs := uint64(fs.Opts.BlockSize)
	last := (uint64(offset) + bs - 1) >> fs.Blkbits

	ei.TruncateMutex.Lock(t) // down_write(&EXT4_I(inode)->i_data_sem)
	ei.MetaLock.Lock(t)
	var removed []Extent
	ei.ext, removed = cutExtents(ei.ext, last)
	ei.MetaLock.Unlock(t)
	for _, e := range removed {
		ext2FreeBlocks(t, inode, e.Phys, e.Len) // ext4_free_blocks
	}
	if len(removed) > 0 {
		mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	}
	ei.TruncateMutex.Unlock(t)
}

// cutExtents cuts a sorted extent list at logical block from: it returns
// the extents below from (the one straddling it shortened) and the
// physical runs removed, in logical order.
func cutExtents(list []Extent, from uint64) (kept, removed []Extent) {
	i := 0
	for i < len(list) && list[i].Logical+list[i].Len <= from {
		i++
	}
	if i == len(list) {
		return list, nil
	}
	rest := list[i:]
	if e := rest[0]; e.Logical < from {
		keep := from - e.Logical
		removed = append(removed, Extent{Logical: from, Phys: e.Phys + keep, Len: e.Len - keep})
		list[i].Len = keep
		i++
		rest = rest[1:]
	}
	removed = append(removed, rest...)
	return list[:i], removed
}

// Ext2TruncateBlocks is ext2_truncate_blocks(inode, offset),
// fs/ext2/inode.c, Linux 3.2: __ext2_truncate_blocks for a regular file
// (the only kind in the model). 3.2's ext2_write_failed calls it to trim
// the blocks a failed write allocated past i_size.
func Ext2TruncateBlocks(t *sim.Task, inode *mm.Inode, offset int64) {
	ext2TruncateBlocksInner(t, inode, offset)
}

// Ext2Truncate is ext2_truncate(inode), fs/ext2/inode.c, Linux 2.6.32
// (and 2.6.12): i_op->truncate, which vmtruncate calls after setting
// i_size and cutting the page cache. Zero the tail of the block that
// holds the new end of file (block_truncate_page, or nobh_truncate_page
// on a nobh mount), so that a later extension reads zeros there, then
// free every block past it. The inode is regular, not a fast symlink, not
// append-only or immutable, and not IS_SYNC, in the model.
func Ext2Truncate(t *sim.Task, inode *mm.Inode) {
	t.Enter("ext2_truncate")
	defer t.Leave()
	fs := EXT2_I(inode).fs
	size := mm.ISizeRead(inode)
	// 2.6.12: ext2_discard_prealloc(inode) (no preallocation in the model)
	if fs.Opts.Nobh {
		NobhTruncatePage(t, inode.Mapping, size, fs.GetBlock)
	} else {
		BlockTruncatePage(t, inode.Mapping, size, fs.GetBlock)
	}
	ext2TruncateBlocksInner(t, inode, size)
	// inode->i_mtime = inode->i_ctime = CURRENT_TIME_SEC; not
	// inode_needs_sync, so:
	mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
}

// Ext2Setsize is ext2_setsize(inode, newsize), fs/ext2/inode.c, Linux
// 3.2: ext2_setattr's size change. Zero the tail of the block at the new
// end (block_truncate_page or nobh_truncate_page), set i_size and cut the
// page cache (truncate_setsize), then free the blocks past the end
// (__ext2_truncate_blocks). inode_dio_wait has nothing to wait for (no
// direct I/O in the model). The caller holds i_mutex.
func Ext2Setsize(t *sim.Task, inode *mm.Inode, newsize int64) int {
	t.Enter("ext2_setsize")
	defer t.Leave()
	fs := EXT2_I(inode).fs
	var err int
	if fs.Opts.Nobh {
		err = NobhTruncatePage(t, inode.Mapping, newsize, fs.GetBlock)
	} else {
		err = BlockTruncatePage(t, inode.Mapping, newsize, fs.GetBlock)
	}
	if err != 0 {
		return err
	}
	mm.TruncateSetsize(t, inode, newsize)
	ext2TruncateBlocksInner(t, inode, newsize)
	// inode->i_mtime = inode->i_ctime = CURRENT_TIME_SEC; not
	// inode_needs_sync, so:
	mm.MarkInodeDirty(t, inode, mm.I_DIRTY)
	return 0
}

// SetSize is the ATTR_SIZE branch of ext2_setattr in the kernel's era,
// for callers that do not go through model/vfs (which has do_truncate,
// notify_change and inode_setattr of its own): in 2.6.12 and 2.6.2x,
// inode_setattr's vmtruncate, with ext2_truncate as i_op->truncate; in
// 3.x, ext2_setsize. Nothing happens if the size does not change. The
// caller holds i_mutex.
func (fs *Fs) SetSize(t *sim.Task, ei *Inode, newsize int64) int {
	inode := ei.VFS
	if newsize == mm.ISizeRead(inode) {
		return 0
	}
	if newsize < 0 {
		return errno.EINVAL.Neg()
	}
	if fs.K.Era().NewTruncateSequence {
		return Ext2Setsize(t, inode, newsize)
	}
	InstallTruncate(inode)
	return mm.VMTruncate(t, inode, newsize)
}

// InstallTruncate sets i_op->truncate (mm.Inode.IOpTruncate) of a blockfs
// inode to ext2_truncate, as ext2_file_inode_operations has it in the
// 2.6.x eras (3.x has no ->truncate: ext2_setsize does the work).
func InstallTruncate(inode *mm.Inode) {
	if !inode.Kernel.Era().NewTruncateSequence {
		inode.IOpTruncate = Ext2Truncate
	}
}

// BlockTruncatePage is block_truncate_page(mapping, from, get_block),
// fs/buffer.c, Linux 2.6.32: zero the rest of the block that holds byte
// from, if it is mapped, reading it in first if needed, and dirty its
// buffer, so that the zeros reach the disk. In the 2.6.12 era the first
// block of the page is a pgoff_t shifted without a cast (see the file
// comment). Every modelled era asks get_block about an unmapped buffer:
// the 2.4 text took an unmapped but uptodate buffer for a hole ("Hole?
// Nothing to do"), which is wrong for a page written through mpage (no
// buffers; create_empty_buffers makes them uptodate and unmapped), and
// left the block's tail past the new EOF unzeroed on the disk; Andrew
// Morton's "[patch 2/18] block_truncate_page fix" (linux-kernel, 26 May
// 2002, merged for 2.5.18, read via the search tool) removed it. (An
// earlier version of this model kept the 2.4 text for 2.6.12;
// model/vfs's round-trip property found the stale tail.)
func BlockTruncatePage(t *sim.Task, mapping *mm.AddressSpace, from int64, getBlock block.GetBlockFunc) int {
	t.Enter("block_truncate_page")
	defer t.Leave()
	inode := mapping.Host
	k := inode.Kernel
	index := k.ULong(uint64(from) >> mm.PageCacheShift)
	offset := uint(from & (mm.PageCacheSize - 1))
	var iblock uint64
	var length, pos uint
	var page *mm.Page
	var bh *block.BufferHead
	var err int

	blocksize := uint(1) << inode.Blkbits
	length = offset & (blocksize - 1)

	// Block boundary? Nothing to do
	if length == 0 {
		return 0
	}

	length = blocksize - length
	if !k.Era().IblockSectorT {
		iblock = k.ULong(index << (mm.PageCacheShift - inode.Blkbits)) // pgoff_t iblock
	} else {
		iblock = index << (mm.PageCacheShift - inode.Blkbits) // (sector_t)index << ...
	}

	page = mm.GrabCachePage(t, mapping, index)
	err = errno.ENOMEM.Neg()
	if page == nil {
		goto out
	}

	if !block.PageHasBuffers(page) {
		block.CreateEmptyBuffers(t, page, blocksize, 0)
	}

	// Find the buffer that contains "offset"
	bh = block.PageBuffers(page)
	pos = blocksize
	for offset >= pos {
		bh = bh.ThisPage
		iblock++
		pos += blocksize
	}

	err = 0
	if !block.BufferMapped(bh) {
		// WARN_ON(bh->b_size != blocksize) (2.6.32; not in 2.6.12)
		err = getBlock(t, inode, iblock, bh, 0)
		if err != 0 {
			goto unlock
		}
		// unmapped? It's a hole - nothing to do
		if !block.BufferMapped(bh) {
			goto unlock
		}
	}

	// Ok, it's mapped. Make sure it's up-to-date
	if mm.PageUptodate(page) {
		block.SetBufferUptodate(t, bh)
	}

	if !block.BufferUptodate(bh) && !block.BufferDelay(bh) && !block.BufferUnwritten(bh) {
		err = errno.EIO.Neg()
		block.LlRwBlock(t, block.READ, []*block.BufferHead{bh})
		block.WaitOnBuffer(t, bh)
		// Uhhuh. Read error. Complain and punt.
		if !block.BufferUptodate(bh) {
			goto unlock
		}
	}

	// mutant: zeroes the whole block, the stale-range kind of "ext4: fix fsx truncate failure"
	if mutant.On("truncate-page-offset") {
		offset, length = offset&^(blocksize-1), blocksize
	}
	mm.ZeroUser(t, page, offset, length)
	block.MarkBufferDirty(t, bh)
	err = 0

unlock:
	mm.UnlockPage(t, page)
	mm.PageCacheRelease(t, page)
out:
	return err
}

// NobhTruncatePage is nobh_truncate_page(mapping, from, get_block),
// fs/buffer.c, Linux 2.6.32: block_truncate_page for a page that may have
// no buffers. A page that has buffers takes the block_truncate_page path;
// otherwise a temporary buffer maps the block that holds from, and if it
// is mapped the page is read in (->readpage) if needed, its tail zeroed
// and the page dirtied. Used in every era (see the file comment).
func NobhTruncatePage(t *sim.Task, mapping *mm.AddressSpace, from int64, getBlock block.GetBlockFunc) int {
	t.Enter("nobh_truncate_page")
	defer t.Leave()
	inode := mapping.Host
	k := inode.Kernel
	index := k.ULong(uint64(from) >> mm.PageCacheShift)
	offset := uint(from & (mm.PageCacheSize - 1))
	var iblock uint64
	var length, pos uint
	var page *mm.Page
	var mapBh block.BufferHead
	var err int

	blocksize := uint(1) << inode.Blkbits
	length = offset & (blocksize - 1)

	// Block boundary? Nothing to do
	if length == 0 {
		return 0
	}

	length = blocksize - length
	iblock = index << (mm.PageCacheShift - inode.Blkbits) // (sector_t)index << ...
	if !k.Era().IblockSectorT {
		iblock = k.ULong(iblock)
	}

	page = mm.GrabCachePage(t, mapping, index)
	err = errno.ENOMEM.Neg()
	if page == nil {
		goto out
	}

	if block.PageHasBuffers(page) {
		goto hasBuffers
	}

	// Find the buffer that contains "offset"
	pos = blocksize
	for offset >= pos {
		iblock++
		pos += blocksize
	}

	mapBh.Size = blocksize
	mapBh.State = 0
	err = getBlock(t, inode, iblock, &mapBh, 0)
	if err != 0 {
		goto unlock
	}
	// unmapped? It's a hole - nothing to do
	if !block.BufferMapped(&mapBh) {
		goto unlock
	}

	// Ok, it's mapped. Make sure it's up-to-date
	if !mm.PageUptodate(page) {
		err = mapping.AOps.(mm.ReadpageOp).Readpage(t, nil, page)
		if err != 0 {
			mm.PageCacheRelease(t, page)
			goto out
		}
		mm.LockPage(t, page)
		if !mm.PageUptodate(page) {
			err = errno.EIO.Neg()
			goto unlock
		}
		if block.PageHasBuffers(page) {
			goto hasBuffers
		}
	}
	// mutant: zeroes the whole block, the stale-range kind of "ext4: fix fsx truncate failure"
	if mutant.On("truncate-page-offset") {
		offset, length = offset&^(blocksize-1), blocksize
	}
	mm.ZeroUser(t, page, offset, length)
	mm.SetPageDirty(t, page)
	err = 0

unlock:
	mm.UnlockPage(t, page)
	mm.PageCacheRelease(t, page)
out:
	return err

hasBuffers:
	mm.UnlockPage(t, page)
	mm.PageCacheRelease(t, page)
	return BlockTruncatePage(t, mapping, from, getBlock)
}
