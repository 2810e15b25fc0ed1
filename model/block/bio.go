package block

import (
	"fmt"
	"runtime/debug"

	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// Gfp is gfp_t: allocation flags. The model does not allocate memory;
// the flags document the call and say whether an allocation may sleep.
type Gfp uint

// Allocation flags, include/linux/gfp.h.
const (
	GFP_WAIT = 1 << 4 // __GFP_WAIT
	GFP_HIGH = 1 << 5 // __GFP_HIGH
	GFP_IO   = 1 << 6 // __GFP_IO
	GFP_FS   = 1 << 7 // __GFP_FS

	GFP_ATOMIC Gfp = GFP_HIGH
	GFP_NOIO   Gfp = GFP_WAIT
	GFP_NOFS   Gfp = GFP_WAIT | GFP_IO
	GFP_KERNEL Gfp = GFP_WAIT | GFP_IO | GFP_FS
)

// Bio flags (bi_flags bits), include/linux/bio.h, 2.6.32.
const (
	BIO_UPTODATE    = 0 // ok after I/O completion
	BIO_RW_BLOCK    = 1 // RW_AHEAD set, and read/write would block
	BIO_EOF         = 2 // out-out-bounds error
	BIO_SEG_VALID   = 3 // bi_phys_segments valid
	BIO_CLONED      = 4 // doesn't own data
	BIO_BOUNCED     = 5 // bio is a bounce bio
	BIO_USER_MAPPED = 6 // contains user pages
	BIO_EOPNOTSUPP  = 7 // not supported
	BIO_QUIET       = 10
)

// Request flags for submit_bio's rw (bi_rw). The model uses one set for
// every era: READ and WRITE, and the modifiers each era spells its own
// way (2.6.32's BIO_RW_SYNCIO/BIO_RW_BARRIER, 3.x's REQ_SYNC/REQ_FLUSH/
// REQ_FUA).
const (
	READ  = 0
	WRITE = 1

	RW_AHEAD   = 1 << 1 // READA: read-ahead, may be dropped
	RW_SYNC    = 1 << 2 // BIO_RW_SYNCIO / REQ_SYNC
	RW_UNPLUG  = 1 << 3 // BIO_RW_UNPLUG (2.6.x)
	RW_META    = 1 << 4 // BIO_RW_META / REQ_META
	RW_NOIDLE  = 1 << 5 // BIO_RW_NOIDLE / REQ_NOIDLE
	RW_BARRIER = 1 << 6 // BIO_RW_BARRIER (2.6.x): flush, write, flush
	RW_FLUSH   = 1 << 7 // REQ_FLUSH (2.6.37+): flush the cache first
	RW_FUA     = 1 << 8 // REQ_FUA (2.6.37+): the write reaches stable storage

	READA           = READ | RW_AHEAD
	READ_SYNC       = READ | RW_SYNC | RW_UNPLUG
	READ_META       = READ | RW_META
	WRITE_SYNC_PLUG = WRITE | RW_SYNC | RW_NOIDLE // 2.6.29-2.6.38
	WRITE_SYNC      = WRITE_SYNC_PLUG | RW_UNPLUG
	WRITE_BARRIER   = WRITE | RW_BARRIER // 2.6.x
	WRITE_FLUSH     = WRITE | RW_SYNC | RW_NOIDLE | RW_FLUSH
	WRITE_FUA       = WRITE | RW_SYNC | RW_NOIDLE | RW_FUA
	WRITE_FLUSH_FUA = WRITE_FLUSH | RW_FUA

	// ll_rw_block's "wait for the buffer lock" writes, 2.6.32.
	SWRITE           = 1 << 16
	SWRITE_SYNC      = SWRITE | RW_SYNC | RW_UNPLUG
	SWRITE_SYNC_PLUG = SWRITE | RW_SYNC | RW_NOIDLE
)

// BIO_MAX_PAGES is the largest bio, in io_vecs.
const BIO_MAX_PAGES = 256

// BIO_INLINE_VECS is the number of io_vecs kept inside the bio itself
// (bio_alloc rounds small requests up to it).
const BIO_INLINE_VECS = 4

// BioVec is struct bio_vec.
type BioVec struct {
	Page   *mm.Page // bv_page
	Len    uint     // bv_len
	Offset uint     // bv_offset
}

// Bio is struct bio.
type Bio struct {
	Sector  uint64       // bi_sector (sector_t, 64-bit with CONFIG_LBD)
	Next    *Bio         // bi_next
	Bdev    *BlockDevice // bi_bdev
	Flags   uint64       // bi_flags: BIO_UPTODATE and friends
	Rw      uint64       // bi_rw: READ/WRITE and RW_* modifiers
	Vcnt    int          // bi_vcnt: how many io_vecs are in use
	Idx     int          // bi_idx: current index into IoVec
	Size    uint         // bi_size: residual I/O count, bytes
	MaxVecs int          // bi_max_vecs: how many IoVec entries the bio can hold
	IoVec   []BioVec     // bi_io_vec

	// EndIO is bi_end_io in its 2.6.24+ form, bi_end_io(bio, error): called
	// once, when the whole bio is done.
	EndIO func(t *sim.Task, bio *Bio, err int)
	// EndIO2612 is bi_end_io in its 2.6.12 form, bi_end_io(bio,
	// bytes_done, error): called for every piece the driver completes; it
	// returns 1 while bi_size is not zero ("not done yet") and 0 once it
	// has finished the bio. Set one of EndIO and EndIO2612.
	EndIO2612 func(t *sim.Task, bio *Bio, bytesDone uint, err int) int
	// Private is bi_private.
	Private any

	cnt     int // bi_cnt
	id      int64
	freed   bool
	fromBH  bool // built by submit_bh: one buffer, may be a partial page
	origSec uint64
}

// Obj names the bio in traces: class "bio", A its id, B its first
// sector as submitted.
func (bio *Bio) Obj() sim.Obj { return sim.Obj{Class: "bio", A: bio.id, B: int64(bio.origSec)} }

// ID is the bio's allocation id.
func (bio *Bio) ID() int64 { return bio.id }

// Freed reports whether the last reference to the bio was dropped.
func (bio *Bio) Freed() bool { return bio.freed }

// Vecs returns the io_vecs in use.
func (bio *Bio) Vecs() []BioVec { return bio.IoVec[:bio.Vcnt] }

func (bio *Bio) String() string {
	dir := "READ"
	if bio.Rw&WRITE != 0 {
		dir = "WRITE"
	}
	return fmt.Sprintf("bio %d %s sector %d size %d vcnt %d", bio.id, dir, bio.Sector, bio.Size, bio.Vcnt)
}

// BioFlagged is bio_flagged(bio, flag).
func BioFlagged(bio *Bio, flag uint) bool { return bio.Flags&(1<<flag) != 0 }

// BioDataDir is bio_data_dir(bio): READ or WRITE.
func BioDataDir(bio *Bio) int { return int(bio.Rw & WRITE) }

// BioSectors is bio_sectors(bio).
func BioSectors(bio *Bio) uint { return bio.Size >> 9 }

// BioAlloc is bio_alloc(gfp_mask, nr_iovecs), fs/bio.c, Linux 2.6.32
// (bio_alloc_bioset): a bio with one reference, BIO_UPTODATE set, and
// room for at least nrIovecs io_vecs (rounded up to the bvec pool sizes
// 4, 16, 64, 128, 256). NULL for more than BIO_MAX_PAGES, or when the
// allocation site "bio_alloc" is made to fail (Layer.AllocFault). With
// __GFP_WAIT the real mempool never fails; the fault stands for the
// failslab-style injection the mpage seeds guard against.
func BioAlloc(t *sim.Task, gfp Gfp, nrIovecs int) *Bio {
	if layerOf(t).allocFails(t, "bio_alloc", sim.Obj{Class: "bio"}) {
		return nil
	}
	return bioAllocBioset(t, gfp, nrIovecs)
}

// bioAllocBioset is bio_alloc_bioset without the fault site: submit_bh's
// bio_alloc(GFP_NOIO, 1) relies on the mempool guarantee and does not
// check for NULL.
func bioAllocBioset(t *sim.Task, gfp Gfp, nrIovecs int) *Bio {
	bio := &Bio{cnt: 1, Flags: 1 << BIO_UPTODATE, id: t.World().ID()}
	switch {
	case nrIovecs <= 0:
		nrIovecs = 0
	case nrIovecs <= BIO_INLINE_VECS:
		nrIovecs = BIO_INLINE_VECS
	case nrIovecs <= 16:
		nrIovecs = 16
	case nrIovecs <= 64:
		nrIovecs = 64
	case nrIovecs <= 128:
		nrIovecs = 128
	case nrIovecs <= BIO_MAX_PAGES:
		nrIovecs = BIO_MAX_PAGES
	default:
		return nil
	}
	bio.MaxVecs = nrIovecs
	bio.IoVec = make([]BioVec, nrIovecs)
	return bio
}

// BioGet is bio_get(bio).
func BioGet(bio *Bio) { bio.cnt++ }

// BioPut is bio_put(bio), fs/bio.c, Linux 2.6.32: drop a reference; the
// last one frees the bio. Putting a freed bio is BIO_BUG_ON.
func BioPut(t *sim.Task, bio *Bio) {
	if bio.freed || bio.cnt <= 0 {
		t.World().Fail(&sim.Failure{Kind: sim.FailBug, Obj: bio.Obj(),
			Msg: fmt.Sprintf("kernel BUG: bio_put of freed bio %d", bio.id),
			Explain: "A bio's last reference was dropped twice: its end_io (which owns the reference " +
				"submit_bio passed on) and some other path both called bio_put, or the bio was used after " +
				"its completion freed it.",
			Stack: string(debug.Stack())})
	}
	bio.cnt--
	if bio.cnt == 0 {
		bio.Next = nil
		bio.freed = true
	}
}

// BioGetNrVecs is bio_get_nr_vecs(bdev): roughly how many pages a bio
// to bdev can carry. fs/bio.c, Linux 2.6.32:
// min(ceil(max_sectors*512/PAGE_SIZE), max_phys_segments,
// max_hw_segments); for Version 3.x, Linux 3.2:
// min(max_segments, max_sectors/(PAGE_SIZE>>9)+1, BIO_MAX_PAGES).
func BioGetNrVecs(bdev *BlockDevice) int {
	q := bdev.Limits
	if bdev.K != nil && bdev.K.Era().BioNrVecsMaxSegments {
		nrPages := min(q.MaxSegments, q.MaxSectors/(mm.PageSize>>9)+1)
		return int(min(nrPages, BIO_MAX_PAGES))
	}
	nrPages := ((q.MaxSectors << 9) + mm.PageSize - 1) >> mm.PageCacheShift
	if nrPages > q.MaxSegments {
		nrPages = q.MaxSegments
	}
	return int(nrPages)
}

// bioAddPageInner is __bio_add_page, fs/bio.c, Linux 2.6.32, for a queue
// without merge_bvec_fn whose pages never merge physically: add len bytes
// at offset of page, or return 0 if the bio is full or would exceed
// maxSectors or the segment limit. A page that continues the last io_vec
// (same page, next offset) extends it.
func bioAddPageInner(bdev *BlockDevice, bio *Bio, page *mm.Page, length, offset uint, maxSectors uint) int {
	// cloned bio must not modify vec list
	if BioFlagged(bio, BIO_CLONED) {
		return 0
	}
	if ((bio.Size + length) >> 9) > maxSectors {
		return 0
	}
	// For filesystems with a blocksize smaller than the pagesize we will
	// often be called with the same page as last time and a consecutive
	// offset. Optimize this special case.
	if bio.Vcnt > 0 {
		prev := &bio.IoVec[bio.Vcnt-1]
		if page == prev.Page && offset == prev.Offset+prev.Len {
			prev.Len += length
			bio.Size += length
			return int(length)
		}
	}
	if bio.Vcnt >= bio.MaxVecs {
		return 0
	}
	// we might lose a segment or two here, but rather that than make this
	// too complex.
	if uint(bio.Vcnt) >= bdev.Limits.MaxSegments {
		return 0
	}
	bio.IoVec[bio.Vcnt] = BioVec{Page: page, Len: length, Offset: offset}
	bio.Vcnt++
	bio.Size += length
	return int(length)
}

// BioAddPage is bio_add_page(bio, page, len, offset), fs/bio.c, Linux
// 2.6.32: add a page to the bio within queue_max_sectors. It returns the
// number of bytes added: len, or 0 if the page did not fit. It is not a
// scheduling point.
func BioAddPage(t *sim.Task, bio *Bio, page *mm.Page, length, offset uint) int {
	if bio.freed {
		t.BUG(bio.Obj(), "bio_add_page on freed bio %d", bio.id)
	}
	return bioAddPageInner(bio.Bdev, bio, page, length, offset, bio.Bdev.Limits.MaxSectors)
}

// BioEndio is bio_endio(bio, error), fs/bio.c, Linux 2.6.32: end I/O on
// the whole bio. A nonzero error clears BIO_UPTODATE; a bio without
// BIO_UPTODATE reports -EIO. Then bi_end_io runs.
//
// For a bio with the 2.6.12 handler (EndIO2612) it ends the rest of the
// bio as BioEndio2612(bio, bio.Size, error) would.
func BioEndio(t *sim.Task, bio *Bio, err int) {
	if bio.EndIO2612 != nil {
		BioEndio2612(t, bio, bio.Size, err)
		return
	}
	recordEndio(t, bio, bio.Size, err)
	if err != 0 {
		bio.Flags &^= 1 << BIO_UPTODATE
	} else if !BioFlagged(bio, BIO_UPTODATE) {
		err = eio
	}
	if bio.EndIO != nil {
		bio.EndIO(t, bio, err)
	}
}

// BioEndio2612 is 2.6.12's bio_endio(bio, bytes_done, error), fs/bio.c,
// Linux 2.6.12: end I/O on bytesDone bytes of the bio, which may be just
// part of it. It subtracts them from bi_size, advances bi_sector, and
// calls the 2.6.12 handler, which returns 1 while bi_size is not yet zero.
func BioEndio2612(t *sim.Task, bio *Bio, bytesDone uint, err int) {
	recordEndio(t, bio, bytesDone, err)
	if err != 0 {
		bio.Flags &^= 1 << BIO_UPTODATE
	}
	if bytesDone > bio.Size {
		// printk("%s: want %u bytes done, only %u left\n", ...)
		bytesDone = bio.Size
	}
	bio.Size -= bytesDone
	bio.Sector += uint64(bytesDone >> 9)
	if bio.EndIO2612 != nil {
		bio.EndIO2612(t, bio, bytesDone, err)
	} else if bio.EndIO != nil && bio.Size == 0 {
		bio.EndIO(t, bio, err)
	}
}

// recordEndio puts bio_endio in the trace, naming the bio as submit_bio
// did, so that a trace viewer links each bio's submission to its
// completion (reports.Flows). It is not a scheduling point: bio_endio runs
// in the completion interrupt and its handler's own points follow.
func recordEndio(t *sim.Task, bio *Bio, bytesDone uint, err int) {
	msg := ""
	if err != 0 {
		msg = errno.Errno(-err).String()
	}
	t.World().Record(sim.KindPoint, "bio_endio", bio.Obj(), int64(bytesDone), msg)
}
