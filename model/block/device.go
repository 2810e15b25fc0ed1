package block

import (
	"fmt"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// SectorSize is the size of a disk sector, the unit of bi_sector.
const SectorSize = 512

// Device is what the block layer needs from a disk: a place to send
// requests. It is the request_fn of the model's queue.
//
// Submit is called with the queue lock held, in the submitting task or in
// kblockd: it must not sleep and must not reach a scheduling point. It
// takes the request and arranges its completion: later (after the
// device's latency), in an interrupt-context task the device spawns (for
// example with World.AfterIRQ), it sets rq.Err, rq.Bytes and, for a read,
// rq.Data, and calls rq.Complete(irqTask, rq) exactly once.
//
// A request is one of:
//   - ReqRead of Len bytes from Sector: complete with Data holding the
//     first Bytes bytes read (Bytes == Len unless the read failed part way).
//   - ReqWrite of Data (Len bytes) to Sector. PreFlush asks for the
//     volatile cache to be flushed before the write (REQ_FLUSH, or a
//     2.6.32 barrier), FUA that the write itself reach stable storage
//     before completion (REQ_FUA).
//   - ReqFlush: an empty cache flush (blkdev_issue_flush).
//
// Err is 0 for success or the error (EIO, EOPNOTSUPP...); Bytes is how
// many bytes from the start succeeded: the block layer completes those
// bytes' bios as good and the rest with the error.
type Device interface {
	Submit(t *sim.Task, rq *Request)
}

// ReqOp is the operation of a Request.
type ReqOp uint8

// Request operations.
const (
	ReqRead ReqOp = iota + 1
	ReqWrite
	ReqFlush
)

var reqOpNames = [...]string{ReqRead: "read", ReqWrite: "write", ReqFlush: "flush"}

func (o ReqOp) String() string {
	if o >= ReqRead && o <= ReqFlush {
		return reqOpNames[o]
	}
	return fmt.Sprintf("reqop(%d)", uint8(o))
}

// Request is struct request as the device sees it: one contiguous I/O
// made of one or more bios (several when a 3.x plug merged them).
type Request struct {
	Op       ReqOp
	Sector   int64
	Len      int64         // bytes
	Data     content.Bytes // write payload; read result on completion
	FUA      bool          // REQ_FUA
	PreFlush bool          // REQ_FLUSH (or a 2.6.32 barrier)
	Sync     bool          // REQ_SYNC: a waiter is waiting

	// Completion, filled by the device before it calls Complete.
	Err   errno.Errno
	Bytes int64

	// Complete is the block layer's completion (blk_end_request); the
	// device calls it once, from an interrupt-context task.
	Complete func(t *sim.Task, rq *Request)

	bios []*Bio
	bdev *BlockDevice
	id   int64
	done bool
}

// Obj names the request in traces: class "request", A its id, B its
// first sector.
func (rq *Request) Obj() sim.Obj { return sim.Obj{Class: "request", A: rq.id, B: rq.Sector} }

// Bios returns the bios the request carries, in sector order.
func (rq *Request) Bios() []*Bio { return rq.bios }

func (rq *Request) String() string {
	return fmt.Sprintf("%s sectors %d+%d", rq.Op, rq.Sector, rq.Len/SectorSize)
}
