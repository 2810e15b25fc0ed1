package content_test

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/wbsim/wbsim/sim/content"
)

const (
	block = 4096
	space = 4 << 30 // a 4 GiB disk
)

// BenchmarkStoreWrite4K writes 4 KiB blocks, each under a new stamp, at
// random block-aligned offsets of a 4 GiB space. The store keeps growing, up
// to one run per block; the cost includes making the Bytes value.
func BenchmarkStoreWrite4K(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s content.Store
	var stamp content.Stamp
	for b.Loop() {
		stamp++
		s.Write(rng.Int64N(space/block)*block, content.Fill(block, stamp, 0))
	}
	b.ReportMetric(float64(s.Len()), "runs")
}

// BenchmarkStoreRead4K reads 4 KiB blocks at random block-aligned offsets of
// a 4 GiB space that holds 1M runs (a 4 KiB block every 8 KiB, so half of the
// reads hit a block and half a hole).
func BenchmarkStoreRead4K(b *testing.B) {
	s := fill(1 << 20)
	rng := rand.New(rand.NewPCG(3, 4))
	var runs int
	for b.Loop() {
		got := s.Read(rng.Int64N(2*(1<<20))*block, block)
		for range got.Runs() {
			runs++
		}
	}
	if runs == 0 {
		b.Fatal("reads returned nothing")
	}
}

// fill returns a Store of n runs: n distinct 4 KiB blocks, each under its own
// stamp, written in a scrambled order into a space of 2n blocks.
func fill(n int) *content.Store {
	s := new(content.Store)
	for i := range n {
		// An odd multiplier permutes [0, 2n) when 2n is a power of two.
		blk := int64(uint64(i)*0x9E3779B97F4A7C15) & int64(2*n-1)
		s.Write(blk*block, content.Fill(block, content.Stamp(i+1), 0))
	}
	return s
}

// heapBytes returns the live heap after a full collection.
func heapBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkStoreBytesPerRun builds a Store of 1M runs (one op) and reports the
// live heap it holds per run.
func BenchmarkStoreBytesPerRun(b *testing.B) {
	const n = 1 << 20
	var perRun float64
	for b.Loop() {
		b.StopTimer()
		before := heapBytes()
		b.StartTimer()
		s := fill(n)
		b.StopTimer()
		if s.Len() != n {
			b.Fatalf("store holds %d runs, want %d", s.Len(), n)
		}
		perRun = float64(heapBytes()-before) / n
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(perRun, "bytes/run")
}

// TestStoreMemory checks the memory bounds: 1M distinct 4 KiB blocks in a
// Store take at most 200 MiB of heap, and a clone costs only what changes.
func TestStoreMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Store of 1M runs")
	}
	const n, limit = 1 << 20, 200 << 20
	before := heapBytes()
	s := fill(n)
	used := heapBytes() - before
	runtime.KeepAlive(s)
	t.Logf("%d runs: %d bytes of heap, %.1f bytes/run", s.Len(), used, float64(used)/n)
	if s.Len() != n {
		t.Fatalf("store holds %d runs, want %d", s.Len(), n)
	}
	if used > limit {
		t.Fatalf("%d runs take %d bytes of heap, want at most %d", n, used, limit)
	}

	// A clone shares the tree: 100 writes to it copy only their paths
	// (a few 2 KiB nodes each), not the 1M runs.
	before = heapBytes()
	c := s.Clone()
	for i := range int64(100) {
		c.Write(i*(space/100), content.Fill(block, 1<<40, 0))
	}
	used = heapBytes() - before
	runtime.KeepAlive(s)
	runtime.KeepAlive(c)
	t.Logf("clone and 100 writes: %d bytes of heap", used)
	if used > 2<<20 {
		t.Fatalf("clone and 100 writes take %d bytes of heap, want at most 2 MiB", used)
	}
}
