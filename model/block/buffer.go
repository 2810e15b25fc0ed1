package block

import (
	"fmt"

	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// Buffer state bits, enum bh_state_bits, include/linux/buffer_head.h,
// Linux 2.6.32.
const (
	BH_Uptodate      = iota // Contains valid data
	BH_Dirty                // Is dirty
	BH_Lock                 // Is locked
	BH_Req                  // Has been submitted for I/O
	BH_Uptodate_Lock        // Used by the first bh in a page, to serialise IO completion of other buffers in the page
	BH_Mapped               // Has a disk mapping
	BH_New                  // Disk mapping was newly created by get_block
	BH_Async_Read           // Is under end_buffer_async_read I/O
	BH_Async_Write          // Is under end_buffer_async_write I/O
	BH_Delay                // Buffer is not yet allocated on disk
	BH_Boundary             // Block is followed by a discontiguity
	BH_Write_EIO            // I/O error on write
	BH_Ordered              // ordered write
	BH_Eopnotsupp           // operation not supported (barrier)
	BH_Unwritten            // Buffer is allocated on disk but not written
	BH_Quiet                // Buffer Error Prinks to be quiet
	BH_PrivateStart         // not a state bit, but the first bit available for private allocation by other entities
)

// MAX_BUF_PER_PAGE is PAGE_CACHE_SIZE / 512.
const MAX_BUF_PER_PAGE = mm.PageSize / 512

var bhStateNames = [...]string{"uptodate", "dirty", "lock", "req", "uptodate_lock", "mapped", "new",
	"async_read", "async_write", "delay", "boundary", "write_eio", "ordered", "eopnotsupp",
	"unwritten", "quiet"}

// BhStateNames renders b_state as "uptodate|mapped|...".
func BhStateNames(state uint64) string {
	s := ""
	for i, n := range bhStateNames {
		if state&(1<<uint(i)) != 0 {
			if s != "" {
				s += "|"
			}
			s += n
		}
	}
	if s == "" {
		return "0"
	}
	return s
}

// BhEndIO is bh_end_io_t: b_end_io(bh, uptodate).
type BhEndIO func(t *sim.Task, bh *BufferHead, uptodate int)

// BufferHead is struct buffer_head, include/linux/buffer_head.h, Linux
// 2.6.32.
type BufferHead struct {
	// State is b_state: the BH_* bits. BH_Lock is a bit lock (sim's bit
	// waits use the field's address); change the bits through this
	// package's functions, each a scheduling point.
	State uint64
	// ThisPage is b_this_page: the circular list of the page's buffers
	// (NULL-terminated while alloc_page_buffers builds it).
	ThisPage *BufferHead
	// Page is b_page: the page this bh is mapped to.
	Page *mm.Page
	// Blocknr is b_blocknr (sector_t): the start block number, in units
	// of Size.
	Blocknr uint64
	// Size is b_size: the size of the mapping. get_block takes the size
	// the caller wants in it and may return a larger extent.
	Size uint
	// Offset is bh_offset(bh): where b_data starts in the page.
	Offset uint
	// Bdev is b_bdev.
	Bdev *BlockDevice
	// EndIO is b_end_io: the I/O completion.
	EndIO BhEndIO
	// Private is b_private, reserved for b_end_io.
	Private any

	count    int              // b_count: users using this buffer_head
	assocMap *mm.AddressSpace // b_assoc_map: the mapping this buffer is associated with
	ulock    sim.SpinLock     // BH_Uptodate_Lock of the first buffer of a page
	freed    bool
}

// Obj names the buffer in traces: class "bh", A the inode number of its
// page, B its block index in that file (from the page index and offset).
func (bh *BufferHead) Obj() sim.Obj {
	if bh.Page == nil || bh.Size == 0 {
		return sim.Obj{Class: "bh", B: int64(bh.Blocknr)}
	}
	return sim.Obj{Class: "bh", A: int64(bh.Page.Ino()),
		B: (int64(bh.Page.Index)<<mm.PageCacheShift + int64(bh.Offset)) / int64(bh.Size)}
}

func (bh *BufferHead) String() string {
	return fmt.Sprintf("bh %v blocknr %d size %d [%s] count %d", bh.Obj(), int64(bh.Blocknr), bh.Size,
		BhStateNames(bh.State), bh.count)
}

// Count is atomic_read(&bh->b_count).
func (bh *BufferHead) Count() int { return bh.count }

func (bh *BufferHead) test(bit uint) bool { return bh.State&(1<<bit) != 0 }

func bhSet(t *sim.Task, bh *BufferHead, bit uint, op string) {
	t.Point(op, bh.Obj(), 0)
	bh.State |= 1 << bit
}

func bhClear(t *sim.Task, bh *BufferHead, bit uint, op string) {
	t.Point(op, bh.Obj(), 0)
	bh.State &^= 1 << bit
}

func bhTestSet(t *sim.Task, bh *BufferHead, bit uint, op string) bool {
	t.Point(op, bh.Obj(), 0)
	old := bh.test(bit)
	bh.State |= 1 << bit
	return old
}

func bhTestClear(t *sim.Task, bh *BufferHead, bit uint, op string) bool {
	t.Point(op, bh.Obj(), 0)
	old := bh.test(bit)
	bh.State &^= 1 << bit
	return old
}

// The BUFFER_FNS and TAS_BUFFER_FNS accessors. Tests are plain loads; sets
// and clears are atomic bit operations and scheduling points.

func BufferUptodate(bh *BufferHead) bool            { return bh.test(BH_Uptodate) }
func SetBufferUptodate(t *sim.Task, bh *BufferHead) { bhSet(t, bh, BH_Uptodate, "set_buffer_uptodate") }
func ClearBufferUptodate(t *sim.Task, bh *BufferHead) {
	bhClear(t, bh, BH_Uptodate, "clear_buffer_uptodate")
}

func BufferDirty(bh *BufferHead) bool              { return bh.test(BH_Dirty) }
func SetBufferDirty(t *sim.Task, bh *BufferHead)   { bhSet(t, bh, BH_Dirty, "set_buffer_dirty") }
func ClearBufferDirty(t *sim.Task, bh *BufferHead) { bhClear(t, bh, BH_Dirty, "clear_buffer_dirty") }
func TestSetBufferDirty(t *sim.Task, bh *BufferHead) bool {
	return bhTestSet(t, bh, BH_Dirty, "test_set_buffer_dirty")
}
func TestClearBufferDirty(t *sim.Task, bh *BufferHead) bool {
	return bhTestClear(t, bh, BH_Dirty, "test_clear_buffer_dirty")
}

func BufferLocked(bh *BufferHead) bool { return bh.test(BH_Lock) }

func BufferReq(bh *BufferHead) bool              { return bh.test(BH_Req) }
func SetBufferReq(t *sim.Task, bh *BufferHead)   { bhSet(t, bh, BH_Req, "set_buffer_req") }
func ClearBufferReq(t *sim.Task, bh *BufferHead) { bhClear(t, bh, BH_Req, "clear_buffer_req") }
func TestSetBufferReq(t *sim.Task, bh *BufferHead) bool {
	return bhTestSet(t, bh, BH_Req, "test_set_buffer_req")
}

func BufferMapped(bh *BufferHead) bool              { return bh.test(BH_Mapped) }
func SetBufferMapped(t *sim.Task, bh *BufferHead)   { bhSet(t, bh, BH_Mapped, "set_buffer_mapped") }
func ClearBufferMapped(t *sim.Task, bh *BufferHead) { bhClear(t, bh, BH_Mapped, "clear_buffer_mapped") }

func BufferNew(bh *BufferHead) bool              { return bh.test(BH_New) }
func SetBufferNew(t *sim.Task, bh *BufferHead)   { bhSet(t, bh, BH_New, "set_buffer_new") }
func ClearBufferNew(t *sim.Task, bh *BufferHead) { bhClear(t, bh, BH_New, "clear_buffer_new") }

func BufferAsyncRead(bh *BufferHead) bool { return bh.test(BH_Async_Read) }
func SetBufferAsyncRead(t *sim.Task, bh *BufferHead) {
	bhSet(t, bh, BH_Async_Read, "set_buffer_async_read")
}
func ClearBufferAsyncRead(t *sim.Task, bh *BufferHead) {
	bhClear(t, bh, BH_Async_Read, "clear_buffer_async_read")
}

func BufferAsyncWrite(bh *BufferHead) bool { return bh.test(BH_Async_Write) }
func SetBufferAsyncWrite(t *sim.Task, bh *BufferHead) {
	bhSet(t, bh, BH_Async_Write, "set_buffer_async_write")
}
func ClearBufferAsyncWrite(t *sim.Task, bh *BufferHead) {
	bhClear(t, bh, BH_Async_Write, "clear_buffer_async_write")
}

func BufferDelay(bh *BufferHead) bool              { return bh.test(BH_Delay) }
func SetBufferDelay(t *sim.Task, bh *BufferHead)   { bhSet(t, bh, BH_Delay, "set_buffer_delay") }
func ClearBufferDelay(t *sim.Task, bh *BufferHead) { bhClear(t, bh, BH_Delay, "clear_buffer_delay") }

func BufferBoundary(bh *BufferHead) bool            { return bh.test(BH_Boundary) }
func SetBufferBoundary(t *sim.Task, bh *BufferHead) { bhSet(t, bh, BH_Boundary, "set_buffer_boundary") }
func ClearBufferBoundary(t *sim.Task, bh *BufferHead) {
	bhClear(t, bh, BH_Boundary, "clear_buffer_boundary")
}

func BufferWriteIOError(bh *BufferHead) bool { return bh.test(BH_Write_EIO) }
func SetBufferWriteIOError(t *sim.Task, bh *BufferHead) {
	bhSet(t, bh, BH_Write_EIO, "set_buffer_write_io_error")
}
func ClearBufferWriteIOError(t *sim.Task, bh *BufferHead) {
	bhClear(t, bh, BH_Write_EIO, "clear_buffer_write_io_error")
}

func BufferOrdered(bh *BufferHead) bool { return bh.test(BH_Ordered) }

func BufferEopnotsupp(bh *BufferHead) bool { return bh.test(BH_Eopnotsupp) }
func SetBufferEopnotsupp(t *sim.Task, bh *BufferHead) {
	bhSet(t, bh, BH_Eopnotsupp, "set_buffer_eopnotsupp")
}
func ClearBufferEopnotsupp(t *sim.Task, bh *BufferHead) {
	bhClear(t, bh, BH_Eopnotsupp, "clear_buffer_eopnotsupp")
}

func BufferUnwritten(bh *BufferHead) bool { return bh.test(BH_Unwritten) }

// MapBh is map_bh(bh, sb, block), include/linux/buffer_head.h, Linux
// 2.6.32: set_buffer_mapped, b_bdev, b_blocknr, and b_size = the block
// size.
func MapBh(t *sim.Task, bh *BufferHead, bdev *BlockDevice, blocksize uint, block uint64) {
	SetBufferMapped(t, bh)
	bh.Bdev = bdev
	bh.Blocknr = block
	bh.Size = blocksize
}

// GetBh is get_bh(bh).
func GetBh(bh *BufferHead) { bh.count++ }

// PutBh is put_bh(bh).
func PutBh(t *sim.Task, bh *BufferHead) {
	if bh.count <= 0 {
		t.BUG(bh.Obj(), "put_bh: b_count of %v is %d", bh.Obj(), bh.count)
	}
	bh.count--
}

// Brelse is brelse(bh): __brelse if bh is not nil.
func Brelse(t *sim.Task, bh *BufferHead) {
	if bh != nil {
		brelseInner(t, bh)
	}
}

// brelseInner is __brelse(buf), fs/buffer.c, Linux 2.6.32.
func brelseInner(t *sim.Task, bh *BufferHead) {
	if bh.count > 0 {
		PutBh(t, bh)
		return
	}
	// WARN(1, KERN_ERR "VFS: brelse: Trying to free free buffer\n")
	t.World().Record(sim.KindNote, "brelse", bh.Obj(), 0, "WARNING: VFS: brelse: Trying to free free buffer")
}

// Bforget is bforget(bh) / __bforget, fs/buffer.c, Linux 2.6.32: the
// buffer's contents no longer matter.
func Bforget(t *sim.Task, bh *BufferHead) {
	if bh == nil {
		return
	}
	ClearBufferDirty(t, bh)
	if bh.assocMap != nil {
		bufferMapping := bh.Page.Mapping
		bufferMapping.PrivateLock.Lock(t)
		layerOf(t).assocDel(bh)
		bh.assocMap = nil
		bufferMapping.PrivateLock.Unlock(t)
	}
	brelseInner(t, bh)
}

// Buffer locking.

// LockBuffer is lock_buffer(bh), include/linux/buffer_head.h and
// __lock_buffer, fs/buffer.c, Linux 2.6.32: might_sleep; take BH_Lock,
// sleeping (wait_on_bit_lock) while another task holds it.
func LockBuffer(t *sim.Task, bh *BufferHead) {
	sim.WaitOnBitLock(t, &bh.State, BH_Lock, bh.Obj(), "lock_buffer")
}

// TrylockBuffer is trylock_buffer(bh): test_and_set_bit_lock(BH_Lock).
func TrylockBuffer(t *sim.Task, bh *BufferHead) bool {
	return !bhTestSet(t, bh, BH_Lock, "trylock_buffer")
}

// UnlockBuffer is unlock_buffer(bh), fs/buffer.c, Linux 2.6.32:
// clear_bit_unlock(BH_Lock) then wake_up_bit. Unlocking an unlocked
// buffer is a lock failure (the kernel would silently corrupt the lock).
func UnlockBuffer(t *sim.Task, bh *BufferHead) {
	if !BufferLocked(bh) {
		t.World().Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: sim.InvLock, Obj: bh.Obj(),
			Msg: fmt.Sprintf("unlock_buffer of unlocked buffer %v", bh.Obj()),
			Explain: "BH_Lock was released although nobody held it: a double unlock_buffer, or an I/O " +
				"completion for a buffer that was never locked for that I/O."})
	}
	bh.State &^= 1 << BH_Lock
	sim.WakeUpBit(t, &bh.State, BH_Lock, bh.Obj())
}

