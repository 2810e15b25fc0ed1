package blockfs

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/block/blocktest"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"pgregory.net/rapid"
)

func newEnvStrategy(seed uint64, v mm.Version, opts Options, s sim.Strategy, cfg faultdisk.Config) *env {
	return newEnvOn(sim.New(sim.Config{Seed: seed, TraceKeep: 64, Strategy: s}), v, opts, 1<<20, cfg)
}

// TestConcurrentGetBlock: several tasks allocate blocks of the same file
// at once, under a rapid-chosen schedule. ext2_get_blocks must serialise
// the allocation (truncate_mutex, then re-reading the chain if it changed
// meanwhile): every task sees the same mapping for a block, each block is
// allocated once, and nothing leaks.
func TestConcurrentGetBlock(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		bs := rapid.SampledFrom([]uint{512, 1024, 4096}).Draw(rt, "blocksize")
		layout := rapid.SampledFrom([]Layout{LayoutIndirect, LayoutExtent}).Draw(rt, "layout")
		ntasks := rapid.IntRange(2, 3).Draw(rt, "tasks")
		ptrs := uint64(bs / 4)
		lists := make([][]gbOp, ntasks)
		for i := range lists {
			lists[i] = rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) gbOp {
				return gbOp{Iblock: drawIblock(rt, ptrs, "iblock") % (EXT2_NDIR_BLOCKS + ptrs + 3*ptrs),
					MaxBlocks: rapid.Uint64Range(1, 8).Draw(rt, "max"), Create: true}
			}), 1, 6).Draw(rt, fmt.Sprint("ops", i))
		}
		e := newEnvStrategy(1, mm.V2_6_2x, Options{BlockSize: bs, Layout: layout, Blocks: 8192}, sim.Rapid{T: rt}, faultdisk.Config{})
		ei := e.fs.NewInode(10)
		seen := make([]map[uint64]uint64, ntasks)
		for i := range ntasks {
			seen[i] = map[uint64]uint64{}
			e.w.Spawn(fmt.Sprint("t", i), func(tk *sim.Task) {
				for _, op := range lists[i] {
					bh := &block.BufferHead{Size: uint(op.MaxBlocks) << e.fs.Blkbits}
					if r := e.fs.GetBlock(tk, ei.VFS, op.Iblock, bh, 1); r != 0 || !block.BufferMapped(bh) {
						tk.BUG(ei.VFS.Obj(), "get_block(%d) = %d, %s", op.Iblock, r, block.BhStateNames(bh.State))
					}
					for j := uint64(0); j < uint64(bh.Size>>e.fs.Blkbits); j++ {
						seen[i][op.Iblock+j] = bh.Blocknr + j
					}
				}
			})
		}
		if res := e.w.Run(); res.Failure != nil {
			rt.Fatalf("run failed: %s", res.Failure.Report())
		}
		for i := range seen {
			for l, p := range seen[i] {
				if phys, _, ok := ei.Lookup(l); !ok || phys != p {
					rt.Fatalf("task %d saw block %d at %d; the file has it at %d (%v)", i, l, p, phys, ok)
				}
			}
		}
		if err := e.fs.Fsck(nil); err != nil {
			rt.Fatal(err)
		}
	})
}

// TestConcurrentReadWrite: a reader and a writer work on different pages
// of one file while their buffers' I/O completes in separate interrupt
// tasks under a rapid-chosen schedule: end_buffer_async_read/write must
// unlock each page / end its writeback exactly once, after its last
// buffer, and the data must be right.
func TestConcurrentReadWrite(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		bs := rapid.SampledFrom([]uint{512, 1024, 2048}).Draw(rt, "blocksize")
		version := rapid.SampledFrom([]mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x}).Draw(rt, "version")
		latency := sim.Time(rapid.IntRange(1, 30).Draw(rt, "latency")) * sim.Microsecond
		e := newEnvStrategy(2, version, Options{BlockSize: bs, Blocks: 4096}, sim.Rapid{T: rt}, blocktest.Latency(latency))
		ei := e.fs.NewInode(10)
		const npages = 4
		size := int64(2 * npages * mm.PageSize)
		old := fileData(size, []write{{0, size, 1}})
		f := &failer{}
		var got content.Bytes
		// Set up: the whole file written and on disk, caches dropped.
		e.w.Spawn("setup", func(tk *sim.Task) {
			mm.ISizeWrite(tk, ei.VFS, size)
			var pages []*mm.Page
			for i := uint64(0); i < 2*npages; i++ {
				pages = append(pages, dirtyPage(tk, ei.VFS.Mapping, i, old.Slice(int64(i)*mm.PageSize, mm.PageSize)))
			}
			writeOut(f, tk, e, ei, pages)
			for _, p := range pages {
				mm.PageCacheRelease(tk, p)
			}
			dropCaches(f, tk, e, ei)

			done := 0
			var wait sim.WaitQueue
			e.w.Spawn("reader", func(tk *sim.Task) {
				var pages []*mm.Page
				for i := uint64(0); i < npages; i++ {
					p := mm.FindOrCreatePage(tk, ei.VFS.Mapping, i)
					block.BlockReadFullPage(tk, p, e.fs.GetBlock)
					pages = append(pages, p)
				}
				for _, p := range pages {
					mm.WaitOnPageLocked(tk, p)
					checkRead(f, p)
					got = got.Append(p.Data)
					mm.PageCacheRelease(tk, p)
				}
				done++
				wait.WakeUp(tk)
			})
			e.w.Spawn("writer", func(tk *sim.Task) {
				var pages []*mm.Page
				for i := uint64(npages); i < 2*npages; i++ {
					pages = append(pages, dirtyPage(tk, ei.VFS.Mapping, i, content.Fill(mm.PageSize, 2, int64(i)*mm.PageSize)))
				}
				writeOut(f, tk, e, ei, pages)
				for _, p := range pages {
					mm.PageCacheRelease(tk, p)
				}
				done++
				wait.WakeUp(tk)
			})
			wait.WaitEvent(tk, func() bool { return done == 2 })
			dropCaches(f, tk, e, ei)
			all := readBack(f, tk, e, ei, 2*npages)
			want := old.Slice(0, npages*mm.PageSize).Append(fileData(size, []write{{0, size, 2}}).Slice(npages*mm.PageSize, npages*mm.PageSize))
			if d := cmp.Diff(want.String(), all.String()); d != "" {
				f.Errorf("file after the write (-want +got):\n%s", d)
			}
		})
		if res := e.w.Run(); res.Failure != nil {
			rt.Fatalf("run failed: %s", res.Failure.Report())
		}
		for _, m := range f.msgs {
			rt.Error(m)
		}
		if d := cmp.Diff(old.Slice(0, npages*mm.PageSize).String(), got.String()); d != "" {
			rt.Fatalf("reader got (-want +got):\n%s", d)
		}
	})
}
