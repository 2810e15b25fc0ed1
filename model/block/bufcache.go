package block

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// The block device's buffer cache: metadata blocks cached in the pages of
// bd_inode's mapping, fs/buffer.c, Linux 2.6.32.

// findGetBlockSlow is __find_get_block_slow(bdev, block), fs/buffer.c,
// Linux 2.6.32: look the block up in the page cache of the block device,
// under the mapping's private_lock; a reference is taken on the buffer
// found.
func findGetBlockSlow(t *sim.Task, bdev *BlockDevice, block uint64) *BufferHead {
	bdInode := bdev.Inode
	bdMapping := bdInode.Mapping
	var ret *BufferHead
	index := block >> (mm.PageCacheShift - bdInode.Blkbits)
	page := mm.FindGetPage(t, bdMapping, index)
	if page == nil {
		return nil
	}
	bdMapping.PrivateLock.Lock(t)
	if PageHasBuffers(page) {
		head := PageBuffers(page)
		bh := head
		allMapped := true
		for {
			if !BufferMapped(bh) {
				allMapped = false
			} else if bh.Blocknr == block {
				ret = bh
				GetBh(bh)
				break
			}
			bh = bh.ThisPage
			if bh == head {
				break
			}
		}
		// we might be here because some of the buffers on this page are
		// not mapped. This is due to various races between file io on
		// the block device and getblk. It gets dealt with elsewhere,
		// don't buffer_error if we had some unmapped buffers
		if ret == nil && allMapped {
			t.World().Record(sim.KindNote, "__find_get_block_slow", page.Obj(), int64(block), "__find_get_block_slow() failed")
		}
	}
	bdMapping.PrivateLock.Unlock(t)
	mm.PageCacheRelease(t, page)
	return ret
}

// FindGetBlock is __find_get_block(bdev, block, size), fs/buffer.c, Linux
// 2.6.32, without the per-CPU LRU: the cached buffer of block with a
// reference, or nil.
func FindGetBlock(t *sim.Task, bdev *BlockDevice, block uint64, size uint) *BufferHead {
	return findGetBlockSlow(t, bdev, block)
}

// initPageBuffers is init_page_buffers(page, bdev, block, size): map the
// page's unmapped buffers to consecutive blocks from block.
func initPageBuffers(t *sim.Task, p *mm.Page, bdev *BlockDevice, block uint64, size uint) {
	head := PageBuffers(p)
	bh := head
	uptodate := mm.PageUptodate(p)
	for {
		if !BufferMapped(bh) {
			bh.EndIO, bh.Private = nil, nil // init_buffer(bh, NULL, NULL)
			bh.Bdev = bdev
			bh.Blocknr = block
			if uptodate {
				SetBufferUptodate(t, bh)
			}
			SetBufferMapped(t, bh)
		}
		block++
		bh = bh.ThisPage
		if bh == head {
			break
		}
	}
}

// growDevPage is grow_dev_page(bdev, block, index, size), fs/buffer.c,
// Linux 2.6.32: find or create the block device's page at index, locked,
// with buffers of size bytes mapped from block on.
func growDevPage(t *sim.Task, bdev *BlockDevice, block, index uint64, size uint) *mm.Page {
	inode := bdev.Inode
	page := mm.FindOrCreatePage(t, inode.Mapping, index)
	if page == nil {
		return nil
	}
	t.BUG_ON(!mm.PageLocked(page), page.Obj(), "grow_dev_page: page not locked")

	if PageHasBuffers(page) {
		bh := PageBuffers(page)
		if bh.Size == size {
			initPageBuffers(t, page, bdev, block, size)
			return page
		}
		if TryToFreeBuffers(t, page) == 0 {
			goto failed
		}
	}
	{
		bh := AllocPageBuffers(t, page, size, 0)
		if bh == nil {
			goto failed
		}
		// Link the page to the buffers and initialise them. Take the lock
		// to be atomic wrt __find_get_block(), which does not run under
		// the page lock.
		inode.Mapping.PrivateLock.Lock(t)
		linkDevBuffers(t, page, bh)
		initPageBuffers(t, page, bdev, block, size)
		inode.Mapping.PrivateLock.Unlock(t)
		return page
	}
failed:
	t.BUG(page.Obj(), "grow_dev_page failed")
	return nil
}

