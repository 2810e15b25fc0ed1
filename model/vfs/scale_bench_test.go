package vfs_test

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/model/vfs"
	"github.com/wbsim/wbsim/model/vfs/ext2"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// BenchmarkScale: dirty a file of n 4 KiB pages with one write(2) and
// fsync it, on kernel 3.x with mpage writepages, blockfs's extent layout
// (so that a million blocks map in a few extents) on the fault-injecting
// disk, under the serial schedule. One op is one whole run, world
// building included. Reports ns, heap bytes and scheduling points per
// page, and the process's peak RSS. The 4 GiB size takes seconds: run
// it with -benchtime 1x. WBSIM_LONG=1 adds 4M pages (16 GiB; about a
// minute, under 2 GiB of RSS).
func BenchmarkScale(b *testing.B) {
	sizes := []int64{1 << 10, 1 << 14, 1 << 18, 1 << 20}
	if os.Getenv("WBSIM_LONG") != "" {
		sizes = append(sizes, 1<<22)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("pages=%d", n), func(b *testing.B) {
			var steps int64
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			for range b.N {
				steps += scaleRun(b, n)
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			pages := float64(int64(b.N) * n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/pages, "ns/page")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/pages, "B/page")
			b.ReportMetric(float64(steps)/pages, "steps/page")
			// The sizes run in ascending order in one process, so this is
			// the peak so far: an upper bound for this size.
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB") // Maxrss is in KiB on Linux
		})
	}
}

// scaleRun builds a fresh machine, writes and fsyncs n pages, and returns
// the run's scheduling points.
func scaleRun(b *testing.B, n int64) int64 {
	// No step or time budget to speak of; the trace keeps a few events
	// for a failure report (its hash covers all of them regardless).
	w := sim.New(sim.Config{Seed: 1, Strategy: &sim.RoundRobin{}, MaxSteps: 1 << 62, MaxTime: 1 << 62,
		TraceKeep: 32})
	k := mm.NewKernel(w, mm.V3x)
	mpage.Setup(k, mpage.Config{})
	blocks := n + 64 // block 0 is never allocated; a little spare
	disk, err := faultdisk.New(w, faultdisk.Config{Sectors: blocks * 8})
	if err != nil {
		b.Fatal(err)
	}
	bdev := block.NewBlockDevice(k, "sda", block.NewDiskDevice(block.Init(k), disk), blocks*8, 512)
	fs := blockfs.NewFs(k, bdev, blockfs.Options{BlockSize: 4096, Layout: blockfs.LayoutExtent,
		Blocks: uint64(blocks)})
	mpage.UseMpage(fs)
	sb := ext2.Mount(vfs.New(k), fs, ext2.Options{})
	ino := ext2.Create(sb, 12)
	size := n * mm.PageSize
	var wrote int64
	ret := -1
	w.Spawn("writer", func(t *sim.Task) {
		f, err := vfs.Open(t, ino, vfs.FMODE_WRITE, nil)
		if err != 0 {
			b.Errorf("open: %d", err)
			return
		}
		wrote = vfs.Pwrite(t, f, content.Fill(size, 1, 0), 0)
		ret = vfs.Fsync(t, f)
	})
	r := w.Run()
	if r.Failure != nil {
		b.Fatalf("%s", r.Failure.Report())
	}
	if wrote != size || ret != 0 {
		b.Fatalf("pwrite returned %d (want %d), fsync %d", wrote, size, ret)
	}
	if got := disk.Stats().WriteBytes; got < size {
		b.Fatalf("%d bytes reached the disk, want at least %d", got, size)
	}
	return r.Steps
}