// WaitOnBuffer is wait_on_buffer(bh): might_sleep; sleep until BH_Lock is
// clear (__wait_on_buffer). It waits whatever the buffer's count (the
// kernel checks atomic_read(&bh->b_count) only to catch a free buffer).
func WaitOnBuffer(t *sim.Task, bh *BufferHead) {
	sim.WaitOnBit(t, &bh.State, BH_Lock, bh.Obj(), "wait_on_buffer")
}

// bitSpinLock and bitSpinUnlock are bit_spin_lock(BH_Uptodate_Lock,
// &first->b_state): a spin lock living in the first buffer of the page.
func bitSpinLock(t *sim.Task, first *BufferHead) {
	first.ulock.Name = "BH_Uptodate_Lock"
	first.ulock.Lock(t)
}

func bitSpinUnlock(t *sim.Task, first *BufferHead) { first.ulock.Unlock(t) }

// Buffers of a page.

// PageHasBuffers is page_has_buffers(page): PagePrivate.
func PageHasBuffers(p *mm.Page) bool { return mm.PagePrivate(p) }

// PageBuffers is page_buffers(page): the first buffer of the page's ring.
// BUG unless the page has buffers.
func PageBuffers(p *mm.Page) *BufferHead {
	if !mm.PagePrivate(p) {
		panic(fmt.Sprintf("block: page_buffers of page %d:%d without buffers", p.Ino(), p.Index))
	}
	bh, _ := mm.PagePrivateData(p).(*BufferHead)
	return bh
}

