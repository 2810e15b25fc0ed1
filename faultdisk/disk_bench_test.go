package faultdisk

import (
	"runtime"
	"testing"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// Compare with sim's BenchmarkSchedulerDecision in the same invocation:
//
//	go test -run '^$' -bench 'SchedulerDecision|Disk|Crash' -benchmem ./sim/ ./faultdisk/

const blockSectors = 4096 / SectorSize

// benchWorld is a world with budgets large enough for b.N requests.
func benchWorld(n int) *sim.World {
	return sim.New(sim.Config{Seed: 1, MaxSteps: int64(n)*8 + 1000, MaxTime: sim.Time(1) << 62})
}

// driveWrites submits n 4 KiB writes at consecutive blocks from one task,
// without waiting for them (the queue depth bounds how many are out), with
// a flush after every flushEvery writes (0: never), and reuses the IOs.
func driveWrites(b *testing.B, n, flushEvery int) *Disk {
	w := benchWorld(n)
	d := mustDisk(b, w, Config{})
	free := make([]*IO, 0, DefaultQueueDepth+1)
	done := func(_ *sim.Task, io *IO) { free = append(free, io) }
	data := make([]content.Bytes, 64)
	for i := range data {
		data[i] = content.Fill(4096, content.Stamp(i+1), 0)
	}
	blocks := d.Sectors() / blockSectors
	w.Spawn("writer", func(t *sim.Task) {
		for i := range n {
			var io *IO
			if k := len(free); k > 0 {
				io, free = free[k-1], free[:k-1]
			} else {
				io = &IO{Done: done}
			}
			io.Op, io.FUA, io.Count = OpWrite, false, blockSectors
			io.Sector = int64(i) % blocks * blockSectors
			io.Data = data[i%len(data)]
			d.Submit(t, io)
			if flushEvery > 0 && i%flushEvery == flushEvery-1 {
				d.Submit(t, &IO{Op: OpFlush, Done: done})
			}
		}
	})
	b.ResetTimer()
	if r := w.Run(); !r.OK() {
		b.Fatal(r.Failure.Report())
	}
	return d
}

// BenchmarkDiskWrite4K is one 4 KiB write request: Submit (a scheduling
// point), dispatch, completion, the callback in the interrupt task. The
// data goes to the volatile cache; the medium's cost is paid at flush
// (BenchmarkDiskWrite4KFlush128).
func BenchmarkDiskWrite4K(b *testing.B) {
	b.ReportAllocs()
	driveWrites(b, b.N, 0)
}

// BenchmarkDiskWrite4KFlush128 adds a flush after every 128 writes, so each
// write also pays for reaching the medium (a Store write).
func BenchmarkDiskWrite4KFlush128(b *testing.B) {
	b.ReportAllocs()
	driveWrites(b, b.N, 128)
}

// BenchmarkDiskWrite4KSync submits one write at a time and sleeps until it
// completed: each request then costs an interrupt task of its own.
func BenchmarkDiskWrite4KSync(b *testing.B) {
	b.ReportAllocs()
	n := b.N
	w := benchWorld(4 * n)
	d := mustDisk(b, w, Config{})
	data := content.Fill(4096, 1, 0)
	w.Spawn("writer", func(t *sim.Task) {
		var c sim.Completion
		c.Name = "io"
		io := &IO{Done: func(irq *sim.Task, _ *IO) { c.Complete(irq) }}
		for i := range n {
			io.Op, io.Count, io.Data = OpWrite, blockSectors, data
			io.Sector = int64(i%(1<<20)) * blockSectors
			d.Submit(t, io)
			c.Wait(t)
		}
	})
	b.ResetTimer()
	if r := w.Run(); !r.OK() {
		b.Fatal(r.Failure.Report())
	}
}

// BenchmarkDiskRead4K is one 4 KiB read request of data on the medium (64K
// blocks, read in a scrambled order), from one task that does not wait.
func BenchmarkDiskRead4K(b *testing.B) {
	b.ReportAllocs()
	n := b.N
	w := benchWorld(n)
	d := mustDisk(b, w, Config{})
	const blocks = 1 << 16
	for i := range int64(blocks) {
		d.cache.durable.Write(i*4096, content.Fill(4096, content.Stamp(i+1), 0))
	}
	free := make([]*IO, 0, DefaultQueueDepth+1)
	done := func(_ *sim.Task, io *IO) { free = append(free, io) }
	w.Spawn("reader", func(t *sim.Task) {
		for i := range n {
			var io *IO
			if k := len(free); k > 0 {
				io, free = free[k-1], free[:k-1]
			} else {
				io = &IO{Done: done}
			}
			io.Op, io.Count = OpRead, blockSectors
			io.Sector = int64(uint64(i)*0x9E3779B97F4A7C15&(blocks-1)) * blockSectors
			d.Submit(t, io)
		}
	})
	b.ResetTimer()
	if r := w.Run(); !r.OK() {
		b.Fatal(r.Failure.Report())
	}
}

// BenchmarkCrash is a crash of a disk with 1M written sectors: 128K 4 KiB
// writes, the first half flushed, the second half in the volatile cache.
func BenchmarkCrash(b *testing.B) {
	const writes = (1 << 20) / blockSectors
	w := sim.New(sim.Config{Seed: 1})
	d := mustDisk(b, w, Config{})
	for i := range int64(writes) {
		d.cache.completeWrite(d, i*blockSectors, content.Fill(4096, content.Stamp(i+1), 0), false, 0)
		if i == writes/2-1 {
			d.cache.flushed(d, d.cache.completed, 0)
		}
	}
	durable := d.cache.durable
	var entries []entry
	for i := range d.cache.entries.n {
		entries = append(entries, *d.cache.entries.at(i))
	}
	for _, mode := range []CrashMode{CrashDropAll, CrashKeepAll, CrashKeepRandom, CrashTear} {
		b.Run(mode.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				d.cache.durable = durable.Clone()
				for _, e := range entries {
					d.cache.entries.push(e)
				}
				b.StartTimer()
				d.Crash(mode)
				d.Remount()
			}
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// benchMemory writes 1M distinct 4 KiB blocks through a disk and reports
// the live heap the disk holds per block.
func benchMemory(b *testing.B, flushEvery int, readAtEnd bool) {
	const n = 1 << 20
	var perBlock float64
	for b.Loop() {
		b.StopTimer()
		before := heapInUse()
		b.StartTimer()
		w := benchWorld(2 * n)
		d := mustDisk(b, w, Config{})
		w.Spawn("writer", func(t *sim.Task) {
			done := func(*sim.Task, *IO) {}
			for i := range int64(n) {
				d.Submit(t, &IO{Op: OpWrite, Sector: i * blockSectors, Count: blockSectors,
					Data: content.Fill(4096, content.Stamp(i+1), 0), Done: done})
				if flushEvery > 0 && i%int64(flushEvery) == int64(flushEvery)-1 {
					d.Submit(t, &IO{Op: OpFlush, Done: done})
				}
			}
			if readAtEnd {
				syncIO(t, d, read(0, blockSectors))
			}
		})
		if r := w.Run(); !r.OK() {
			b.Fatal(r.Failure.Report())
		}
		b.StopTimer()
		w = nil
		perBlock = float64(heapInUse()-before) / n
		runtime.KeepAlive(d)
		b.StartTimer()
	}
	b.ReportMetric(perBlock, "bytes/block")
	b.ReportMetric(perBlock*n/(1<<20), "MiB/1M-blocks")
}

// BenchmarkDiskMemoryFlushed: every block reached the medium.
func BenchmarkDiskMemoryFlushed(b *testing.B) { benchMemory(b, 1024, false) }

// BenchmarkDiskMemoryCached: no flush; every block sits in the volatile
// cache, and a read has made the cache build its read index.
func BenchmarkDiskMemoryCached(b *testing.B) { benchMemory(b, 0, true) }

// BenchmarkCrashStates64 enumerates the crash states of a 64-write window
// (64 cached 4 KiB writes since the last flush, each to its own block),
// deduplicated and capped at 10,000 states, and builds every image.
func BenchmarkCrashStates64(b *testing.B) {
	w := benchWorld(1000)
	d := mustDisk(b, w, Config{})
	w.Spawn("writer", func(t *sim.Task) {
		for i := range 64 {
			io := &IO{Op: OpWrite, Sector: int64(i) * blockSectors, Count: blockSectors,
				Data: content.Fill(4096, content.Stamp(i+1), 0), Done: func(*sim.Task, *IO) {}}
			d.Submit(t, io)
		}
		t.Sleep(sim.Second)
		b.ResetTimer()
		for range b.N {
			cs := d.CrashStates(false, 10000)
			if cs.Len() != 10000 || !cs.Capped {
				b.Fatalf("%d states, capped %v", cs.Len(), cs.Capped)
			}
			for i := range cs.Len() {
				cs.Image(i)
			}
		}
	})
	if r := w.Run(); !r.OK() {
		b.Fatal(r.Failure.Report())
	}
}
