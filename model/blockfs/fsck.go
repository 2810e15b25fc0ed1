package blockfs

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim/content"
)

// InvFsConsistent is the id of the fs-consistent invariant: the file
// system's metadata passes Check (with ISize) once every task is done,
// and (with Crash) on the image a crash leaves.
const InvFsConsistent = "fs-consistent"

// Fsck checks the file system's structure from outside any task (no
// scheduling points), as e2fsck's passes 1 and 5 would:
//
//   - every block referenced by a file, as data or as an indirect block,
//     lies inside the file system, is allocated in the bitmap, and is
//     referenced once (no block used twice);
//   - every allocated block is referenced (nothing leaked), and the free
//     count agrees with the bitmap;
//   - the tree agrees with the file system's record of what it mapped;
//   - i_blocks is the number of blocks the tree references (data and
//     indirect), in 512-byte units.
//
// Indirect blocks are read from the block device's page cache, or with
// read (the device's contents) if they are not cached; read may be nil
// when everything is cached. Fsck does not look at i_size (get_block's
// tests map blocks of files whose size they never set): Check does.
func (fs *Fs) Fsck(read func(off, n int64) content.Bytes) error {
	return fs.Check(FsckOptions{Read: read})
}

// FsckOptions are what Check checks.
type FsckOptions struct {
	// Read reads the device, for indirect blocks not in the page cache.
	Read func(off, n int64) content.Bytes
	// ISize adds the file-level rule: no block is mapped past the block
	// that holds i_size (e2fsck's "i_size is %Is, should be %N"). ext2
	// keeps none there at rest: a failed ->prepare_write or ->write_begin
	// trims what it allocated (2.6.12's generic_file_buffered_write and
	// 2.6.2x's block_write_begin call vmtruncate, 3.x's ext2_write_failed
	// calls ext2_truncate_blocks), and the 2.6 ext2 has no preallocation
	// (its reservation windows are not in the bitmap; 2.4's
	// i_prealloc_block is gone).
	ISize bool
	// Crash checks the image a crash leaves, as a journalling recovery
	// would see it (the runner takes the block maps as journalled): the
	// metadata as it stood at the crash, some operations mid-way. What an
	// operation in flight may legitimately leave is excused, what no
	// instant of any operation shows is not:
	//
	//   - a block used twice, referenced but free, or out of range, a bad
	//     pointer, a free count that disagrees with the bitmap, or a tree
	//     that disagrees with the record, are errors at every instant (the
	//     allocator updates the bitmap and the count together; a pointer
	//     is set only to an allocated block, and cleared before its block
	//     is freed; ext2_splice_branch sets the record with the pointer),
	//     but for a truncate in flight: it cuts the record at the new end
	//     under truncate_mutex, then frees the tree a branch at a time, so
	//     the tree of an inode whose truncate_mutex is held may map
	//     blocks the record does not, past the block that holds i_size
	//     (which vmtruncate or ext2_setsize moved before it);
	//   - blocks past i_size, and i_blocks out of step with the tree, are
	//     excused for an inode whose i_mutex or truncate_mutex is held: a
	//     write has allocated before ->write_end moves i_size, a truncate
	//     has moved i_size before it frees, and ext2_get_blocks has
	//     allocated before it splices;
	//   - allocated blocks nothing references (leaked) are excused while
	//     any inode's truncate_mutex is held: ext2_alloc_branch allocates
	//     before ext2_splice_branch links, and the blocks cannot be told
	//     apart.
	Crash bool
	// Damaged, if set, says which blocks an injected fault hit (a write
	// or read that failed, was torn or corrupted, or a misdirected write's
	// target). An indirect block among them may hold what the device
	// made of it, not what ext2 wrote: the kernel itself reads it back so
	// (a failed write clears BH_Uptodate). The inode behind it is not
	// compared with its record, nor its i_blocks, and leaks are excused.
	Damaged func(b uint64) bool
	// Faulted says faults hit the device during the run. A damaged
	// indirect block that a truncate then frees takes the blocks it
	// pointed to out of every tree while they stay allocated (ext2 frees
	// what the block it reads back says), so leaks and i_blocks are not
	// judged: as after ext2_error, e2fsck's business. Nor is the record
	// of what an inode mapped held to its tree where the tree lost blocks:
	// the damaged block that lost them may be freed, in no tree to excuse
	// its inode, and the truncate that freed it cut the record only at the
	// new end. A truncate loses live blocks below the new end two ways
	// (fs/ext2/inode.c, 2.6.12 and 2.6.32): a failed write of an indirect
	// block clears its BH_Uptodate (fs/buffer.c end_buffer_async_write),
	// so ext2_find_shared's ext2_get_branch reads the stale block back
	// from the disk, all_zeroes finds no pointer below the new end, and
	// the branch goes with the blocks the lost pointers held left
	// allocated (leaked); or that sb_bread fails (a write error cleared
	// the buffer while it waited), ext2_find_shared ignores
	// ext2_get_branch's -EIO and detaches the whole branch, and
	// ext2_free_branches, reading it again, frees every block it points
	// to, the live ones included, which any file may then be given. So
	// under faults the record may list blocks the tree does not map; the
	// tree still maps nothing the record does not.
	Faulted bool
}