// AttachPageBuffers is attach_page_buffers(page, head): the page takes a
// reference for its buffers.
func AttachPageBuffers(t *sim.Task, p *mm.Page, head *BufferHead) {
	mm.PageCacheGet(t, p)
	mm.SetPagePrivate(t, p)
	mm.SetPagePrivateData(t, p, head)
}

// clearPageBuffers is __clear_page_buffers(page), fs/buffer.c.
func clearPageBuffers(t *sim.Task, p *mm.Page) {
	mm.ClearPagePrivate(t, p)
	mm.SetPagePrivateData(t, p, nil)
	mm.PageCacheRelease(t, p)
}

// setBhPage is set_bh_page(bh, page, offset).
func setBhPage(bh *BufferHead, p *mm.Page, offset uint) {
	bh.Page = p
	if offset >= mm.PageSize {
		panic("block: set_bh_page: offset beyond the page")
	}
	bh.Offset = offset
}

// allocBufferHead is alloc_buffer_head(gfp_flags).
func allocBufferHead(t *sim.Task, l *Layer) *BufferHead {
	if l != nil {
		l.NrBufferHeads++
	}
	return &BufferHead{}
}

// freeBufferHead is free_buffer_head(bh): BUG if it is still on an
// inode's buffer list.
func freeBufferHead(t *sim.Task, l *Layer, bh *BufferHead) {
	if bh.assocMap != nil {
		t.BUG(bh.Obj(), "free_buffer_head: buffer still on an inode's list")
	}
	bh.freed = true
	if l != nil {
		l.NrBufferHeads--
	}
}

