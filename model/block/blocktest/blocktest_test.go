package blocktest

import (
	"testing"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

const (
	testSectors = 1024
	lat         = sim.Millisecond
	settle      = 10 * lat // long enough for any one request to complete
)

func newDev(t *testing.T) (*sim.World, *Device) {
	t.Helper()
	w := sim.New(sim.Config{Seed: 1})
	k := mm.NewKernel(w, mm.V3x)
	return w, New(w, k, testSectors, Latency(lat))
}

// done records a request's completions.
type done struct {
	n     int
	err   errno.Errno
	bytes int64
}

func (d *done) complete(_ *sim.Task, rq *block.Request) {
	d.n, d.err, d.bytes = d.n+1, rq.Err, rq.Bytes
}

func write(sector int64, data content.Bytes, d *done) *block.Request {
	return &block.Request{Op: block.ReqWrite, Sector: sector, Len: data.Len(), Data: data, Complete: d.complete}
}

func flush(d *done) *block.Request { return &block.Request{Op: block.ReqFlush, Complete: d.complete} }

func run(t *testing.T, w *sim.World, body func(tk *sim.Task)) {
	t.Helper()
	w.Spawn("test", body)
	if r := w.Run(); r.Failure != nil {
		t.Fatal(r.Failure.Report())
	}
}

// Log lists every request in dispatch order, flushes included, and a
// write reaches the volatile cache (Read) but not stable storage (Stable)
// until a flush.
func TestLogReadStable(t *testing.T) {
	w, dev := newDev(t)
	data := content.Fill(4096, 1, 0)
	off := int64(8 * block.SectorSize)
	var wd, fd done
	var rq1, rq2 *block.Request
	var readBefore, stableBefore, stableAfter content.Bytes
	run(t, w, func(tk *sim.Task) {
		rq1 = write(8, data, &wd)
		dev.Submit(tk, rq1)
		tk.Sleep(settle)
		readBefore, stableBefore = dev.Read(off, data.Len()), dev.Stable(off, data.Len())
		rq2 = flush(&fd)
		dev.Submit(tk, rq2)
		tk.Sleep(settle)
		stableAfter = dev.Stable(off, data.Len())
	})
	if len(dev.Log) != 2 || dev.Log[0] != rq1 || dev.Log[1] != rq2 {
		t.Fatalf("log %v, want the write then the flush", dev.Log)
	}
	if wd.n != 1 || wd.err != 0 || wd.bytes != data.Len() || fd.n != 1 || fd.err != 0 {
		t.Errorf("completions: write %+v, flush %+v", wd, fd)
	}
	if !readBefore.Equal(data) {
		t.Errorf("Read after the write: %v, want %v", readBefore, data)
	}
	if !stableBefore.Equal(content.Zeros(data.Len())) {
		t.Errorf("Stable before the flush: %v, want zeros", stableBefore)
	}
	if !stableAfter.Equal(data) {
		t.Errorf("Stable after the flush: %v, want %v", stableAfter, data)
	}
	// Byte ranges that do not start or end on a sector are cut exactly.
	if got, want := dev.Read(off+100, 1000), data.Slice(100, 1000); !got.Equal(want) {
		t.Errorf("Read(off+100, 1000): %v, want %v", got, want)
	}
}

// Fail with no good bytes: nothing reaches the disk and the request
// completes with the error and 0 bytes. Flushes are never failed.
func TestFailWhole(t *testing.T) {
	w, dev := newDev(t)
	dev.Fail = func(rq *block.Request) (errno.Errno, int64) { return errno.EIO, 0 }
	data := content.Fill(4096, 2, 0)
	var wd, fd done
	run(t, w, func(tk *sim.Task) {
		dev.Submit(tk, write(16, data, &wd))
		dev.Submit(tk, flush(&fd))
		tk.Sleep(settle)
	})
	if wd.n != 1 || wd.err != errno.EIO || wd.bytes != 0 {
		t.Errorf("failed write completed %+v, want once with EIO and 0 bytes", wd)
	}
	if fd.n != 1 || fd.err != 0 {
		t.Errorf("flush completed %+v, want once without error", fd)
	}
	off := int64(16 * block.SectorSize)
	if got := dev.Read(off, data.Len()); !got.Equal(content.Zeros(data.Len())) {
		t.Errorf("disk after a failed write: %v, want zeros", got)
	}
	if len(dev.Log) != 2 {
		t.Errorf("log has %d requests, want 2 (failed ones are logged too)", len(dev.Log))
	}
}

// Fail with a good prefix: the prefix reaches the disk, the rest does
// not, and the request completes with the error and the prefix's length.
func TestFailPartial(t *testing.T) {
	w, dev := newDev(t)
	const good = 3 * block.SectorSize
	dev.Fail = func(rq *block.Request) (errno.Errno, int64) {
		if rq.Op == block.ReqWrite && rq.Sector == 32 {
			return errno.EIO, good
		}
		return 0, 0
	}
	data := content.Fill(4096, 3, 0)
	other := content.Fill(4096, 4, 0)
	var wd, od, fd done
	run(t, w, func(tk *sim.Task) {
		dev.Submit(tk, write(32, data, &wd))
		dev.Submit(tk, write(48, other, &od)) // not chosen: untouched
		tk.Sleep(settle)
		dev.Submit(tk, flush(&fd))
		tk.Sleep(settle)
	})
	if wd.n != 1 || wd.err != errno.EIO || wd.bytes != good {
		t.Errorf("partly failed write completed %+v, want once with EIO and %d bytes", wd, good)
	}
	if od.n != 1 || od.err != 0 || od.bytes != other.Len() {
		t.Errorf("other write completed %+v", od)
	}
	off := int64(32 * block.SectorSize)
	want := content.Zeros(data.Len()).Overwrite(0, data.Slice(0, good))
	if got := dev.Stable(off, data.Len()); !got.Equal(want) {
		t.Errorf("disk after a partial failure: %v, want the %d-byte prefix then zeros %v", got, good, want)
	}
	if got := dev.Read(int64(48*block.SectorSize), other.Len()); !got.Equal(other) {
		t.Errorf("other write on disk: %v, want %v", got, other)
	}
}

// Crash drops what was not flushed, keeps what was, and the disk serves
// requests again afterwards.
func TestCrash(t *testing.T) {
	w, dev := newDev(t)
	flushed := content.Fill(4096, 5, 0)
	lost := content.Fill(4096, 6, 0)
	after := content.Fill(4096, 7, 0)
	var d1, d2, d3, fd done
	var afterRead content.Bytes
	run(t, w, func(tk *sim.Task) {
		dev.Submit(tk, write(64, flushed, &d1))
		tk.Sleep(settle)
		dev.Submit(tk, flush(&fd))
		tk.Sleep(settle)
		dev.Submit(tk, write(80, lost, &d2))
		tk.Sleep(settle)
		dev.Crash()
		dev.Submit(tk, write(96, after, &d3))
		tk.Sleep(settle)
		afterRead = dev.Read(96*block.SectorSize, after.Len())
	})
	if got := dev.Read(64*block.SectorSize, flushed.Len()); !got.Equal(flushed) {
		t.Errorf("flushed data after crash: %v, want %v", got, flushed)
	}
	if got := dev.Read(80*block.SectorSize, lost.Len()); !got.Equal(content.Zeros(lost.Len())) {
		t.Errorf("unflushed data after crash: %v, want zeros", got)
	}
	if d3.n != 1 || d3.err != 0 || !afterRead.Equal(after) {
		t.Errorf("write after crash: %+v, read %v", d3, afterRead)
	}
}
