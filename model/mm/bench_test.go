package mm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/wbsim/wbsim/sim"
)

// fillMapping puts n clean, uptodate pages at indexes 0..n-1 straight into
// the mapping (set-up, outside any task), with the page cache's
// reference, and tags every page for which tagged(i) DIRTY (and dirty).
func fillMapping(k *Kernel, m *AddressSpace, n int, tagged func(i uint64) bool) []*Page {
	pages := make([]*Page, n)
	for i := range uint64(n) {
		p := k.NewPage(m.Host.Ino, i)
		p.Mapping = m
		p.Flags = 1<<PG_uptodate | 1<<PG_lru
		m.PageTree.Insert(i, p)
		m.NrPages++
		k.NrFilePages++
		k.lru.addHead(p)
		if tagged != nil && tagged(i) {
			p.set(PG_dirty)
			m.PageTree.TagSet(i, PAGECACHE_TAG_DIRTY)
			AccountPageDirtied(p, m)
		}
		pages[i] = p
	}
	return pages
}

// inTask runs body as the only task of a world with no step budget to
// speak of and a trace that keeps nothing.
func inTask(b testing.TB, k *Kernel, body func(t *sim.Task)) {
	w := sim.New(sim.Config{Seed: 1, MaxSteps: 1 << 62, MaxTime: 1 << 62, TraceKeep: 0})
	k.W = w
	w.Spawn("bench", body)
	if r := w.Run(); r.Failure != nil {
		b.Fatalf("%v\n%s", r.Failure, r.Failure.Report())
	}
}

// BenchmarkTaggedLookup: find_get_pages_tag of one pagevec (14 pages)
// from a random index, in mappings where one page in 8 is dirty. The cost
// per lookup should grow like log n.
func BenchmarkTaggedLookup(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 16, 1 << 20} {
		b.Run(sizeName(n), func(b *testing.B) {
			k := NewKernel(sim.New(sim.Config{}), V2_6_2x)
			m := k.NewInode(1, 12, &testFS{}, nil).Mapping
			rng := rand.New(rand.NewPCG(1, 2))
			fillMapping(k, m, n, func(uint64) bool { return rng.IntN(8) == 0 })
			starts := make([]uint64, 4096)
			for i := range starts {
				starts[i] = uint64(rng.IntN(n))
			}
			b.ResetTimer()
			inTask(b, k, func(t *sim.Task) {
				var pv Pagevec
				for i := range b.N {
					index := starts[i%len(starts)]
					PagevecLookupTag(t, &pv, m, &index, PAGECACHE_TAG_DIRTY, PAGEVEC_SIZE)
					PagevecRelease(t, &pv)
				}
			})
		})
	}
}

// BenchmarkRadixGangLookupTag is the tree alone, without the sim's
// scheduling points: the log n part shows more clearly.
func BenchmarkRadixGangLookupTag(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 16, 1 << 20} {
		b.Run(sizeName(n), func(b *testing.B) {
			k := NewKernel(sim.New(sim.Config{}), V2_6_2x)
			m := k.NewInode(1, 12, &testFS{}, nil).Mapping
			rng := rand.New(rand.NewPCG(1, 2))
			fillMapping(k, m, n, func(uint64) bool { return rng.IntN(8) == 0 })
			var out [PAGEVEC_SIZE]*Page
			b.ResetTimer()
			for i := range b.N {
				m.PageTree.GangLookupTag(out[:], uint64((i*7919)%n), PAGECACHE_TAG_DIRTY)
			}
		})
	}
}

// BenchmarkDirtyPage: set_page_dirty of a clean page in a 64k-page
// mapping (__set_page_dirty_nobuffers: flag, tree_lock, tag, accounting,
// __mark_inode_dirty). Each page is cleaned again out of band.
func BenchmarkDirtyPage(b *testing.B) {
	k := NewKernel(sim.New(sim.Config{}), V2_6_2x)
	ino := k.NewInode(1, 12, &testFS{}, nil)
	m := ino.Mapping
	pages := fillMapping(k, m, 1<<16, nil)
	b.ResetTimer()
	inTask(b, k, func(t *sim.Task) {
		for i := range b.N {
			p := pages[(i*7919)&(1<<16-1)]
			SetPageDirty(t, p)
			p.clear(PG_dirty)
			m.PageTree.TagClear(p.Index, PAGECACHE_TAG_DIRTY)
			accountPageCleaned(p, m)
		}
	})
}

// BenchmarkWriteCachePages64k: an integrity sync (WB_SYNC_ALL) over 64k
// dirty pages with a writepage whose I/O completes at once.
func BenchmarkWriteCachePages64k(b *testing.B) {
	for _, v := range []Version{V2_6_2x, V3x} {
		b.Run(string(v), func(b *testing.B) {
			const n = 1 << 16
			k := NewKernel(sim.New(sim.Config{}), v)
			m := k.NewInode(1, 12, &testFS{}, nil).Mapping
			pages := fillMapping(k, m, n, nil)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				for _, p := range pages {
					p.set(PG_dirty)
					m.PageTree.TagSet(p.Index, PAGECACHE_TAG_DIRTY)
					AccountPageDirtied(p, m)
				}
				b.StartTimer()
				inTask(b, k, func(t *sim.Task) {
					FilemapFdatawrite(t, m)
				})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/page")
		})
	}
}

// bytesPerPage measures the heap a mapping of n cached pages costs: the
// struct pages, their share of the page tree, and the LRU links.
func bytesPerPage(n int) float64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	k := NewKernel(sim.New(sim.Config{}), V2_6_2x)
	m := k.NewInode(1, 12, &testFS{}, nil).Mapping
	fillMapping(k, m, n, func(i uint64) bool { return i%8 == 0 })
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// BenchmarkMemoryPerPage reports bytes per cached page at 1M pages.
func BenchmarkMemoryPerPage(b *testing.B) {
	var bpp float64
	for range b.N {
		bpp = bytesPerPage(1 << 20)
	}
	b.ReportMetric(bpp, "bytes/page")
}

// The memory target, checked in the normal test run at 64k pages.
func TestMemoryPerPage(t *testing.T) {
	if bpp := bytesPerPage(1 << 16); bpp > 512 {
		t.Fatalf("%.0f bytes per cached page, want <= 512", bpp)
	} else {
		t.Logf("%.0f bytes per cached page", bpp)
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dk", n>>10)
	}
	return fmt.Sprint(n)
}