// AllocPageBuffers is alloc_page_buffers(page, size, retry), fs/buffer.c,
// Linux 2.6.32: a NULL-terminated list of buffers of size bytes covering
// the page, not attached to it, the first at offset 0. Without retry the
// allocation may fail (the "alloc_buffer_head" fault site) and returns
// nil; with retry it always succeeds (free_more_memory loops until it
// does).
func AllocPageBuffers(t *sim.Task, p *mm.Page, size uint, retry int) *BufferHead {
	l := layerOf(t)
	var head *BufferHead
	for offset := int(mm.PageSize) - int(size); offset >= 0; offset -= int(size) {
		if retry == 0 && l.allocFails(t, "alloc_buffer_head", p.Obj()) {
			// In case anything failed, we just free everything we got.
			for head != nil {
				bh := head
				head = head.ThisPage
				freeBufferHead(t, l, bh)
			}
			return nil
		}
		bh := allocBufferHead(t, l)
		bh.Bdev = nil
		bh.ThisPage = head
		bh.Blocknr = ^uint64(0) // -1
		head = bh
		bh.State = 0
		bh.count = 0
		bh.Private = nil
		bh.Size = size
		// Link the buffer to its page
		setBhPage(bh, p, uint(offset))
		bh.EndIO = nil // init_buffer(bh, NULL, NULL)
	}
	return head
}

// CreateEmptyBuffers is create_empty_buffers(page, blocksize, b_state),
// fs/buffer.c, Linux 2.6.32: attach a ring of unmapped buffers to the
// page, dirty and uptodate as the page is, atomically with respect to
// __set_page_dirty_buffers (private_lock).
func CreateEmptyBuffers(t *sim.Task, p *mm.Page, blocksize uint, bState uint64) {
	head := AllocPageBuffers(t, p, blocksize, 1)
	bh := head
	var tail *BufferHead
	for bh != nil {
		bh.State |= bState
		tail = bh
		bh = bh.ThisPage
	}
	tail.ThisPage = head

	m := p.Mapping
	m.PrivateLock.Lock(t)
	if mm.PageUptodate(p) || mm.PageDirty(p) {
		bh = head
		for {
			if mm.PageDirty(p) {
				SetBufferDirty(t, bh)
			}
			if mm.PageUptodate(p) {
				SetBufferUptodate(t, bh)
			}
			bh = bh.ThisPage
			if bh == head {
				break
			}
		}
	}
	AttachPageBuffers(t, p, head)
	m.PrivateLock.Unlock(t)
}

// I/O completion.

