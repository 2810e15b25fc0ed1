package mpage_test

import (
	"testing"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/sim"
)

// benchEnv is a machine for the benchmarks: no step or time budget to
// speak of, no trace kept, a contiguous extent file of n pages whose
// blocks are allocated (one get_block call per extent), i_size set.
func benchEnv(b *testing.B, v mm.Version, n int64, body func(t *sim.Task, e *env, f *file)) *env {
	w := sim.New(sim.Config{Seed: 1, MaxSteps: 1 << 62, MaxTime: 1 << 62, TraceKeep: 0, Strategy: irqFirst{}})
	e := newEnvOn(w, envOpts{version: v, sectors: (n + 64) * 8,
		fs: blockfs.Options{BlockSize: 4096, Layout: blockfs.LayoutExtent, Blocks: uint64(n + 64)}})
	f := e.newFile(70)
	w.Spawn("bench", func(t *sim.Task) {
		for blk := int64(0); blk < n; {
			var bh block.BufferHead
			bh.Size = uint(min(n-blk, blockfs.MaxExtentLen)) << 12
			if r := e.fs.GetBlock(t, f.ino, uint64(blk), &bh, 1); r != 0 {
				b.Fatalf("get_block: %d", r)
			}
			blk += int64(bh.Size >> 12)
		}
		mm.ISizeWrite(t, f.ino, n*mm.PageSize)
		body(t, e, f)
	})
	return e
}

// irqFirst runs an interrupt (an I/O completion) as soon as it is raised,
// as a CPU does, and otherwise lets the current task go on. Without it
// the completions of a task that never sleeps pile up as runnable tasks
// until it does, and every scheduling decision walks them all.
type irqFirst struct{}

func (irqFirst) Choose(d *sim.Decision) int {
	for i, c := range d.Candidates {
		if c.IRQ() {
			return i
		}
	}
	return 0
}

func runBench(b *testing.B, e *env) {
	if r := e.w.Run(); r.Failure != nil {
		b.Fatalf("%s", r.Failure.Report())
	}
}

// BenchmarkMpageReadpages64MiB: mpage_readpages of a contiguous 64 MiB
// file (16384 pages, one call), up to the last page unlocked by its read
// completion. Reports ns and bios per page.
func BenchmarkMpageReadpages64MiB(b *testing.B) {
	const n = 64 << 20 / mm.PageSize
	for _, v := range versions {
		b.Run(string(v), func(b *testing.B) {
			var bios int64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				e := benchEnv(b, v, n, func(t *sim.Task, e *env, f *file) {
					m := f.ino.Mapping
					pages := make([]*mm.Page, n)
					b.StartTimer()
					for i := range pages {
						p := mm.PageCacheAlloc(t, m)
						p.Index = uint64(i)
						pages[i] = p
					}
					mpage.MpageReadpages(t, m, pages, n, e.fs.GetBlock)
					for i := range uint64(n) {
						p := m.PageTree.Lookup(i)
						mm.WaitOnPageLocked(t, p)
						if !mm.PageUptodate(p) {
							b.Fatalf("page %d not uptodate", i)
						}
					}
					b.StopTimer()
				})
				runBench(b, e)
				bios += mpage.StatsOf(e.k).ReadBios
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/page")
			b.ReportMetric(float64(bios)/float64(b.N*n), "bios/page")
		})
	}
}

// BenchmarkMpageWritepages64k: an integrity sync (filemap_fdatawrite, so
// mpage_writepages over the era's loop) of 64k dirty pages of a
// contiguous file whose blocks are allocated, then filemap_fdatawait
// until every write completed. Compare with model/mm's
// BenchmarkWriteCachePages64k (write_cache_pages with a trivial
// ->writepage). Reports ns and bios per page.
func BenchmarkMpageWritepages64k(b *testing.B) {
	const n = 1 << 16
	for _, v := range versions {
		b.Run(string(v), func(b *testing.B) {
			var bios int64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				e := benchEnv(b, v, n, func(t *sim.Task, e *env, f *file) {
					m := f.ino.Mapping
					for i := range uint64(n) {
						p := mm.GrabCachePage(t, m, i)
						mm.SetPageUptodate(t, p)
						mm.SetPageDirty(t, p)
						mm.UnlockPage(t, p)
						mm.PageCacheRelease(t, p)
					}
					b.StartTimer()
					if r := mm.FilemapFdatawrite(t, m); r != 0 {
						b.Fatalf("fdatawrite: %d", r)
					}
					if r := mm.FilemapFdatawait(t, m); r != 0 {
						b.Fatalf("fdatawait: %d", r)
					}
					b.StopTimer()
				})
				runBench(b, e)
				st := mpage.StatsOf(e.k)
				if st.WritePages != n {
					b.Fatalf("%d pages written, want %d", st.WritePages, n)
				}
				bios += st.WriteBios
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/page")
			b.ReportMetric(float64(bios)/float64(b.N*n), "bios/page")
		})
	}
}