// errDamaged stops the walk of an inode at an indirect block a fault hit.
var errDamaged = errors.New("an indirect block was damaged by a fault")

// Check is Fsck with options. Once ext2_error has marked the file
// system for repair (ErrorFS: a read failure in ext2_free_branches
// leaves the branch it could not read allocated), leaks and i_blocks are
// excused, as the kernel itself has handed them to e2fsck.
func (fs *Fs) Check(o FsckOptions) error {
	read, crash := o.Read, o.Crash
	owner := make(map[uint64]blockUse, fs.nblocks-fs.free)
	owner[0] = blockUse{}
	claim := func(b uint64, who blockUse) error {
		if b >= fs.nblocks {
			return fmt.Errorf("%s: block %d is past the end of the file system (%d blocks)", who, b, fs.nblocks)
		}
		if prev, ok := owner[b]; ok {
			return fmt.Errorf("block %d is used twice: by %s and by %s", b, prev, who)
		}
		if !fs.used(b) {
			return fmt.Errorf("%s: block %d is referenced but free in the bitmap", who, b)
		}
		owner[b] = who
		return nil
	}
	damaged := false    // some inode's tree was cut short at a damaged block
	allocating := false // some truncate_mutex is held (a crash)
	for _, ei := range fs.inodes {
		allocating = allocating || ei.TruncateMutex.IsLocked()
	}
	for _, ei := range fs.inodes {
		ino := ei.VFS.Ino
		claimed := len(owner)
		if err := fs.fsckInode(ei, claim, read, o); err == errDamaged {
			damaged = true
			continue
		} else if err != nil {
			return err
		}
		busy := crash && (ei.VFS.IMutex.IsLocked() || ei.TruncateMutex.IsLocked())
		if busy {
			continue
		}
		if last, ok := ei.lastMapped(); o.ISize && ok && int64(last)<<fs.Blkbits >= mm.ISizeRead(ei.VFS) {
			return fmt.Errorf("inode %d: block %d is mapped, past the block that holds i_size %d", ino, last, mm.ISizeRead(ei.VFS))
		}
		if n := uint64(len(owner)-claimed) << (fs.Blkbits - 9); n != ei.IBlocks && !fs.ErrorFS && !o.Faulted {
			return fmt.Errorf("inode %d: i_blocks is %d but the tree references %d blocks (%d sectors)",
				ino, ei.IBlocks, n>>(fs.Blkbits-9), n)
		}
	}
	// The bitmap a word at a time: most of a file system is free.
	leaks := !fs.ErrorFS && !o.Faulted && !damaged && !(crash && allocating)
	used := uint64(0)
	for i, w := range fs.bitmap {
		used += uint64(bits.OnesCount64(w))
		for ; leaks && w != 0; w &= w - 1 {
			b := uint64(i)<<6 | uint64(bits.TrailingZeros64(w))
			if _, ok := owner[b]; !ok {
				return fmt.Errorf("block %d is allocated but nothing references it (leaked)", b)
			}
		}
	}
	if used != fs.nblocks-fs.free {
		return fmt.Errorf("free count %d disagrees with the bitmap (%d used of %d)", fs.free, used, fs.nblocks)
	}
	return nil
}

