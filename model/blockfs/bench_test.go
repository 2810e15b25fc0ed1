package blockfs

import (
	"testing"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

func benchEnv(opts Options) *env {
	w := sim.New(sim.Config{Seed: 1, TraceKeep: 1, MaxSteps: 1 << 62, MaxTime: 1 << 62})
	return newEnvOn(w, mm.V2_6_2x, opts, 1<<24, faultdisk.Config{})
}

// BenchmarkGetBlock measures a get_block lookup (create == 0, one block)
// of an allocated block, with its buffer-cache lookups of the indirect
// blocks, in the direct and double-indirect regions and in the extent
// layout.
func BenchmarkGetBlock(b *testing.B) {
	const bs = 1024
	ptrs := uint64(bs / 4)
	dind := uint64(EXT2_NDIR_BLOCKS) + ptrs
	cases := []struct {
		name   string
		layout Layout
		first  uint64
		n      uint64
	}{
		{"direct", LayoutIndirect, 0, EXT2_NDIR_BLOCKS},
		{"double-indirect", LayoutIndirect, dind, 1024},
		{"extent", LayoutExtent, 1 << 32, 1024},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e := benchEnv(Options{BlockSize: bs, Layout: c.layout, Blocks: 1 << 16})
			ei := e.fs.NewInode(10)
			e.w.Spawn("bench", func(tk *sim.Task) {
				for i := uint64(0); i < c.n; i++ {
					bh := &block.BufferHead{Size: bs}
					if e.fs.GetBlock(tk, ei.VFS, c.first+i, bh, 1) != 0 {
						b.Fatal("allocation failed")
					}
				}
				bh := &block.BufferHead{}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					*bh = block.BufferHead{Size: bs}
					if e.fs.GetBlock(tk, ei.VFS, c.first+uint64(i)%c.n, bh, 0) != 0 || !block.BufferMapped(bh) {
						b.Fatal("lookup failed")
					}
				}
				b.StopTimer()
			})
			if res := e.w.Run(); res.Failure != nil {
				b.Fatal(res.Failure.Report())
			}
		})
	}
}

// BenchmarkBlockWriteFullPage measures one overwrite of a dirty page
// through block_write_full_page: buffers, a bio per block, the device,
// the completion in an interrupt task, end_page_writeback.
func BenchmarkBlockWriteFullPage(b *testing.B) {
	for _, bs := range []uint{1024, 4096} {
		b.Run(map[uint]string{1024: "1k-blocks", 4096: "4k-blocks"}[bs], func(b *testing.B) {
			e := benchEnv(Options{BlockSize: bs, Blocks: 1 << 16})
			ei := e.fs.NewInode(10)
			e.w.Spawn("bench", func(tk *sim.Task) {
				mm.ISizeWrite(tk, ei.VFS, 16*mm.PageSize)
				var pages []*mm.Page
				for i := uint64(0); i < 16; i++ {
					pages = append(pages, dirtyPage(tk, ei.VFS.Mapping, i, content.Fill(mm.PageSize, 1, int64(i)*mm.PageSize)))
				}
				wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_NONE, NrToWrite: 1 << 40}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p := pages[i%16]
					if i >= 16 {
						mm.SetPageDirty(tk, p)
					}
					mm.LockPage(tk, p)
					mm.ClearPageDirtyForIO(tk, p)
					if block.BlockWriteFullPage(tk, p, e.fs.GetBlock, wbc) != 0 {
						b.Fatal("writepage failed")
					}
					mm.WaitOnPageWriteback(tk, p)
				}
				b.StopTimer()
			})
			if res := e.w.Run(); res.Failure != nil {
				b.Fatal(res.Failure.Report())
			}
		})
	}
}
