// Package blocktest gives the model's tests the disk the product uses, a
// faultdisk.Disk behind block.DiskDevice, with what tests need on top: the
// list of requests the block layer sent, a request failure chosen while
// the test runs (faultdisk's plan is fixed when the disk is made, and a
// test may only learn the sector to fail, say an indirect block, from the
// file system it built), and byte-addressed views of the disk.
package blocktest

import (
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// Device is block.DiskDevice on Disk, logging and optionally failing the
// requests it is given.
type Device struct {
	block.DiskDevice
	w *sim.World
	// Log lists every request in dispatch order.
	Log []*block.Request
	// Fail, if set, decides a request's fate when it is submitted: an
	// error and how many bytes from the start take effect first (the rest
	// never reaches the disk, as faultdisk's partial action). 0 means the
	// request goes to the disk untouched.
	Fail func(rq *block.Request) (errno.Errno, int64)
}

// New makes a disk of the given capacity on w with cfg (its Sectors is
// set from sectors) and wires it to k's block layer, as the product does.
// It panics on an invalid configuration: a test bug.
func New(w *sim.World, k *mm.Kernel, sectors int64, cfg faultdisk.Config) *Device {
	cfg.Sectors = sectors
	disk, err := faultdisk.New(w, cfg)
	if err != nil {
		panic(err)
	}
	return &Device{DiskDevice: block.NewDiskDevice(block.Init(k), disk), w: w}
}

// Latency is a Config with every request served in d (flushes too).
func Latency(d sim.Time) faultdisk.Config {
	return faultdisk.Config{Read: faultdisk.Fixed(d), Write: faultdisk.Fixed(d), Flush: faultdisk.Fixed(d)}
}

// Submit implements block.Device.
func (d *Device) Submit(t *sim.Task, rq *block.Request) {
	d.Log = append(d.Log, rq)
	if d.Fail != nil && rq.Op != block.ReqFlush {
		if e, good := d.Fail(rq); e != 0 {
			d.fail(t, rq, e, min(max(good, 0), rq.Len))
			return
		}
	}
	d.DiskDevice.Submit(t, rq)
}

// fail sends the first good bytes of rq to the disk and completes rq with
// err once they are done (at once, from an interrupt, if good is 0).
func (d *Device) fail(t *sim.Task, rq *block.Request, err errno.Errno, good int64) {
	finish := func(it *sim.Task, done int64, data content.Bytes) {
		rq.Err, rq.Bytes = err, done
		if rq.Op == block.ReqRead {
			rq.Data = data
		}
		rq.Complete(it, rq)
	}
	if good == 0 {
		d.w.AfterIRQ(0, "blocktest_fail", func(it *sim.Task) { finish(it, 0, content.Bytes{}) })
		return
	}
	part := &block.Request{Op: rq.Op, Sector: rq.Sector, Len: good, FUA: rq.FUA, PreFlush: rq.PreFlush, Sync: rq.Sync}
	if rq.Op == block.ReqWrite {
		part.Data = rq.Data.Slice(0, good)
	}
	part.Complete = func(it *sim.Task, p *block.Request) {
		if p.Err != 0 {
			err = p.Err
		}
		finish(it, p.Bytes, p.Data)
	}
	d.DiskDevice.Submit(t, part)
}

// Read is what a read of byte range [off, off+n) returns now, through the
// volatile cache.
func (d *Device) Read(off, n int64) content.Bytes { return bytes(d.Disk.Read, off, n) }

// Stable is the durable contents of byte range [off, off+n): what a crash
// that drops the volatile cache leaves.
func (d *Device) Stable(off, n int64) content.Bytes { return bytes(d.Disk.Stable, off, n) }

// bytes reads the sectors covering [off, off+n) with read and cuts the
// range out.
func bytes(read func(sector, count int64) content.Bytes, off, n int64) content.Bytes {
	first := off / block.SectorSize
	last := (off + n + block.SectorSize - 1) / block.SectorSize
	return read(first, last-first).Slice(off-first*block.SectorSize, n)
}

// Crash drops the volatile cache and powers the disk on again: what was
// not flushed is lost, and later requests see what survived.
func (d *Device) Crash() {
	d.Disk.Crash(faultdisk.CrashDropAll)
	d.Disk.Remount()
}
