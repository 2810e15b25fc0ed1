package block

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

const eio = -int(errno.EIO)

// eopnotsupp is -EOPNOTSUPP (95 on x86), which sim/errno does not name.
const eopnotsupp = -95

// BLK_MAX_REQUEST_COUNT is how many requests a 3.x plug holds before
// blk_queue_bio flushes it.
const BLK_MAX_REQUEST_COUNT = 16

// SubmitBio is submit_bio(rw, bio), block/blk-core.c, Linux 2.6.32: the
// entry point of the block layer. A scheduling point ("submit_bio") comes
// first; then the model checks the bio's shape (invariant bio-shape) and
// hands it to generic_make_request.
func SubmitBio(t *sim.Task, rw uint64, bio *Bio) {
	t.Enter("submit_bio")
	defer t.Leave()
	t.Point("submit_bio", bio.Obj(), int64(bio.Sector))
	if bio.freed {
		t.BUG(bio.Obj(), "submit_bio of freed bio %d", bio.id)
	}
	bio.Rw |= rw
	bio.origSec = bio.Sector
	checkBioShape(t, bio)
	if l := bio.Bdev.layer; l != nil && l.OnSubmit != nil {
		l.OnSubmit(bio)
	}
	// count_vm_events(PGPGOUT/PGPGIN) and block_dump: no model state.
	GenericMakeRequest(t, bio)
}

// GenericMakeRequest is generic_make_request(bio), block/blk-core.c, Linux
// 2.6.32 (__generic_make_request; no stacked devices, so no
// current->bio_list recursion): check the bio against the end of the
// device and the hardware limit, and pass it to the queue's
// make_request_fn. A bad bio ends at once with -EIO, in the submitter's
// context.
func GenericMakeRequest(t *sim.Task, bio *Bio) {
	nrSectors := BioSectors(bio)
	err := eio
	q := bio.Bdev
	if bioCheckEOD(bio, nrSectors) {
		goto endIO
	}
	if nrSectors > q.Limits.MaxHWSectors {
		// printk(KERN_ERR "bio too big device %s (%u > %u)\n", ...)
		goto endIO
	}
	makeRequest(t, q, bio)
	return
endIO:
	BioEndio(t, bio, err)
}

// bioCheckEOD is bio_check_eod(bio, nr_sectors): is the bio beyond the end
// of the device?
func bioCheckEOD(bio *Bio, nrSectors uint) bool {
	if nrSectors == 0 {
		return false
	}
	maxsector := uint64(bio.Bdev.Capacity)
	if maxsector != 0 {
		sector := bio.Sector
		if maxsector < uint64(nrSectors) || maxsector-uint64(nrSectors) < sector {
			// handle_bad_sector(bio): "attempt to access beyond end of device"
			return true
		}
	}
	return false
}

// makeRequest is the queue's make_request_fn: __make_request, Linux
// 2.6.32, and for 3.x blk_queue_bio, Linux 3.2. With a plug (3.x) the bio
// is merged into a plugged request it continues (attempt_plug_merge) or
// becomes a new plugged request; otherwise it becomes a request that goes
// to the device at once.
func makeRequest(t *sim.Task, q *BlockDevice, bio *Bio) {
	l := q.layer
	plug := l.plugs[t]
	if plug != nil {
		if attemptPlugMerge(q, plug, bio) {
			return
		}
		rq := newRequest(t, q, bio)
		if len(plug.list) >= BLK_MAX_REQUEST_COUNT {
			blkFlushPlugList(t, plug, false)
		}
		plug.list = append(plug.list, rq)
		t.World().Record(sim.KindPoint, "blk_plug_request", rq.Obj(), int64(len(plug.list)), "")
		return
	}
	q.dispatch(t, newRequest(t, q, bio))
}

// newRequest is get_request + init_request_from_bio.
func newRequest(t *sim.Task, q *BlockDevice, bio *Bio) *Request {
	rq := &Request{Sector: int64(bio.Sector), Len: int64(bio.Size), bios: []*Bio{bio}, bdev: q,
		id: t.World().ID()}
	switch {
	case bio.Size == 0 && bio.Rw&(RW_FLUSH|RW_BARRIER) != 0:
		rq.Op = ReqFlush
	case bio.Rw&WRITE != 0:
		rq.Op = ReqWrite
	default:
		rq.Op = ReqRead
	}
	if rq.Op == ReqWrite {
		rq.PreFlush = bio.Rw&(RW_FLUSH|RW_BARRIER) != 0
		rq.FUA = bio.Rw&(RW_FUA|RW_BARRIER) != 0
	}
	rq.Sync = bio.Rw&RW_SYNC != 0
	return rq
}

