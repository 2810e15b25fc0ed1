package blockfs

import (
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/block/blocktest"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// env is one world with a kernel, a faultdisk disk (the product's, with
// blocktest's request log and failures), a block device and a file system
// on it.
type env struct {
	w    *sim.World
	k    *mm.Kernel
	dev  *blocktest.Device
	bdev *block.BlockDevice
	fs   *Fs
}

func newEnv(seed uint64, v mm.Version, opts Options, capacitySectors int64) *env {
	return newEnvOn(sim.New(sim.Config{Seed: seed, TraceKeep: 64}), v, opts, capacitySectors, faultdisk.Config{})
}

// newEnvOn builds the machine on w with a disk configured by cfg.
func newEnvOn(w *sim.World, v mm.Version, opts Options, capacitySectors int64, cfg faultdisk.Config) *env {
	k := mm.NewKernel(w, v)
	dev := blocktest.New(w, k, capacitySectors, cfg)
	bdev := block.NewBlockDevice(k, "sda", dev, capacitySectors, 512)
	fs := NewFs(k, bdev, opts)
	return &env{w: w, k: k, dev: dev, bdev: bdev, fs: fs}
}

// run runs body as the only task and fails the test on a failed run.
func (e *env) run(tb testing.TB, body func(t *sim.Task)) *sim.Result {
	tb.Helper()
	e.w.Spawn("test", body)
	res := e.w.Run()
	if res.Failure != nil {
		tb.Fatalf("run failed: %s", res.Failure.Report())
	}
	return res
}

// fileData is what a file should hold: stamp s wrote bytes [off, off+n)
// (content.Fill(n, s, off): the source position is the file offset, so a
// byte that lands at the wrong offset shows).
func fileData(size int64, writes []write) content.Bytes {
	d := content.Zeros(size)
	for _, wr := range writes {
		end := min(wr.off+wr.n, size)
		if wr.off >= end {
			continue
		}
		d = d.Overwrite(wr.off, content.Fill(end-wr.off, wr.stamp, wr.off))
	}
	return d
}

type write struct {
	off, n int64
	stamp  content.Stamp
}

// dirtyPage puts the expected contents of page index into the page cache,
// uptodate and dirty, as a write(2) through the buffer path would leave it.
func dirtyPage(t *sim.Task, m *mm.AddressSpace, index uint64, data content.Bytes) *mm.Page {
	p := mm.GrabCachePage(t, m, index)
	p.Data = data
	mm.SetPageUptodate(t, p)
	mm.SetPageDirty(t, p)
	mm.UnlockPage(t, p)
	return p
}