// fsckInode claims every block inode ei references and checks its tree
// against the record of what it mapped, with o's excuses.
func (fs *Fs) fsckInode(ei *Inode, claim func(b uint64, who blockUse) error, read func(off, n int64) content.Bytes,
	o FsckOptions) error {
	ino, damaged := ei.VFS.Ino, o.Damaged
	if fs.Opts.Layout == LayoutExtent {
		var prevEnd uint64
		for i, e := range ei.ext {
			if e.Len == 0 || (i > 0 && e.Logical < prevEnd) {
				return fmt.Errorf("inode %d: extent %d %+v is empty or overlaps the previous one", ino, i, e)
			}
			prevEnd = e.Logical + e.Len
			for j := uint64(0); j < e.Len; j++ {
				if err := claim(e.Phys+j, blockUse{ino, 0, e.Logical + j}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var mapped []Extent
	var walk func(b uint32, level int, logical uint64) error
	ptrs := uint64(fs.Opts.BlockSize / 4)
	walk = func(b uint32, level int, logical uint64) error {
		if level == 0 {
			mapped = insertExtent(mapped, logical, uint64(b), 1)
			return claim(uint64(b), blockUse{ino, 0, logical})
		}
		if err := claim(uint64(b), blockUse{ino, level, logical}); err != nil {
			return err
		}
		if damaged != nil && damaged(uint64(b)) {
			return errDamaged
		}
		slots, err := fs.readIndirect(uint64(b), read)
		if err != nil {
			return fmt.Errorf("inode %d: %v", ino, err)
		}
		span := uint64(1)
		for range level - 1 {
			span *= ptrs
		}
		for i, v := range slots {
			if v == badPtr {
				return fmt.Errorf("inode %d: indirect block %d slot %d holds no block number", ino, b, i)
			}
			if v != 0 {
				if err := walk(v, level-1, logical+uint64(i)*span); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i := 0; i < EXT2_NDIR_BLOCKS; i++ {
		if v := ei.Data[i]; v != 0 {
			if err := walk(v, 0, uint64(i)); err != nil {
				return err
			}
		}
	}
	start := uint64(EXT2_NDIR_BLOCKS)
	for level := 1; level <= 3; level++ {
		if v := ei.Data[EXT2_NDIR_BLOCKS+level-1]; v != 0 {
			if err := walk(v, level, start); err != nil {
				return err
			}
		}
		span := uint64(1)
		for range level {
			span *= ptrs
		}
		start += span
	}
	if fmt.Sprint(mapped) == fmt.Sprint(ei.shadow) {
		return nil
	}
	mismatch := fmt.Errorf("inode %d: the block tree maps %v but the file system recorded %v", ino, mapped, ei.shadow)
	// A truncate cuts the record at the new end first, then frees.
	truncating := o.Crash && ei.TruncateMutex.IsLocked()
	end := uint64((mm.ISizeRead(ei.VFS) + int64(fs.Opts.BlockSize) - 1) >> fs.Blkbits)
	for _, b := range extentsMissing(mapped, ei.shadow) {
		if !truncating || b.Logical < end {
			return mismatch
		}
	}
	if !o.Faulted && len(extentsMissing(ei.shadow, mapped)) > 0 {
		return mismatch
	}
	return nil
}

// extentsMissing are the blocks of a that b does not map at the same
// logical block, one extent each.
func extentsMissing(a, b []Extent) []Extent {
	var out []Extent
	for _, e := range a {
		for j := range e.Len {
			i := findExtent(b, e.Logical+j)
			if i < 0 || b[i].Phys+(e.Logical+j-b[i].Logical) != e.Phys+j {
				out = append(out, Extent{Logical: e.Logical + j, Phys: e.Phys + j, Len: 1})
			}
		}
	}
	return out
}

// blockUse is what references a block, for fsck's messages (built only
// when one is needed: fsck claims every block of every file).
type blockUse struct {
	ino     uint64 // 0: the reserved block 0
	level   int    // 0: data; 1-3: an indirect block of that level
	logical uint64 // the (first) logical block it maps
}

func (u blockUse) String() string {
	switch {
	case u.ino == 0:
		return "the reserved block 0"
	case u.level == 0:
		return fmt.Sprintf("inode %d block %d", u.ino, u.logical)
	}
	return fmt.Sprintf("inode %d indirect block (level %d, from %d)", u.ino, u.level, u.logical)
}

// lastMapped is the highest logical block the inode maps.
func (ei *Inode) lastMapped() (uint64, bool) {
	l := ei.Mapped()
	if len(l) == 0 {
		return 0, false
	}
	e := l[len(l)-1]
	return e.Logical + e.Len - 1, true
}

// readIndirect decodes indirect block b from the buffer cache, or from
// the device with read.
func (fs *Fs) readIndirect(b uint64, read func(off, n int64) content.Bytes) ([]uint32, error) {
	bs := fs.Opts.BlockSize
	m := fs.Bdev.Inode.Mapping
	bpp := uint64(mm.PageSize / bs)
	var data content.Bytes
	var off int64
	if p := m.PageTree.Lookup(b / bpp); p != nil && block.PageHasBuffers(p) {
		head := block.PageBuffers(p)
		bh := head
		for {
			if bh.Blocknr == b && block.BufferUptodate(bh) {
				data, off = p.Data, int64(bh.Offset)
				break
			}
			bh = bh.ThisPage
			if bh == head {
				break
			}
		}
	}
	if data.Len() == 0 {
		if read == nil {
			return nil, fmt.Errorf("indirect block %d is not cached", b)
		}
		data, off = read(int64(b)*int64(bs), int64(bs)), 0
	}
	out := make([]uint32, bs/4)
	decodePtrs(data, off, out)
	return out, nil
}

// Repaired is what Repair found and did.
type Repaired struct {
	// Maps are the blocks each inode's tree maps after the repair, by
	// inode number: what a read on the remounted file system finds.
	Maps map[uint64][]Extent
	// Fixed are the repairs e2fsck -p makes on its own (preen mode):
	// block bitmap differences (PR_5_BLOCK_UNUSED, PR_5_BLOCK_USED) and
	// the free blocks count, PR_PREEN_OK in e2fsck/problem.c. Preen mode
	// makes them without a word (PR_PREEN_NOMSG); Repair says them in the
	// words e2fsck prints without -p, so that a run can say what was
	// repaired.
	Fixed []string
	// Unexpected are the problems preen mode does not fix (not
	// PR_PREEN_OK: e2fsck -p stops with "UNEXPECTED INCONSISTENCY; RUN
	// fsck MANUALLY"): an illegal block number in a tree
	// (PR_1_ILLEGAL_BLOCK_NUM) or a block used twice (pass 1B). Repair
	// clears the pointer, as e2fsck -y answers the question, so that the
	// remount can go on.
	Unexpected []string
}

// Repair is e2fsck -p's pass over a crashed image before the remount,
// reduced to what the model keeps: the inodes (i_data, i_size) and the
// bitmap are the ones in memory at the crash (journalled, as the checks
// take them), and the indirect blocks are read from the image with read
// (the page cache died with the machine). As e2fsck's pass 1
// (e2fsck/pass1.c, check_blocks and process_block) it walks every
// inode's tree; a pointer past the end of the file system or holding no
// block number is illegal, and one to a block already claimed is a
// duplicate: both are cleared. As pass 5 (check_block_bitmaps) it then
// compares the blocks the trees claim with the bitmap ("Block bitmap
// differences: -N" for a block allocated and unclaimed, leaked when the
// crash lost the indirect block that pointed at it; "+N" the other way)
// and the free count. Repair changes nothing: each crash state starts
// from the same file system.
func (fs *Fs) Repair(read func(off, n int64) content.Bytes) *Repaired {
	r := &Repaired{Maps: map[uint64][]Extent{}}
	// claimed is a bitmap like fs.bitmap: pass 5 compares them word by word.
	claimed := make([]uint64, len(fs.bitmap))
	isClaimed := func(b uint64) bool { return claimed[b>>6]&(1<<(b&63)) != 0 }
	setClaimed := func(b uint64) { claimed[b>>6] |= 1 << (b & 63) }
	setClaimed(0)
	claim := func(b uint32, ino uint64, what func() string) bool {
		switch {
		case b == badPtr || uint64(b) >= fs.nblocks:
			r.Unexpected = append(r.Unexpected, fmt.Sprintf("Illegal block %s in inode %d.  CLEARED.", what(), ino))
			return false
		case isClaimed(uint64(b)):
			r.Unexpected = append(r.Unexpected, fmt.Sprintf("Duplicate block %d (%s) in inode %d.  CLEARED.", b, what(), ino))
			return false
		}
		setClaimed(uint64(b))
		return true
	}
	ptrs := uint64(fs.Opts.BlockSize / 4)
	for _, ei := range fs.inodes {
		ino := ei.VFS.Ino
		if fs.Opts.Layout == LayoutExtent {
			for _, e := range ei.ext {
				for j := range e.Len {
					setClaimed(e.Phys + j)
				}
			}
			r.Maps[ino] = append([]Extent(nil), ei.ext...)
			continue
		}
		var mapped []Extent
		var walk func(b uint32, level int, logical uint64)
		walk = func(b uint32, level int, logical uint64) {
			what := func() string {
				if b == badPtr {
					return fmt.Sprintf("#%d (garbage)", logical)
				}
				return fmt.Sprintf("#%d (%d)", logical, b)
			}
			if !claim(b, ino, what) {
				return
			}
			if level == 0 {
				mapped = insertExtent(mapped, logical, uint64(b), 1)
				return
			}
			slots := make([]uint32, ptrs)
			decodePtrs(read(int64(b)*int64(fs.Opts.BlockSize), int64(fs.Opts.BlockSize)), 0, slots)
			span := uint64(1)
			for range level - 1 {
				span *= ptrs
			}
			for i, v := range slots {
				if v != 0 {
					walk(v, level-1, logical+uint64(i)*span)
				}
			}
		}
		for i := range EXT2_NDIR_BLOCKS {
			if v := ei.Data[i]; v != 0 {
				walk(v, 0, uint64(i))
			}
		}
		start := uint64(EXT2_NDIR_BLOCKS)
		for level := 1; level <= 3; level++ {
			if v := ei.Data[EXT2_NDIR_BLOCKS+level-1]; v != 0 {
				walk(v, level, start)
			}
			span := uint64(1)
			for range level {
				span *= ptrs
			}
			start += span
		}
		r.Maps[ino] = mapped
	}
	var minus, plus []uint64
	used := uint64(0)
	for i, c := range claimed {
		used += uint64(bits.OnesCount64(c))
		for diff := c ^ fs.bitmap[i]; diff != 0; diff &= diff - 1 {
			b := uint64(i)<<6 + uint64(bits.TrailingZeros64(diff))
			if isClaimed(b) {
				plus = append(plus, b)
			} else {
				minus = append(minus, b)
			}
		}
	}
	if len(minus)+len(plus) > 0 {
		diffs := strings.TrimSpace(blockRanges("-", minus) + " " + blockRanges("+", plus))
		r.Fixed = append(r.Fixed, "Block bitmap differences: "+diffs+".  FIXED.")
	}
	if free := fs.nblocks - used; free != fs.free {
		r.Fixed = append(r.Fixed, fmt.Sprintf("Free blocks count wrong (%d, counted=%d).  FIXED.", fs.free, free))
	}
	return r
}

// blockRanges writes blocks as e2fsck's pass 5 does: "-(10--12) -15".
func blockRanges(sign string, bs []uint64) string {
	var w []string
	for i := 0; i < len(bs); {
		j := i
		for j+1 < len(bs) && bs[j+1] == bs[j]+1 {
			j++
		}
		if j == i {
			w = append(w, fmt.Sprintf("%s%d", sign, bs[i]))
		} else {
			w = append(w, fmt.Sprintf("%s(%d--%d)", sign, bs[i], bs[j]))
		}
		i = j + 1
	}
	return strings.Join(w, " ")
}