// EndBufferAsyncRead is end_buffer_async_read(bh, uptodate), fs/buffer.c,
// Linux 2.6.32: the I/O completion of block_read_full_page. The buffer
// becomes uptodate (or the page gets PG_error); under the page's
// BH_Uptodate_Lock, the buffer leaves async-read state and is unlocked,
// and the last buffer of the page to complete sets the page uptodate
// (unless any failed) and unlocks it.
func EndBufferAsyncRead(t *sim.Task, bh *BufferHead, uptodate int) {
	t.Enter("end_buffer_async_read")
	defer t.Leave()
	pageUptodate := true
	if !BufferAsyncRead(bh) {
		t.BUG(bh.Obj(), "end_buffer_async_read: buffer not under async read")
	}
	page := bh.Page
	if uptodate != 0 {
		SetBufferUptodate(t, bh)
	} else {
		ClearBufferUptodate(t, bh)
		// if (!quiet_error(bh)) buffer_io_error(bh);
		t.World().Record(sim.KindNote, "buffer_io_error", bh.Obj(), int64(bh.Blocknr), "Buffer I/O error on device")
		mm.SetPageError(t, page)
	}

	// Be _very_ careful from here on. Bad things can happen if two buffer
	// heads end IO at almost the same time and both decide that the page
	// is now completely done.
	first := PageBuffers(page)
	bitSpinLock(t, first)
	ClearBufferAsyncRead(t, bh)
	UnlockBuffer(t, bh)
	tmp := bh
	for {
		if !BufferUptodate(tmp) {
			pageUptodate = false
		}
		if BufferAsyncRead(tmp) {
			if !BufferLocked(tmp) {
				t.BUG(tmp.Obj(), "end_buffer_async_read: async-read buffer not locked")
			}
			goto stillBusy
		}
		tmp = tmp.ThisPage
		if tmp == bh {
			break
		}
	}
	bitSpinUnlock(t, first)

	// If none of the buffers had errors and they are all uptodate then we
	// can set the page uptodate.
	if pageUptodate && !mm.PageError(page) {
		mm.SetPageUptodate(t, page)
	}
	mm.UnlockPage(t, page)
	return

stillBusy:
	bitSpinUnlock(t, first)
}

// EndBufferAsyncWrite is end_buffer_async_write(bh, uptodate),
// fs/buffer.c, Linux 2.6.32: the I/O completion of block_write_full_page.
// A failed write sets AS_EIO on the mapping, BH_Write_EIO and PG_error;
// the last buffer of the page to complete ends the page's writeback.
func EndBufferAsyncWrite(t *sim.Task, bh *BufferHead, uptodate int) {
	t.Enter("end_buffer_async_write")
	defer t.Leave()
	if !BufferAsyncWrite(bh) {
		t.BUG(bh.Obj(), "end_buffer_async_write: buffer not under async write")
	}
	page := bh.Page
	if uptodate != 0 {
		SetBufferUptodate(t, bh)
	} else {
		// buffer_io_error(bh); "lost page write due to I/O error on %s"
		t.World().Record(sim.KindNote, "buffer_io_error", bh.Obj(), int64(bh.Blocknr), "lost page write due to I/O error")
		// mutant: the error stays on the buffer ("buffer: set errors in mapping at the time that the error occurs")
		if !mutant.On("buffer-endio-lost-error") {
			mm.MappingSetFlag(t, page.Mapping, mm.AS_EIO)
			SetBufferWriteIOError(t, bh)
			mm.SetPageError(t, page)
		}
		ClearBufferUptodate(t, bh)
	}

	first := PageBuffers(page)
	bitSpinLock(t, first)

	ClearBufferAsyncWrite(t, bh)
	UnlockBuffer(t, bh)
	tmp := bh.ThisPage
	for tmp != bh {
		if BufferAsyncWrite(tmp) {
			if !BufferLocked(tmp) {
				t.BUG(tmp.Obj(), "end_buffer_async_write: async-write buffer not locked")
			}
			goto stillBusy
		}
		tmp = tmp.ThisPage
	}
	bitSpinUnlock(t, first)
	mm.EndPageWriteback(t, page)
	return

stillBusy:
	bitSpinUnlock(t, first)
}

// MarkBufferAsyncRead is mark_buffer_async_read(bh), fs/buffer.c: the
// buffer's I/O completes through end_buffer_async_read.
func MarkBufferAsyncRead(t *sim.Task, bh *BufferHead) {
	bh.EndIO = EndBufferAsyncRead
	SetBufferAsyncRead(t, bh)
}

// markBufferAsyncWriteEndio is mark_buffer_async_write_endio(bh, handler).
func markBufferAsyncWriteEndio(t *sim.Task, bh *BufferHead, handler BhEndIO) {
	bh.EndIO = handler
	SetBufferAsyncWrite(t, bh)
}

// MarkBufferAsyncWrite is mark_buffer_async_write(bh).
func MarkBufferAsyncWrite(t *sim.Task, bh *BufferHead) {
	markBufferAsyncWriteEndio(t, bh, EndBufferAsyncWrite)
}