// attemptPlugMerge is attempt_plug_merge, block/blk-core.c, Linux 3.2:
// merge the bio at the back or front of a plugged request of the same
// queue and direction it continues, within the queue limits
// (ll_back_merge_fn / ll_front_merge_fn). Flush and FUA requests do not
// merge.
func attemptPlugMerge(q *BlockDevice, plug *BlkPlug, bio *Bio) bool {
	if bio.Rw&(RW_FLUSH|RW_FUA|RW_BARRIER) != 0 || bio.Size == 0 {
		return false
	}
	write := bio.Rw&WRITE != 0
	for i := len(plug.list) - 1; i >= 0; i-- {
		rq := plug.list[i]
		if rq.bdev != q || (rq.Op == ReqWrite) != write || rq.Op == ReqFlush || rq.PreFlush || rq.FUA {
			continue
		}
		segs := 0
		for _, b := range rq.bios {
			segs += b.Vcnt
		}
		if uint((rq.Len+int64(bio.Size))>>9) > q.Limits.MaxSectors || uint(segs+bio.Vcnt) > q.Limits.MaxSegments {
			continue
		}
		switch {
		case rq.Sector+rq.Len>>9 == int64(bio.Sector): // bio_attempt_back_merge
			rq.bios = append(rq.bios, bio)
			rq.Len += int64(bio.Size)
			return true
		case int64(bio.Sector)+int64(bio.Size>>9) == rq.Sector: // bio_attempt_front_merge
			rq.bios = append([]*Bio{bio}, rq.bios...)
			rq.Sector = int64(bio.Sector)
			rq.Len += int64(bio.Size)
			return true
		}
	}
	return false
}

// dispatch is the queue's request_fn handing rq to the device. The data of
// a write is gathered from its pages now: this is when the model's DMA
// reads memory. It is not a scheduling point (queue_lock is held).
func (q *BlockDevice) dispatch(t *sim.Task, rq *Request) {
	if rq.Op == ReqWrite {
		var data content.Bytes
		for _, bio := range rq.bios {
			for _, bv := range bio.Vecs() {
				data = data.Append(pageData(bv.Page).Slice(int64(bv.Offset), int64(bv.Len)))
			}
		}
		rq.Data = data
	}
	rq.Complete = q.endRequest
	t.World().Record(sim.KindPoint, "blk_dispatch_request", rq.Obj(), rq.Len, rq.Op.String())
	q.Dev.Submit(t, rq)
}

// pageData is the page's contents, always PageSize bytes.
func pageData(p *mm.Page) content.Bytes {
	if p.Data.Len() != mm.PageSize {
		return p.Data.Truncate(mm.PageSize)
	}
	return p.Data
}

// endRequest is the request's completion, in the device's interrupt
// task: blk_end_request -> blk_update_request -> req_bio_endio, Linux
// 2.6.32, or for bios with the 2.6.12 handler end_that_request_first ->
// __end_that_request_first, Linux 2.6.12. The first rq.Bytes bytes are
// good: a read's data goes into the pages, and those bytes complete with
// error 0; the rest complete with rq.Err (-EIO if the device gave none).
func (q *BlockDevice) endRequest(t *sim.Task, rq *Request) {
	if rq.done {
		t.BUG(rq.Obj(), "request %d completed twice", rq.id)
	}
	rq.done = true
	if !q.K.Era().BlkEndRequest {
		t.Enter("end_that_request_first") // blk_end_request came in 2.6.25
	} else {
		t.Enter("blk_end_request")
	}
	defer t.Leave()
	errRest := eio
	if rq.Err != 0 {
		errRest = rq.Err.Neg()
	}
	good := rq.Bytes
	if rq.Err == 0 {
		good = rq.Len
	}
	if rq.Op == ReqFlush {
		err := 0
		if rq.Err != 0 {
			err = rq.Err.Neg()
		}
		for _, bio := range rq.bios {
			BioEndio(t, bio, err)
		}
		return
	}
	var pos int64
	for _, bio := range rq.bios {
		size := int64(bio.Size)
		nGood := min(max(good-pos, 0), size)
		if rq.Op == ReqRead && nGood > 0 {
			copyToBio(bio, rq.Data.Slice(pos, nGood))
		}
		pos += size
		if bio.EndIO2612 != nil {
			// 2.6.12: the driver ends the good sectors, then the rest
			// with an error; each call reaches bi_end_io.
			if nGood > 0 {
				BioEndio2612(t, bio, uint(nGood), 0)
			}
			if nGood < size {
				BioEndio2612(t, bio, uint(size-nGood), errRest)
			}
			continue
		}
		if nGood > 0 {
			reqBioEndio(t, bio, uint(nGood), 0)
		}
		if nGood < size {
			reqBioEndio(t, bio, uint(size-nGood), errRest)
		}
	}
}

