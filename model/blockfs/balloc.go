package blockfs

import (
	"math/bits"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// The block allocator. ext2's balloc.c (block groups, bitmaps read through
// the buffer cache, reservation windows) is replaced by an in-memory
// bitmap and three policies; its entry points keep their ext2 names and
// contracts.

func (fs *Fs) used(b uint64) bool { return fs.bitmap[b>>6]&(1<<(b&63)) != 0 }

func (fs *Fs) markUsed(b, n uint64) {
	for i := b; i < b+n; i++ {
		if fs.used(i) {
			panic("blockfs: block allocated twice")
		}
		fs.bitmap[i>>6] |= 1 << (i & 63)
	}
	fs.free -= n
}

// nextFree is the first free block at or after b, wrapping around once;
// ok == false if there is none.
func (fs *Fs) nextFree(b uint64) (uint64, bool) {
	if fs.free == 0 {
		return 0, false
	}
	if b >= fs.nblocks {
		b = 0
	}
	n := fs.nblocks
	// At most every word once, plus the first word again for the bits
	// below b.
	for words := 0; words <= len(fs.bitmap); words++ {
		w := fs.bitmap[b>>6] | (1<<(b&63) - 1) // ignore bits below b
		if b|63 >= n {
			w |= ^uint64(0) << (n & 63) // bits past the end
		}
		if w != ^uint64(0) {
			return b&^63 | uint64(bits.TrailingZeros64(^w)), true
		}
		b = (b | 63) + 1
		if b >= n {
			b = 0
		}
	}
	return 0, false
}

// runFrom is how many free blocks follow b (b included), at most max.
func (fs *Fs) runFrom(b, max uint64) uint64 {
	n := uint64(0)
	for n < max && b+n < fs.nblocks && !fs.used(b+n) {
		n++
	}
	return n
}

// ext2NewBlocks is ext2_new_blocks(inode, goal, count, errp),
// fs/ext2/balloc.c: allocate up to *count contiguous blocks, near goal
// per the policy; *count becomes the number allocated and the first block
// is returned. -ENOSPC in *errp when the device is full.
func ext2NewBlocks(t *sim.Task, inode *mm.Inode, goal uint64, count *uint64, errp *int) uint64 {
	ei := EXT2_I(inode)
	fs := ei.fs
	want := *count
	*errp = 0
	fs.allocLock.Lock(t)
	defer fs.allocLock.Unlock(t)
	if want == 0 {
		want = 1
	}
	var first uint64
	var ok bool
	switch fs.Opts.Policy {
	case AllocFragmented:
		r := t.World().Rand()
		first, ok = fs.nextFree(r.Uint64N(fs.nblocks))
		want = min(want, 1+r.Uint64N(fs.Opts.FragmentRun))
	case AllocInterleaved:
		first, ok = fs.nextFree(fs.cursor)
		want = min(want, fs.Opts.InterleaveChunk)
	default:
		if goal >= fs.nblocks {
			goal = 1 + goal%(fs.nblocks-1)
		}
		first, ok = fs.nextFree(goal)
	}
	if !ok {
		*count = 0
		*errp = enospc
		return 0
	}
	n := fs.runFrom(first, want)
	fs.markUsed(first, n)
	// DQUOT_ALLOC_BLOCK(inode, num): inode_add_bytes, i_blocks in 512-byte
	// units, for data and indirect blocks alike.
	ei.IBlocks += n << (fs.Blkbits - 9)
	fs.cursor = first + n
	*count = n
	if fs.OnNewBlocks != nil {
		fs.OnNewBlocks(first, n)
	}
	t.World().Record(sim.KindPoint, "ext2_new_blocks", inode.Obj(), int64(first), "")
	return first
}

// ext2FreeBlocks is ext2_free_blocks(inode, block, count).
func ext2FreeBlocks(t *sim.Task, inode *mm.Inode, b, count uint64) {
	fs := EXT2_I(inode).fs
	// Linux 2.6.32 fs/ext2/balloc.c ext2_free_blocks: a range outside the
	// data zone (a block number read from a corrupt indirect block, say)
	// is an ext2_error, not a free: "Freeing blocks not in datazone".
	if b == 0 || b+count < b || b+count > fs.nblocks {
		t.World().Record(sim.KindNote, "ext2_error", inode.Obj(), int64(b), "ext2_free_blocks: Freeing blocks not in datazone")
		return
	}
	fs.allocLock.Lock(t)
	for i := b; i < b+count; i++ {
		if i == 0 || i >= fs.nblocks || !fs.used(i) {
			// ext2_error(sb, "ext2_free_blocks", "bit already cleared for block %lu", block + i)
			t.BUG(inode.Obj(), "ext2_free_blocks: bit already cleared for block %d", i)
		}
		fs.bitmap[i>>6] &^= 1 << (i & 63)
		fs.free++
	}
	// DQUOT_FREE_BLOCK(inode, freed)
	EXT2_I(inode).IBlocks -= count << (fs.Blkbits - 9)
	fs.allocLock.Unlock(t)
}

// Used reports whether block b is allocated (for checks).
func (fs *Fs) Used(b uint64) bool { return b < fs.nblocks && fs.used(b) }
