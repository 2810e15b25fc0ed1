package block

import (
	"fmt"
	"math/bits"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// QueueLimits are the request queue's limits (struct queue_limits).
type QueueLimits struct {
	// MaxSectors is queue_max_sectors: bio_add_page refuses to grow a bio
	// past it.
	MaxSectors uint
	// MaxHWSectors is queue_max_hw_sectors: generic_make_request fails a
	// larger bio with -EIO ("bio too big device").
	MaxHWSectors uint
	// MaxSegments is queue_max_phys_segments and queue_max_hw_segments
	// (the model keeps them equal): the most io_vecs a bio may carry.
	MaxSegments uint
}

// DefaultLimits are a plain SATA disk's limits in 2.6.32: 128 KiB bios
// (max_sectors 256), 1024-sector hardware limit, 128 segments.
var DefaultLimits = QueueLimits{MaxSectors: 256, MaxHWSectors: 1024, MaxSegments: 128}

// Placement is what a file system says about where a byte of a page lives
// on disk, for the bio-shape check.
type Placement uint8

// Placements.
const (
	PlaceUnknown Placement = iota // the oracle does not know this page
	PlaceHole                     // a hole: no disk block
	PlaceMapped                   // mapped to the sector returned with it
)

// BlockDevice is struct block_device with its request queue.
type BlockDevice struct {
	Name string
	Dev  Device
	K    *mm.Kernel
	// Limits are the queue limits bio_add_page and generic_make_request
	// honour.
	Limits QueueLimits
	// Capacity is the size in sectors (bd_inode->i_size >> 9); 0 disables
	// the end-of-device check.
	Capacity int64
	// Inode is bd_inode: its mapping is the buffer cache of metadata
	// blocks (__getblk, __bread), in pages of its own; Inode.Blkbits is
	// the soft block size (set_blocksize).
	Inode *mm.Inode
	// Where is the bio-shape oracle a file system installs: where the
	// byte at offset off of page p belongs on this device, at the moment
	// of the call. Pages of the device's own mapping are known without it.
	Where func(p *mm.Page, off uint) (sector int64, place Placement)

	layer *Layer
	id    int64
}

// blkdevAOps is def_blk_aops, fs/block_dev.c, Linux 2.6.32: the buffer
// cache's pages are read and written with block_read_full_page and
// block_write_full_page over blkdev_get_block.
type blkdevAOps struct{ mm.NoAOps }

// Readpage is blkdev_readpage.
func (blkdevAOps) Readpage(t *sim.Task, f any, p *mm.Page) int {
	return BlockReadFullPage(t, p, blkdevGetBlock)
}

// Writepage is blkdev_writepage.
func (blkdevAOps) Writepage(t *sim.Task, p *mm.Page, wbc *mm.WritebackControl) int {
	return BlockWriteFullPage(t, p, blkdevGetBlock, wbc)
}

// NewBlockDevice makes a block device on kernel k with device dev,
// capacitySectors sectors and soft block size blocksize (set_blocksize),
// with DefaultLimits. It links the buffer layer into k (Init).
func NewBlockDevice(k *mm.Kernel, name string, dev Device, capacitySectors int64, blocksize uint) *BlockDevice {
	l := Init(k)
	l.bdevIno++
	b := &BlockDevice{Name: name, Dev: dev, K: k, Limits: DefaultLimits, Capacity: capacitySectors,
		layer: l, id: k.W.ID()}
	// Block-device inodes are numbered from the top so that they never
	// collide with a file system's.
	b.Inode = k.NewInode(^uint64(0)-l.bdevIno+1, 9, blkdevAOps{}, mm.NewBackingDevInfo(name))
	b.Inode.SetName(name)
	b.Inode.Private = b
	b.Inode.SetISize(capacitySectors * SectorSize)
	b.SetBlocksize(blocksize)
	return b
}

// SetBlocksize is set_blocksize(bdev, size), fs/block_dev.c: the soft
// block size of the buffer cache. Set-up code only (the kernel also syncs
// and invalidates the cache).
func (b *BlockDevice) SetBlocksize(size uint) {
	if size < 512 || size > mm.PageSize || size&(size-1) != 0 {
		panic(fmt.Sprintf("block: set_blocksize(%d): bad block size", size))
	}
	b.Inode.Blkbits = uint(bits.TrailingZeros(size))
}

// BlockSize is block_size(bdev).
func (b *BlockDevice) BlockSize() uint { return 1 << b.Inode.Blkbits }

// Obj names the device in traces.
func (b *BlockDevice) Obj() sim.Obj { return sim.Obj{Class: "bdev", Name: b.Name} }

// Layer is the device's kernel's block layer state.
func (b *BlockDevice) Layer() *Layer { return b.layer }

// IBdev is I_BDEV(inode): the block device of a bd_inode, or nil.
func IBdev(inode *mm.Inode) *BlockDevice {
	b, _ := inode.Private.(*BlockDevice)
	return b
}

// maxBlock is max_block(bdev), fs/block_dev.c: the number of soft blocks
// on the device.
func maxBlock(b *BlockDevice) uint64 {
	size := uint64(mm.ISizeRead(b.Inode))
	if size == 0 {
		return ^uint64(0)
	}
	return size >> b.Inode.Blkbits
}

// blkdevGetBlock is blkdev_get_block, fs/block_dev.c, Linux 2.6.32: the
// buffer cache maps block n to block n of the device.
func blkdevGetBlock(t *sim.Task, inode *mm.Inode, iblock uint64, bh *BufferHead, create int) int {
	b := IBdev(inode)
	if iblock >= maxBlock(b) {
		if create != 0 {
			return errno.EIO.Neg()
		}
		// for reads, we're just trying to fill a partial page. return a
		// hole, they will have to call get_block again before they can
		// fill it, and they will get -EIO at that time
		return 0
	}
	bh.Bdev = b
	bh.Blocknr = iblock
	SetBufferMapped(t, bh)
	return 0
}