// linkDevBuffers is link_dev_buffers(page, head): close the ring and
// attach it.
func linkDevBuffers(t *sim.Task, p *mm.Page, head *BufferHead) {
	bh := head
	var tail *BufferHead
	for bh != nil {
		tail = bh
		bh = bh.ThisPage
	}
	tail.ThisPage = head
	AttachPageBuffers(t, p, head)
}

// growBuffers is grow_buffers(bdev, block, size), fs/buffer.c, Linux
// 2.6.32: create the page that holds block.
func growBuffers(t *sim.Task, bdev *BlockDevice, block uint64, size uint) int {
	sizebits := uint(0)
	for (size << sizebits) < mm.PageSize {
		sizebits++
	}
	index := block >> sizebits
	block = index << sizebits
	// Create a page with the proper size buffers..
	page := growDevPage(t, bdev, block, index, size)
	if page == nil {
		return 0
	}
	mm.UnlockPage(t, page)
	mm.PageCacheRelease(t, page)
	return 1
}

// getblkSlow is __getblk_slow(bdev, block, size), fs/buffer.c, Linux
// 2.6.32.
func getblkSlow(t *sim.Task, bdev *BlockDevice, block uint64, size uint) *BufferHead {
	if size&(SectorSize-1) != 0 || size < 512 || size > mm.PageSize {
		// printk(KERN_ERR "getblk(): invalid block size %d requested\n", size)
		return nil
	}
	for {
		if bh := FindGetBlock(t, bdev, block, size); bh != nil {
			return bh
		}
		ret := growBuffers(t, bdev, block, size)
		if ret < 0 {
			return nil
		}
		// ret == 0: free_more_memory() and retry
	}
}

// Getblk is __getblk(bdev, block, size), fs/buffer.c, Linux 2.6.32: the
// buffer of block in the block device's cache, created if need be, with
// a reference. It may sleep and never fails for a valid size.
func Getblk(t *sim.Task, bdev *BlockDevice, block uint64, size uint) *BufferHead {
	bh := FindGetBlock(t, bdev, block, size)
	// might_sleep()
	if bh == nil {
		bh = getblkSlow(t, bdev, block, size)
	}
	return bh
}

// breadSlow is __bread_slow(bh), fs/buffer.c, Linux 2.6.32: read the
// buffer and wait for it.
func breadSlow(t *sim.Task, bh *BufferHead) *BufferHead {
	LockBuffer(t, bh)
	if BufferUptodate(bh) {
		UnlockBuffer(t, bh)
		return bh
	}
	GetBh(bh)
	bh.EndIO = EndBufferReadSync
	SubmitBh(t, READ, bh)
	WaitOnBuffer(t, bh)
	if BufferUptodate(bh) {
		return bh
	}
	brelseInner(t, bh)
	return nil
}

// Bread is __bread(bdev, block, size), fs/buffer.c, Linux 2.6.32: the
// block's buffer, read from disk if it is not uptodate, with a
// reference; nil if the read failed. sb_bread(sb, block) is
// Bread(sb->s_bdev, block, sb->s_blocksize).
func Bread(t *sim.Task, bdev *BlockDevice, block uint64, size uint) *BufferHead {
	t.Enter("__bread")
	defer t.Leave()
	bh := Getblk(t, bdev, block, size)
	if bh != nil && !BufferUptodate(bh) {
		bh = breadSlow(t, bh)
	}
	return bh
}

// BhUptodateOrLock is bh_uptodate_or_lock(bh): true if the buffer is
// uptodate, else false with the buffer locked.
func BhUptodateOrLock(t *sim.Task, bh *BufferHead) bool {
	if !BufferUptodate(bh) {
		LockBuffer(t, bh)
		if !BufferUptodate(bh) {
			return false
		}
		UnlockBuffer(t, bh)
	}
	return true
}