// endBufferReadNotouch is __end_buffer_read_notouch(bh, uptodate):
// end-of-IO helper which does not touch the bh after unlocking it.
func endBufferReadNotouch(t *sim.Task, bh *BufferHead, uptodate int) {
	if uptodate != 0 {
		SetBufferUptodate(t, bh)
	} else {
		// This happens, due to failed READA attempts.
		ClearBufferUptodate(t, bh)
	}
	UnlockBuffer(t, bh)
}

// EndBufferReadSync is end_buffer_read_sync(bh, uptodate), fs/buffer.c,
// Linux 2.6.32: the completion of a synchronous buffer read.
func EndBufferReadSync(t *sim.Task, bh *BufferHead, uptodate int) {
	endBufferReadNotouch(t, bh, uptodate)
	PutBh(t, bh)
}

// EndBufferWriteSync is end_buffer_write_sync(bh, uptodate), fs/buffer.c,
// Linux 2.6.32.
func EndBufferWriteSync(t *sim.Task, bh *BufferHead, uptodate int) {
	if uptodate != 0 {
		SetBufferUptodate(t, bh)
	} else {
		if !BufferEopnotsupp(bh) {
			t.World().Record(sim.KindNote, "buffer_io_error", bh.Obj(), int64(bh.Blocknr),
				"lost page write due to I/O error")
		}
		SetBufferWriteIOError(t, bh)
		ClearBufferUptodate(t, bh)
	}
	UnlockBuffer(t, bh)
	PutBh(t, bh)
}

// endBufferReadNobh is end_buffer_read_nobh(bh, uptodate): nobh_write_begin's
// prereads are freed immediately under the page lock, so the completion
// must not touch the bh after unlocking it.
func endBufferReadNobh(t *sim.Task, bh *BufferHead, uptodate int) {
	endBufferReadNotouch(t, bh, uptodate)
}

// endBioBhIoSync is end_bio_bh_io_sync(bio, err), fs/buffer.c, Linux
// 2.6.32: a buffer's bio completed; run b_end_io and drop the bio.
func endBioBhIoSync(t *sim.Task, bio *Bio, err int) {
	bh := bio.Private.(*BufferHead)
	if err == eopnotsupp {
		bio.Flags |= 1 << BIO_EOPNOTSUPP
		SetBufferEopnotsupp(t, bh)
	}
	uptodate := 0
	if BioFlagged(bio, BIO_UPTODATE) {
		uptodate = 1
	}
	bh.EndIO(t, bh, uptodate)
	BioPut(t, bio)
}

// endBioBhIoSync2612 is end_bio_bh_io_sync(bio, bytes_done, err),
// fs/buffer.c, Linux 2.6.12: not done until bi_size reaches zero.
func endBioBhIoSync2612(t *sim.Task, bio *Bio, bytesDone uint, err int) int {
	bh := bio.Private.(*BufferHead)
	if bio.Size != 0 {
		return 1
	}
	if err == eopnotsupp {
		bio.Flags |= 1 << BIO_EOPNOTSUPP
		SetBufferEopnotsupp(t, bh)
	}
	uptodate := 0
	if BioFlagged(bio, BIO_UPTODATE) {
		uptodate = 1
	}
	bh.EndIO(t, bh, uptodate)
	BioPut(t, bio)
	return 0
}

// SubmitBh is submit_bh(rw, bh), fs/buffer.c, Linux 2.6.32: send one
// locked, mapped buffer to the disk in a bio of its own. It returns
// -EOPNOTSUPP if the device refused a barrier, else 0.
func SubmitBh(t *sim.Task, rw uint64, bh *BufferHead) int {
	t.Enter("submit_bh")
	defer t.Leave()
	ret := 0
	t.BUG_ON(!BufferLocked(bh), bh.Obj(), "submit_bh: buffer not locked")
	t.BUG_ON(!BufferMapped(bh), bh.Obj(), "submit_bh: buffer not mapped")
	t.BUG_ON(bh.EndIO == nil, bh.Obj(), "submit_bh: no b_end_io")
	t.BUG_ON(BufferDelay(bh), bh.Obj(), "submit_bh: delayed buffer")
	t.BUG_ON(BufferUnwritten(bh), bh.Obj(), "submit_bh: unwritten buffer")

	// Mask in barrier bit for a write (could be either a WRITE or a
	// WRITE_SYNC)
	if BufferOrdered(bh) && rw&WRITE != 0 {
		rw |= WRITE_BARRIER
	}
	// Only clear out a write error when rewriting
	if TestSetBufferReq(t, bh) && rw&WRITE != 0 {
		ClearBufferWriteIOError(t, bh)
	}

	// from here on down, it's all bio -- do the initial mapping,
	// submit_bio -> generic_make_request may further map this bio around
	bio := bioAllocBioset(t, GFP_NOIO, 1)

	bio.Sector = bh.Blocknr * uint64(bh.Size>>9)
	bio.Bdev = bh.Bdev
	bio.IoVec[0] = BioVec{Page: bh.Page, Len: bh.Size, Offset: bh.Offset}
	bio.Vcnt = 1
	bio.Idx = 0
	bio.Size = bh.Size

	if l := layerOf(t); l != nil && l.K.Era().EndIOBytesDone {
		bio.EndIO2612 = endBioBhIoSync2612
	} else {
		bio.EndIO = endBioBhIoSync
	}
	bio.Private = bh
	bio.fromBH = true

	BioGet(bio)
	SubmitBio(t, rw, bio)

	if BioFlagged(bio, BIO_EOPNOTSUPP) {
		ret = eopnotsupp
	}
	BioPut(t, bio)
	return ret
}

