package blockfs

import (
	"fmt"
	"math/bits"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// Layout is how a file's blocks are mapped.
type Layout uint8

// Layouts.
const (
	LayoutIndirect Layout = iota // ext2: direct, indirect, double, triple indirect blocks
	LayoutExtent                 // 64-bit logical blocks, in-inode extents
)

func (l Layout) String() string {
	if l == LayoutExtent {
		return "extent"
	}
	return "indirect"
}

// AllocPolicy is the block allocator's policy.
type AllocPolicy uint8

// Allocation policies.
const (
	AllocContiguous  AllocPolicy = iota // first free at or after the goal, as long a run as possible
	AllocFragmented                     // runs of random length at random places (world random source)
	AllocInterleaved                    // next free blocks in disk order, any file, in small chunks
)

func (p AllocPolicy) String() string {
	switch p {
	case AllocFragmented:
		return "fragmented"
	case AllocInterleaved:
		return "interleaved"
	}
	return "contiguous"
}

// MetaStamp labels the pointers of indirect blocks in symbolic content.
// Stamps from 1<<62 up are reserved for file system metadata; data
// writes use small stamps.
const MetaStamp content.Stamp = 1 << 62

// Options are the file system's format and mount options.
type Options struct {
	// BlockSize is 512, 1024, 2048 or 4096.
	BlockSize uint
	Layout    Layout
	Policy    AllocPolicy
	// Blocks is the size of the file system in blocks (default: the
	// device's capacity, at most 1<<20 blocks). Block 0 is never
	// allocated (pointer 0 means a hole).
	Blocks uint64
	// Nobh selects the nobh write path (ext2's -o nobh): nobh_write_begin
	// and nobh_write_end, pages without buffer heads.
	Nobh bool
	// NoBarrier is the mount option that stops fsync from flushing the
	// device's volatile cache (-o nobarrier): what was written can be lost
	// in a crash even after fsync returned 0.
	NoBarrier bool
	// FragmentRun is the longest run the fragmented policy hands out
	// (default 1: every block on its own).
	FragmentRun uint64
	// InterleaveChunk is the longest run the interleaved policy hands out
	// (default 1).
	InterleaveChunk uint64
}

// Fs is the super block: the device, the format, the allocator.
type Fs struct {
	K       *mm.Kernel
	Bdev    *block.BlockDevice
	Opts    Options
	Blkbits uint
	// AOps is the a_ops that NewInode gives files. The default is
	// BufferAOps (block_read_full_page, block_write_full_page and the
	// buffer or nobh write path); model/mpage installs its own.
	AOps mm.AddressSpaceOperations
	// MpageWritepage is mpage_writepage, for nobh_writepage (nil: always
	// fall back to __block_write_full_page).
	MpageWritepage block.MpageWritepageFunc
	// OnNewBlocks, if set, is told of each run of blocks ext2_new_blocks
	// allocates, as it allocates it. Not kernel code: a hook for a
	// harness's view of stable storage (a block allocated again after a
	// truncate freed it holds another file's old data until it is
	// written).
	OnNewBlocks func(first, n uint64)
	// ErrorFS is EXT2_ERROR_FS in the super block's s_mount_state, which
	// ext2_error sets: the kernel met an I/O error on metadata and the
	// file system needs repair (a read failure in ext2_free_branches
	// leaves the branch it could not read allocated, for e2fsck).
	ErrorFS bool

	nblocks   uint64
	bitmap    []uint64 // 1 = in use
	free      uint64
	cursor    uint64 // interleaved policy: where the last allocation ended
	inodes    []*Inode
	allocLock sim.SpinLock // sb_bgl_lock: the allocator's bitmaps
}

// Inode is ext2_inode_info: the file system's part of an inode.
type Inode struct {
	VFS *mm.Inode
	fs  *Fs

	// Data is i_data[15]: 12 direct block pointers, then the indirect,
	// double indirect and triple indirect blocks (LayoutIndirect).
	Data [EXT2_N_BLOCKS]uint32
	// ext is the extent list, sorted by logical block (LayoutExtent).
	ext []Extent
	// shadow is what the file system has mapped, as extents: the oracle
	// of the bio-shape check and of the tests (LayoutIndirect; the extent
	// layout uses ext).
	shadow []Extent
	// IBlocks is inode->i_blocks: the blocks the inode owns (data and
	// indirect blocks), in 512-byte units, kept by the allocator as
	// ext2_new_blocks and ext2_free_blocks keep it (DQUOT_ALLOC_BLOCK,
	// DQUOT_FREE_BLOCK).
	IBlocks uint64
	// blockAllocInfo is i_block_alloc_info: the last allocation, for
	// ext2_find_goal's sequential heuristic (nil until the first one).
	blockAllocInfo *blockAllocInfo
	// TruncateMutex is ei->truncate_mutex: serialises allocation.
	TruncateMutex sim.Mutex
	// MetaLock is ei->i_meta_lock (an rwlock in the kernel; a spin lock
	// here).
	MetaLock   sim.SpinLock
	blockGroup uint64
}

type blockAllocInfo struct {
	lastAllocLogicalBlock  uint64
	lastAllocPhysicalBlock uint64
}

// Extent maps Len blocks from logical block Logical to physical block
// Phys.
type Extent struct {
	Logical, Phys, Len uint64
}

// EXT2_I is EXT2_I(inode).
func EXT2_I(inode *mm.Inode) *Inode {
	ei, _ := inode.Private.(*Inode)
	return ei
}

// NewFs makes a file system on bdev ("mkfs" and "mount"): it sets the
// device's soft block size, and installs the bio-shape oracle.
func NewFs(k *mm.Kernel, bdev *block.BlockDevice, opts Options) *Fs {
	if opts.BlockSize == 0 {
		opts.BlockSize = 4096
	}
	bs := opts.BlockSize
	if bs < 512 || bs > mm.PageSize || bs&(bs-1) != 0 {
		panic(fmt.Sprintf("blockfs: block size %d", bs))
	}
	if opts.FragmentRun == 0 {
		opts.FragmentRun = 1
	}
	if opts.InterleaveChunk == 0 {
		opts.InterleaveChunk = 1
	}
	fs := &Fs{K: k, Bdev: bdev, Opts: opts, Blkbits: uint(bits.TrailingZeros(bs))}
	n := opts.Blocks
	if n == 0 {
		n = uint64(bdev.Capacity) * block.SectorSize / uint64(bs)
		if n == 0 || n > 1<<20 {
			n = 1 << 20
		}
	}
	if opts.Layout == LayoutIndirect && n > 1<<32-1 {
		n = 1<<32 - 1 // block pointers are 32-bit
	}
	fs.nblocks = n
	fs.bitmap = make([]uint64, (n+63)/64)
	fs.free = n
	fs.markUsed(0, 1) // s_first_data_block: block 0 is never a data block
	fs.allocLock.Name = "sb_bgl_lock"
	bdev.SetBlocksize(bs)
	bdev.Where = fs.where
	fs.AOps = BufferAOps{Fs: fs}
	return fs
}

// BlockSize is sb->s_blocksize.
func (fs *Fs) BlockSize() uint { return fs.Opts.BlockSize }

// NBlocks is the size of the file system in blocks.
func (fs *Fs) NBlocks() uint64 { return fs.nblocks }

// FreeBlocks is the number of free blocks.
func (fs *Fs) FreeBlocks() uint64 { return fs.free }

// Inodes lists the inodes made so far.
func (fs *Fs) Inodes() []*Inode { return fs.inodes }

// NewInode makes an empty regular file with inode number ino.
func (fs *Fs) NewInode(ino uint64) *Inode {
	vi := fs.K.NewInode(ino, fs.Blkbits, fs.AOps, fs.Bdev.Inode.Mapping.BDI)
	ei := &Inode{VFS: vi, fs: fs}
	ei.SetName(fmt.Sprintf("inode %d", ino))
	vi.Private = ei
	fs.inodes = append(fs.inodes, ei)
	return ei
}

// SetName names the inode's locks, its VFS inode's included, by what the
// file is to people (its path; see mm.Inode.SetName).
func (ei *Inode) SetName(name string) {
	ei.VFS.SetName(name)
	ei.TruncateMutex.Name = "truncate_mutex of " + name
	ei.MetaLock.Name = "i_meta_lock of " + name
}

// GetBlock is the file system's get_block: ext2_get_block for
// LayoutIndirect, extentGetBlock for LayoutExtent.
func (fs *Fs) GetBlock(t *sim.Task, inode *mm.Inode, iblock uint64, bh *block.BufferHead, create int) int {
	if fs.Opts.Layout == LayoutExtent {
		return extentGetBlock(t, inode, iblock, bh, create)
	}
	return ext2GetBlock(t, inode, iblock, bh, create)
}

// Lookup is the file system's own answer, without I/O, to where logical
// block iblock of the inode lives: the physical block and how many blocks
// from it are contiguous, or ok == false for a hole.
func (ei *Inode) Lookup(iblock uint64) (phys, n uint64, ok bool) {
	list := ei.shadow
	if ei.fs.Opts.Layout == LayoutExtent {
		list = ei.ext
	}
	i := findExtent(list, iblock)
	if i < 0 {
		return 0, 0, false
	}
	e := list[i]
	return e.Phys + (iblock - e.Logical), e.Len - (iblock - e.Logical), true
}

// Mapped returns the inode's mapped blocks as extents, in logical order.
func (ei *Inode) Mapped() []Extent {
	if ei.fs.Opts.Layout == LayoutExtent {
		return append([]Extent(nil), ei.ext...)
	}
	return append([]Extent(nil), ei.shadow...)
}

// where is the bio-shape oracle (BlockDevice.Where).
func (fs *Fs) where(p *mm.Page, off uint) (int64, block.Placement) {
	host := p.Mapping.Host
	ei := EXT2_I(host)
	if ei == nil || ei.fs != fs {
		return 0, block.PlaceUnknown
	}
	pos := p.Index<<mm.PageCacheShift + uint64(off)
	phys, _, ok := ei.Lookup(pos >> fs.Blkbits)
	if !ok {
		return 0, block.PlaceHole
	}
	bs := uint64(fs.Opts.BlockSize)
	return int64(phys*(bs/block.SectorSize) + (pos&(bs-1))/block.SectorSize), block.PlaceMapped
}

// findExtent is the index of the extent of list containing logical
// block b, or -1.
func findExtent(list []Extent, b uint64) int {
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if list[m].Logical+list[m].Len <= b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(list) && list[lo].Logical <= b {
		return lo
	}
	return -1
}

// insertExtent adds [l, l+n) -> p to the sorted, non-overlapping list,
// merging with neighbours that continue it both logically and
// physically.
func insertExtent(list []Extent, l, p, n uint64) []Extent {
	i := len(list)
	if i == 0 || list[i-1].Logical+list[i-1].Len > l {
		lo, hi := 0, len(list)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if list[m].Logical < l {
				lo = m + 1
			} else {
				hi = m
			}
		}
		i = lo
	}
	if i > 0 {
		prev := &list[i-1]
		if prev.Logical+prev.Len == l && prev.Phys+prev.Len == p {
			prev.Len += n
			if i < len(list) {
				next := list[i]
				if l+n == next.Logical && p+n == next.Phys {
					prev.Len += next.Len
					list = append(list[:i], list[i+1:]...)
				}
			}
			return list
		}
	}
	if i < len(list) {
		next := &list[i]
		if l+n == next.Logical && p+n == next.Phys {
			next.Logical, next.Phys, next.Len = l, p, next.Len+n
			return list
		}
	}
	list = append(list, Extent{})
	copy(list[i+1:], list[i:])
	list[i] = Extent{Logical: l, Phys: p, Len: n}
	return list
}