// BhSubmitRead is bh_submit_read(bh): read a locked buffer and wait; 0
// or -EIO.
func BhSubmitRead(t *sim.Task, bh *BufferHead) int {
	t.BUG_ON(!BufferLocked(bh), bh.Obj(), "bh_submit_read: buffer not locked")
	if BufferUptodate(bh) {
		UnlockBuffer(t, bh)
		return 0
	}
	GetBh(bh)
	bh.EndIO = EndBufferReadSync
	SubmitBh(t, READ, bh)
	WaitOnBuffer(t, bh)
	if BufferUptodate(bh) {
		return 0
	}
	return eio
}

// UnmapUnderlyingMetadata is unmap_underlying_metadata(bdev, block),
// fs/buffer.c, Linux 2.6.32: a block was just allocated for data; make
// sure no stale buffer-cache alias of it is written over the new data: the
// alias is cleaned, and any I/O on it waited for.
func UnmapUnderlyingMetadata(t *sim.Task, bdev *BlockDevice, block uint64) {
	t.Enter("unmap_underlying_metadata")
	defer t.Leave()
	// might_sleep()
	oldBh := findGetBlockSlow(t, bdev, block)
	if oldBh != nil {
		ClearBufferDirty(t, oldBh)
		WaitOnBuffer(t, oldBh)
		ClearBufferReq(t, oldBh)
		brelseInner(t, oldBh)
	}
}

// WriteBoundaryBlock is write_boundary_block(bdev, bblock, blocksize),
// fs/buffer.c, Linux 2.6.32: bblock was a buffer_boundary() block, so
// bblock+1 is probably a dirty indirect block; if it is cached and dirty,
// start writing it now, so that it merges with the data.
func WriteBoundaryBlock(t *sim.Task, bdev *BlockDevice, bblock uint64, blocksize uint) {
	t.Enter("write_boundary_block")
	defer t.Leave()
	bh := FindGetBlock(t, bdev, bblock+1, blocksize)
	if bh != nil {
		if BufferDirty(bh) {
			LlRwBlock(t, WRITE, []*BufferHead{bh})
		}
		PutBh(t, bh)
	}
}

// Buffers associated with an inode (mapping->private_list), for fsync.

type assocList struct {
	list []*BufferHead // oldest first
}

func (l *Layer) assocDel(bh *BufferHead) {
	if a := l.assoc[bh.assocMap]; a != nil {
		for i, x := range a.list {
			if x == bh {
				a.list = append(a.list[:i], a.list[i+1:]...)
				return
			}
		}
	}
}

// removeAssocQueue is __remove_assoc_queue(bh): the buffer's
// backing mapping's private_lock must be held.
func (l *Layer) removeAssocQueue(t *sim.Task, bh *BufferHead) {
	l.assocDel(bh)
	if bh.assocMap == nil {
		return // WARN_ON(!bh->b_assoc_map)
	}
	if BufferWriteIOError(bh) {
		mm.MappingSetFlag(t, bh.assocMap, mm.AS_EIO)
	}
	bh.assocMap = nil
}

// MarkBufferDirtyInode is mark_buffer_dirty_inode(bh, inode), fs/buffer.c,
// Linux 2.6.32: mark a metadata buffer dirty and put it on the inode's
// list of buffers that fsync must write (ext2's indirect blocks).
func MarkBufferDirtyInode(t *sim.Task, bh *BufferHead, inode *mm.Inode) {
	mapping := inode.Mapping
	bufferMapping := bh.Page.Mapping
	MarkBufferDirty(t, bh)
	if bh.assocMap == nil {
		l := layerOf(t)
		bufferMapping.PrivateLock.Lock(t)
		a := l.assoc[mapping]
		if a == nil {
			a = &assocList{}
			l.assoc[mapping] = a
		}
		a.list = append(a.list, bh) // list_move_tail
		bh.assocMap = mapping
		bufferMapping.PrivateLock.Unlock(t)
	}
}