// LlRwBlock is ll_rw_block(rw, nr, bhs), fs/buffer.c, Linux 2.6.32:
// start I/O on each buffer that needs it. Buffers it cannot lock are
// skipped (unless SWRITE*), as are clean buffers for a write and uptodate
// ones for a read.
func LlRwBlock(t *sim.Task, rw uint64, bhs []*BufferHead) {
	for _, bh := range bhs {
		if rw == SWRITE || rw == SWRITE_SYNC || rw == SWRITE_SYNC_PLUG {
			LockBuffer(t, bh)
		} else if !TrylockBuffer(t, bh) {
			continue
		}
		if rw == WRITE || rw == SWRITE || rw == SWRITE_SYNC || rw == SWRITE_SYNC_PLUG {
			if TestClearBufferDirty(t, bh) {
				bh.EndIO = EndBufferWriteSync
				GetBh(bh)
				if rw == SWRITE_SYNC {
					SubmitBh(t, WRITE_SYNC, bh)
				} else {
					SubmitBh(t, WRITE, bh)
				}
				continue
			}
		} else {
			if !BufferUptodate(bh) {
				bh.EndIO = EndBufferReadSync
				GetBh(bh)
				SubmitBh(t, rw, bh)
				continue
			}
		}
		UnlockBuffer(t, bh)
	}
}

// SyncDirtyBuffer is sync_dirty_buffer(bh), fs/buffer.c, Linux 2.6.32:
// for data integrity, wait for in-flight I/O, then write the buffer if
// dirty and wait for that.
func SyncDirtyBuffer(t *sim.Task, bh *BufferHead) int {
	ret := 0
	LockBuffer(t, bh)
	if TestClearBufferDirty(t, bh) {
		GetBh(bh)
		bh.EndIO = EndBufferWriteSync
		ret = SubmitBh(t, WRITE_SYNC, bh)
		WaitOnBuffer(t, bh)
		if BufferEopnotsupp(bh) {
			ClearBufferEopnotsupp(t, bh)
			ret = eopnotsupp
		}
		if ret == 0 && !BufferUptodate(bh) {
			ret = eio
		}
	} else {
		UnlockBuffer(t, bh)
	}
	return ret
}

// Dirtying.

// setPageDirty is __set_page_dirty(page, mapping, warn), fs/buffer.c,
// Linux 2.6.32: under tree_lock (rechecking page->mapping against a
// racing truncate), account the page dirty and tag it DIRTY; then mark
// the inode I_DIRTY_PAGES.
func setPageDirty(t *sim.Task, p *mm.Page, m *mm.AddressSpace, warn bool) {
	m.TreeLock.Lock(t)
	if p.Mapping != nil { // Race with truncate?
		if warn && !mm.PageUptodate(p) {
			t.World().Record(sim.KindNote, "__set_page_dirty", p.Obj(), 0, "WARNING: dirtying a page that is not uptodate")
		}
		mm.AccountPageDirtied(p, m)
		m.PageTree.TagSet(p.Index, mm.PAGECACHE_TAG_DIRTY)
	}
	m.TreeLock.Unlock(t)
	mm.MarkInodeDirty(t, m.Host, mm.I_DIRTY_PAGES)
}

// SetPageDirtyBuffers is __set_page_dirty_buffers(page), fs/buffer.c,
// Linux 2.6.32: the set_page_dirty of buffer-backed mappings. Under
// private_lock (against buffers being attached or freed), every buffer of
// the page is set dirty first, then the page. Returns 1 if the page
// became dirty. mm calls it through Kernel.SetPageDirtyBuffers.
func SetPageDirtyBuffers(t *sim.Task, p *mm.Page) int {
	mapping := mm.PageMapping(p)
	if mapping == nil {
		if !mm.TestSetPageDirty(t, p) {
			return 1
		}
		return 0
	}
	mapping.PrivateLock.Lock(t)
	if PageHasBuffers(p) {
		head := PageBuffers(p)
		bh := head
		for {
			SetBufferDirty(t, bh)
			bh = bh.ThisPage
			if bh == head {
				break
			}
		}
	}
	newlyDirty := !mm.TestSetPageDirty(t, p)
	mapping.PrivateLock.Unlock(t)

	if newlyDirty {
		setPageDirty(t, p, mapping, true)
		return 1
	}
	return 0
}

