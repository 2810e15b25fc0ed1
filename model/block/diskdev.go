package block

import (
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim"
)

// DiskDevice is the request_fn that drives a faultdisk.Disk: the
// fault-injecting virtual disk behind the model's block layer. The block
// layer keeps its own request queue, so requests go in through
// Disk.Queue, which neither sleeps nor is a scheduling point, as Device
// requires.
//
// A write with PreFlush (REQ_FLUSH, or a 2.6.32 barrier) is a cache flush
// followed, once the flush has completed, by the write, which is how
// blk-flush sequences a flush-before-write on a device without native
// support; a failed flush fails the write.
type DiskDevice struct{ Disk *faultdisk.Disk }

// NewDiskDevice wires d to the kernel's block layer: it returns the
// device and routes the block layer's allocation sites (bio_alloc, ...)
// to the plan's alloc rules. Hook Congested into the mapping's
// BackingDevInfo.WriteCongestedFn for bdi_write_congested.
func NewDiskDevice(l *Layer, d *faultdisk.Disk) DiskDevice {
	l.AllocFault = d.AllocFails
	return DiskDevice{Disk: d}
}

// Submit implements Device.
func (dd DiskDevice) Submit(_ *sim.Task, rq *Request) {
	if rq.Op == ReqWrite && rq.PreFlush {
		dd.Disk.Queue(&faultdisk.IO{Op: faultdisk.OpFlush, Done: func(t *sim.Task, io *faultdisk.IO) {
			if io.Err != 0 {
				rq.Err, rq.Bytes = io.Err, 0
				rq.Complete(t, rq)
				return
			}
			dd.Disk.Queue(dd.io(rq))
		}})
		return
	}
	dd.Disk.Queue(dd.io(rq))
}

func (dd DiskDevice) io(rq *Request) *faultdisk.IO {
	io := &faultdisk.IO{Sector: rq.Sector, Count: rq.Len / SectorSize, FUA: rq.FUA, Private: rq}
	switch rq.Op {
	case ReqRead:
		io.Op = faultdisk.OpRead
	case ReqWrite:
		io.Op, io.Data = faultdisk.OpWrite, rq.Data
	case ReqFlush:
		io.Op, io.Count, io.FUA = faultdisk.OpFlush, 0, false
	}
	io.Done = func(t *sim.Task, io *faultdisk.IO) {
		rq.Err, rq.Bytes = io.Err, io.DoneBytes
		if rq.Op == ReqRead {
			rq.Data = io.ReadData
		}
		rq.Complete(t, rq)
	}
	return io
}

// Congested reports write congestion, for mm.BackingDevInfo.WriteCongestedFn.
func (dd DiskDevice) Congested() bool { return dd.Disk.Congested() }