// InodeHasBuffers is inode_has_buffers(inode).
func InodeHasBuffers(t *sim.Task, inode *mm.Inode) bool {
	a := layerOf(t).assoc[inode.Mapping]
	return a != nil && len(a.list) > 0
}

// SyncMappingBuffers is sync_mapping_buffers(mapping), fs/buffer.c, Linux
// 2.6.32: write out and wait upon the buffers associated with the mapping
// (fsync_buffers_list). 0 or -EIO.
func SyncMappingBuffers(t *sim.Task, mapping *mm.AddressSpace, bdev *BlockDevice) int {
	a := layerOf(t).assoc[mapping]
	if a == nil || len(a.list) == 0 {
		return 0
	}
	return fsyncBuffersList(t, &bdev.Inode.Mapping.PrivateLock, a)
}

// fsyncBuffersList is fsync_buffers_list(lock, list), fs/buffer.c, Linux
// 2.6.32: first queue writes for the dirty buffers, moving them to a
// temporary list; then wait for each (re-filing those dirtied again); then
// catch buffers still locked (osync_buffers_list).
func fsyncBuffersList(t *sim.Task, lock *sim.SpinLock, a *assocList) int {
	l := layerOf(t)
	var tmp []*BufferHead // list_add: newest first
	err := 0
	lock.Lock(t)
	for len(a.list) > 0 {
		bh := a.list[0]
		mapping := bh.assocMap
		l.removeAssocQueue(t, bh)
		if BufferDirty(bh) || BufferLocked(bh) {
			tmp = append([]*BufferHead{bh}, tmp...)
			bh.assocMap = mapping
			if BufferDirty(bh) {
				GetBh(bh)
				lock.Unlock(t)
				// Ensure any pending I/O completes so that ll_rw_block()
				// actually writes the current contents - it is a noop if
				// I/O is still in flight on potentially older contents.
				LlRwBlock(t, SWRITE_SYNC_PLUG, []*BufferHead{bh})
				brelseInner(t, bh)
				lock.Lock(t)
			}
		}
	}
	for len(tmp) > 0 {
		bh := tmp[len(tmp)-1] // BH_ENTRY(tmp.prev)
		tmp = tmp[:len(tmp)-1]
		GetBh(bh)
		mapping := bh.assocMap
		bh.assocMap = nil // __remove_assoc_queue from tmp
		if BufferWriteIOError(bh) {
			mm.MappingSetFlag(t, mapping, mm.AS_EIO)
		}
		if BufferDirty(bh) {
			m := l.assoc[mapping]
			if m == nil {
				m = &assocList{}
				l.assoc[mapping] = m
			}
			m.list = append([]*BufferHead{bh}, m.list...) // list_add
			bh.assocMap = mapping
		}
		lock.Unlock(t)
		// mutant: metadata writes still in flight, the missing wait of d76ee18a8551's kind
		if !mutant.On("fsync-buffers-no-wait") {
			WaitOnBuffer(t, bh)
		}
		if !BufferUptodate(bh) {
			err = eio
		}
		brelseInner(t, bh)
		lock.Lock(t)
	}
	lock.Unlock(t)
	err2 := osyncBuffersList(t, lock, a)
	if err != 0 {
		return err
	}
	return err2
}

// osyncBuffersList is osync_buffers_list(lock, list), fs/buffer.c, Linux
// 2.6.32: wait for every locked buffer on the list.
func osyncBuffersList(t *sim.Task, lock *sim.SpinLock, a *assocList) int {
	err := 0
	lock.Lock(t)
repeat:
	for i := len(a.list) - 1; i >= 0; i-- { // list_for_each_prev
		bh := a.list[i]
		if BufferLocked(bh) {
			GetBh(bh)
			lock.Unlock(t)
			WaitOnBuffer(t, bh)
			if !BufferUptodate(bh) {
				err = eio
			}
			brelseInner(t, bh)
			lock.Lock(t)
			goto repeat
		}
	}
	lock.Unlock(t)
	return err
}