// reqBioEndio is req_bio_endio(rq, bio, nbytes, error), block/blk-core.c,
// Linux 2.6.32: account nbytes of the bio as done; when none are left,
// bio_endio.
func reqBioEndio(t *sim.Task, bio *Bio, nbytes uint, err int) {
	if err != 0 {
		bio.Flags &^= 1 << BIO_UPTODATE
	} else if !BioFlagged(bio, BIO_UPTODATE) {
		err = eio
	}
	if nbytes > bio.Size {
		nbytes = bio.Size
	}
	bio.Size -= nbytes
	bio.Sector += uint64(nbytes >> 9)
	if bio.Size == 0 {
		BioEndio(t, bio, err)
	}
}

// copyToBio puts data (the bytes read for the start of the bio) into the
// bio's pages.
func copyToBio(bio *Bio, data content.Bytes) {
	var pos int64
	n := data.Len()
	for _, bv := range bio.Vecs() {
		if pos >= n {
			return
		}
		l := min(int64(bv.Len), n-pos)
		bv.Page.Data = pageData(bv.Page).Overwrite(int64(bv.Offset), data.Slice(pos, l))
		pos += l
	}
}

// BlkPlug is struct blk_plug, Linux 3.2: requests a task holds back so
// that they can be merged and sent together.
type BlkPlug struct {
	list []*Request
}

// Pending is the number of requests waiting in the plug.
func (p *BlkPlug) Pending() int { return len(p.list) }

// BlkStartPlug is blk_start_plug(plug), block/blk-core.c, Linux 3.2:
// from now on the task's bios collect in plug (unless an outer plug is
// already active, which keeps collecting them).
func BlkStartPlug(t *sim.Task, plug *BlkPlug) {
	l := layerOf(t)
	plug.list = plug.list[:0]
	if l.plugs[t] == nil {
		// If this is a nested plug, don't actually assign it. It will be
		// flushed on its own.
		l.plugs[t] = plug
	}
}

// BlkFinishPlug is blk_finish_plug(plug), block/blk-core.c, Linux 3.2:
// send everything in the plug to the devices and detach it from the task.
func BlkFinishPlug(t *sim.Task, plug *BlkPlug) {
	l := layerOf(t)
	blkFlushPlugList(t, plug, false)
	if l.plugs[t] == plug {
		delete(l.plugs, t)
	}
}

// blkFlushPlugList is blk_flush_plug_list(plug, from_schedule), Linux
// 3.2: dispatch the plugged requests, grouped by queue (list_sort by
// queue is stable, so within a queue they keep their order).
// from_schedule is handled by Layer.observe.
func blkFlushPlugList(t *sim.Task, plug *BlkPlug, fromSchedule bool) {
	if len(plug.list) == 0 {
		return
	}
	list := plug.list
	plug.list = nil
	t.Point("blk_flush_plug_list", sim.Obj{Class: "plug"}, int64(len(list)))
	for _, rq := range list {
		rq.bdev.dispatch(t, rq)
	}
}

// BlkdevIssueFlush is blkdev_issue_flush(bdev, error_sector),
// block/blk-barrier.c, Linux 2.6.32: send an empty barrier (a cache flush)
// and wait for it. -EOPNOTSUPP if the device does not support flushes,
// -EIO if it failed.
func BlkdevIssueFlush(t *sim.Task, bdev *BlockDevice) int {
	t.Enter("blkdev_issue_flush")
	defer t.Leave()
	var wait sim.Completion
	wait.Name = "blkdev_issue_flush"
	ret := 0
	bio := bioAllocBioset(t, GFP_KERNEL, 0)
	bio.EndIO = func(t *sim.Task, bio *Bio, err int) { // bio_end_empty_barrier
		if err != 0 {
			if err == eopnotsupp {
				bio.Flags |= 1 << BIO_EOPNOTSUPP
			}
			bio.Flags &^= 1 << BIO_UPTODATE
		}
		wait.Complete(t)
	}
	if bdev.K != nil && bdev.K.Era().EndIOBytesDone {
		bio.EndIO2612 = func(t *sim.Task, bio *Bio, bytesDone uint, err int) int {
			bio.EndIO(t, bio, err)
			return 0
		}
	}
	bio.Bdev = bdev
	BioGet(bio)
	rw := uint64(WRITE_BARRIER)
	if bdev.K != nil && bdev.K.Era().WriteFlush {
		rw = WRITE_FLUSH // 2.6.37+: an empty REQ_FLUSH instead of a barrier
	}
	SubmitBio(t, rw, bio)
	wait.Wait(t)
	// The driver must store the error location in ->bi_sector, if it
	// supports it. For non-stacked drivers, this should be copied from
	// rq->sector.
	if BioFlagged(bio, BIO_EOPNOTSUPP) {
		ret = eopnotsupp
	} else if !BioFlagged(bio, BIO_UPTODATE) {
		ret = eio
	}
	BioPut(t, bio)
	return ret
}