// MarkBufferDirty is mark_buffer_dirty(bh), fs/buffer.c, Linux 2.6.32:
// set the buffer dirty, then its page, tagging it dirty in its mapping
// and marking the inode dirty.
func MarkBufferDirty(t *sim.Task, bh *BufferHead) {
	if !BufferUptodate(bh) {
		t.World().Record(sim.KindNote, "mark_buffer_dirty", bh.Obj(), 0, "WARNING: buffer not uptodate")
	}
	// Very *carefully* optimize the it-is-already-dirty case.
	if BufferDirty(bh) {
		return
	}
	if !TestSetBufferDirty(t, bh) {
		page := bh.Page
		if !mm.TestSetPageDirty(t, page) {
			if mapping := mm.PageMapping(page); mapping != nil {
				setPageDirty(t, page, mapping, false)
			}
		}
	}
}

// Freeing buffers.

// bufferBusy is buffer_busy(bh): referenced, dirty or locked.
func bufferBusy(bh *BufferHead) bool {
	return bh.count != 0 || bh.State&(1<<BH_Dirty|1<<BH_Lock) != 0
}

// dropBuffers is drop_buffers(page, buffers_to_free), fs/buffer.c, Linux
// 2.6.32.
func dropBuffers(t *sim.Task, p *mm.Page) *BufferHead {
	head := PageBuffers(p)
	bh := head
	for {
		if BufferWriteIOError(bh) && p.Mapping != nil {
			mm.MappingSetFlag(t, p.Mapping, mm.AS_EIO)
		}
		if bufferBusy(bh) {
			return nil
		}
		bh = bh.ThisPage
		if bh == head {
			break
		}
	}
	for {
		next := bh.ThisPage
		if bh.assocMap != nil {
			layerOf(t).removeAssocQueue(t, bh)
		}
		bh = next
		if bh == head {
			break
		}
	}
	clearPageBuffers(t, p)
	return head
}

// TryToFreeBuffers is try_to_free_buffers(page), fs/buffer.c, Linux
// 2.6.32: free the page's buffers if none is referenced, dirty or locked,
// and clean the page then (its dirtiness was the buffers'). The page must
// be locked. Returns 1 if the buffers were freed. mm calls it through
// Kernel.TryToFreeBuffers.
func TryToFreeBuffers(t *sim.Task, p *mm.Page) int {
	mapping := p.Mapping
	var buffersToFree *BufferHead
	ret := 0
	t.BUG_ON(!mm.PageLocked(p), p.Obj(), "try_to_free_buffers: page not locked")
	if mm.PageWriteback(p) {
		return 0
	}
	if mapping == nil { // can this still happen?
		buffersToFree = dropBuffers(t, p)
		if buffersToFree != nil {
			ret = 1
		}
	} else {
		mapping.PrivateLock.Lock(t)
		buffersToFree = dropBuffers(t, p)
		if buffersToFree != nil {
			ret = 1
		}
		// If the filesystem writes its buffers by hand (eg ext3) then we
		// can have clean buffers against a dirty page. We clean the page
		// here; otherwise the VM will never notice that the filesystem
		// did any IO at all.
		if ret != 0 {
			mm.CancelDirtyPage(t, p, mm.PageSize)
		}
		mapping.PrivateLock.Unlock(t)
	}
	if buffersToFree != nil {
		l := layerOf(t)
		bh := buffersToFree
		for {
			next := bh.ThisPage
			freeBufferHead(t, l, bh)
			bh = next
			if bh == buffersToFree {
				break
			}
		}
	}
	return ret
}

// BufferHeadsOverLimit is buffer_heads_over_limit, the knob in the task's
// Layer.
func BufferHeadsOverLimit(t *sim.Task) bool {
	l := layerOf(t)
	return l != nil && l.BufferHeadsOverLimit
}

// discardBuffer is discard_buffer(bh), fs/buffer.c, Linux 2.6.32: called
// when truncating a buffer on a page completely.
func discardBuffer(t *sim.Task, bh *BufferHead) {
	LockBuffer(t, bh)
	ClearBufferDirty(t, bh)
	bh.Bdev = nil
	ClearBufferMapped(t, bh)
	ClearBufferReq(t, bh)
	ClearBufferNew(t, bh)
	ClearBufferDelay(t, bh)
	bh.State &^= 1 << BH_Unwritten // clear_buffer_unwritten
	UnlockBuffer(t, bh)
}

// BlockInvalidatepage is block_invalidatepage(page, offset), fs/buffer.c,
// Linux 2.6.32: the page is truncated from offset on; discard the buffers
// wholly past it, and release them all when the whole page goes. mm calls
// it through Kernel.BlockInvalidatepage.
func BlockInvalidatepage(t *sim.Task, p *mm.Page, offset uint) {
	t.BUG_ON(!mm.PageLocked(p), p.Obj(), "block_invalidatepage: page not locked")
	if !PageHasBuffers(p) {
		return
	}
	head := PageBuffers(p)
	bh := head
	var currOff uint
	for {
		nextOff := currOff + bh.Size
		next := bh.ThisPage
		// is this block fully invalidated?
		if offset <= currOff {
			discardBuffer(t, bh)
		}
		currOff = nextOff
		bh = next
		if bh == head {
			break
		}
	}
	// We release buffers only if the entire page is being invalidated.
	// The get_block cached value has been unconditionally invalidated, so
	// real IO is not possible anymore.
	if offset == 0 {
		mm.TryToReleasePage(t, p, 0)
	}
}