// BufferAOps is the a_ops of a blockfs file without mpage: ext2_aops with
// block_read_full_page for ->readpage and block_write_full_page for
// ->writepage, and (per Options.Nobh) ext2_nobh_aops' write path.
type BufferAOps struct {
	mm.NoAOps
	Fs *Fs
}

// Readpage is ->readpage: block_read_full_page(page, ext2_get_block).
func (a BufferAOps) Readpage(t *sim.Task, f any, p *mm.Page) int {
	return block.BlockReadFullPage(t, p, a.Fs.GetBlock)
}

// Writepage is ->writepage: block_write_full_page, or nobh_writepage for
// a nobh file system.
func (a BufferAOps) Writepage(t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int {
	if a.Fs.Opts.Nobh {
		mw := a.Fs.MpageWritepage
		if mw == nil {
			mw = noMpageWritepage
		}
		return block.NobhWritepage(t, p, a.Fs.GetBlock, wbc, mw)
	}
	return block.BlockWriteFullPage(t, p, a.Fs.GetBlock, wbc)
}

// noMpageWritepage stands for mpage_writepage when model/mpage is not
// linked in: it always asks for the buffer fallback.
func noMpageWritepage(t *sim.Task, p *mm.Page, gb block.GetBlockFunc, wbc *mm.WritebackControl) int {
	return eagain
}

// WriteBegin is ->write_begin: block_write_begin (ext2_write_begin) or
// nobh_write_begin (ext2_nobh_write_begin).
func (a BufferAOps) WriteBegin(t *sim.Task, f any, m *mm.AddressSpace, pos int64, length, flags uint,
	pagep **mm.Page, fsdata *any) int {
	*pagep = nil
	if a.Fs.Opts.Nobh {
		return block.NobhWriteBegin(t, f, m, pos, length, flags, pagep, fsdata, a.Fs.GetBlock)
	}
	return block.BlockWriteBegin(t, f, m, pos, length, flags, pagep, fsdata, a.Fs.GetBlock)
}

// WriteEnd is ->write_end: generic_write_end or nobh_write_end.
func (a BufferAOps) WriteEnd(t *sim.Task, f any, m *mm.AddressSpace, pos int64, length, copied uint,
	p *mm.Page, fsdata any) int {
	if a.Fs.Opts.Nobh {
		return block.NobhWriteEnd(t, f, m, pos, length, copied, p, fsdata)
	}
	return block.GenericWriteEnd(t, f, m, pos, length, copied, p, fsdata)
}

// Fsync is the file's ->fsync: ext2_fsync / generic_file_fsync (Linux
// 3.0, where ->fsync also writes the data, as vfs_fsync_range did before
// calling it in 2.6.3x) with the cache flush of ext4_sync_file: write and
// wait for the dirty pages of [start, end], write and wait for the
// inode's dirty indirect blocks, then (unless NoBarrier) flush the
// device's volatile cache. AS_EIO on the block device's mapping (a
// metadata write failed) is reported as -EIO, as ext2_fsync does.
func (fs *Fs) Fsync(t *sim.Task, ei *Inode, start, end int64, datasync int) int {
	t.Enter("blockfs_fsync")
	defer t.Leave()
	inode := ei.VFS
	ret := mm.FilemapWriteAndWaitRange(t, inode.Mapping, start, end)
	err := block.SyncMappingBuffers(t, inode.Mapping, fs.Bdev)
	if ret == 0 {
		ret = err
	}
	bdMapping := fs.Bdev.Inode.Mapping
	if ret == eio || mm.MappingTestAndClearFlag(t, bdMapping, mm.AS_EIO) {
		// ext2_error(sb, __func__, "detected IO error when writing metadata buffers")
		fs.ErrorFS = true
		ret = eio
	}
	if !fs.Opts.NoBarrier {
		if err := block.BlkdevIssueFlush(t, fs.Bdev); err != 0 && err != eopnotsupp && ret == 0 {
			ret = err
		}
	}
	return ret
}

const (
	eio        = -int(errno.EIO)
	eagain     = -int(errno.EAGAIN)
	enospc     = -int(errno.ENOSPC)
	eopnotsupp = -95 // -EOPNOTSUPP, which sim/errno does not name
)
