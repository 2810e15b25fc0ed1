package blockfs

import (
	"fmt"
	"testing"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"pgregory.net/rapid"
)

// groupEnd is the last logical block of the group block b belongs to: the
// direct blocks, or the blocks one indirect block maps. Computed from the
// ext2 layout, independently of ext2_block_to_path.
func groupEnd(b, ptrs uint64) uint64 {
	if b < EXT2_NDIR_BLOCKS {
		return EXT2_NDIR_BLOCKS - 1
	}
	start := uint64(EXT2_NDIR_BLOCKS)
	return start + (b-start)/ptrs*ptrs + ptrs - 1
}

type gbOp struct {
	File      int
	Iblock    uint64
	MaxBlocks uint64
	Create    bool
}

func (o gbOp) String() string {
	return fmt.Sprintf("file %d block %d max %d create %v", o.File, o.Iblock, o.MaxBlocks, o.Create)
}

// drawIblock draws logical blocks where the layout is interesting: the
// direct blocks and the first indirect transitions, boundaries, the
// double-indirect region, and anywhere.
func drawIblock(rt *rapid.T, ptrs uint64, label string) uint64 {
	ind := uint64(EXT2_NDIR_BLOCKS)
	dind := ind + ptrs
	tind := dind + ptrs*ptrs
	switch rapid.IntRange(0, 4).Draw(rt, label+"-region") {
	case 0:
		return rapid.Uint64Range(0, 20).Draw(rt, label)
	case 1: // around the end of the single indirect block
		return rapid.Uint64Range(dind-4, dind+4).Draw(rt, label)
	case 2: // a boundary inside the double indirect region
		k := rapid.Uint64Range(0, 8).Draw(rt, label+"-k")
		return dind + k*ptrs + ptrs - 3 + rapid.Uint64Range(0, 5).Draw(rt, label)
	case 3: // the start of the triple indirect region
		return rapid.Uint64Range(tind-2, tind+2).Draw(rt, label)
	}
	return rapid.Uint64Range(0, tind+ptrs*ptrs).Draw(rt, label)
}

// TestGetBlockIndirect checks ext2_get_block on random operations against
// an independent model of the mapping: holes read as holes; a mapped
// block keeps its place; extents are contiguous on disk and never cross a
// boundary; BH_Boundary is set exactly on the last block before an
// indirect block; BH_New exactly on allocation; allocation never hands
// out a block twice and leaks nothing (fsck after every operation); and
// ENOSPC comes only when the file system is full, changing nothing.
func TestGetBlockIndirect(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		bs := rapid.SampledFrom([]uint{512, 1024, 2048, 4096}).Draw(rt, "blocksize")
		policy := rapid.SampledFrom([]AllocPolicy{AllocContiguous, AllocFragmented, AllocInterleaved}).Draw(rt, "policy")
		nblocks := rapid.Uint64Range(8, 3000).Draw(rt, "nblocks")
		nfiles := rapid.IntRange(1, 3).Draw(rt, "files")
		version := rapid.SampledFrom([]mm.Version{mm.V2_6_2x, mm.V2_6_12}).Draw(rt, "version")
		ptrs := uint64(bs / 4)
		ops := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) gbOp {
			return gbOp{File: rapid.IntRange(0, nfiles-1).Draw(rt, "file"),
				Iblock:    drawIblock(rt, ptrs, "iblock"),
				MaxBlocks: rapid.Uint64Range(1, 40).Draw(rt, "max"),
				Create:    rapid.Bool().Draw(rt, "create")}
		}), 1, 30).Draw(rt, "ops")

		e := newEnv(rapid.Uint64().Draw(rt, "seed"), version, Options{BlockSize: bs, Policy: policy,
			Blocks: nblocks, FragmentRun: 3, InterleaveChunk: 2}, 1<<22)
		var files []*Inode
		model := make([]map[uint64]uint64, nfiles) // logical -> physical
		for i := range nfiles {
			files = append(files, e.fs.NewInode(uint64(10+i)))
			model[i] = map[uint64]uint64{}
		}
		e.w.Spawn("test", func(tk *sim.Task) {
			for _, op := range ops {
				ei := files[op.File]
				freeBefore := e.fs.FreeBlocks()
				bh := &block.BufferHead{Size: uint(op.MaxBlocks) << e.fs.Blkbits}
				create := 0
				if op.Create {
					create = 1
				}
				ret := e.fs.GetBlock(tk, ei.VFS, op.Iblock, bh, create)
				_, known := model[op.File][op.Iblock]
				switch {
				case ret == enospc:
					if !op.Create || known {
						rt.Fatalf("%v: ENOSPC without an allocation", op)
					}
					if freeBefore >= 4 {
						rt.Fatalf("%v: ENOSPC with %d blocks free", op, freeBefore)
					}
					if e.fs.FreeBlocks() != freeBefore {
						rt.Fatalf("%v: failed allocation changed the free count %d -> %d", op, freeBefore, e.fs.FreeBlocks())
					}
				case ret != 0:
					rt.Fatalf("%v: get_block = %d", op, ret)
				case !block.BufferMapped(bh):
					if op.Create || known {
						rt.Fatalf("%v: not mapped (known %v)", op, known)
					}
					if block.BufferNew(bh) || block.BufferBoundary(bh) {
						rt.Fatalf("%v: a hole with state %s", op, block.BhStateNames(bh.State))
					}
				default:
					n := uint64(bh.Size >> e.fs.Blkbits)
					if n < 1 || n > op.MaxBlocks || (version == mm.V2_6_12 && n != 1) {
						rt.Fatalf("%v: mapped %d blocks", op, n)
					}
					last := op.Iblock + n - 1
					if last > groupEnd(op.Iblock, ptrs) {
						rt.Fatalf("%v: extent of %d blocks crosses the boundary at %d", op, n, groupEnd(op.Iblock, ptrs))
					}
					if want := last == groupEnd(op.Iblock, ptrs); block.BufferBoundary(bh) != want {
						rt.Fatalf("%v: %d blocks, boundary %v, want %v", op, n, block.BufferBoundary(bh), want)
					}
					if block.BufferNew(bh) != (op.Create && !known) {
						rt.Fatalf("%v: BH_New %v but known %v", op, block.BufferNew(bh), known)
					}
					if !op.Create && !known {
						rt.Fatalf("%v: a hole came back mapped", op)
					}
					for i := uint64(0); i < n; i++ {
						p, ok := model[op.File][op.Iblock+i]
						if ok && p != bh.Blocknr+i {
							rt.Fatalf("%v: block %d maps to %d, was %d", op, op.Iblock+i, bh.Blocknr+i, p)
						}
						if !ok && !block.BufferNew(bh) {
							rt.Fatalf("%v: block %d newly mapped without BH_New", op, op.Iblock+i)
						}
						model[op.File][op.Iblock+i] = bh.Blocknr + i
						if phys, _, ok := ei.Lookup(op.Iblock + i); !ok || phys != bh.Blocknr+i {
							rt.Fatalf("%v: the file system's record has block %d at %d (%v)", op, op.Iblock+i, phys, ok)
						}
					}
					if bh.Bdev != e.bdev {
						rt.Fatalf("%v: b_bdev not set", op)
					}
				}
				if err := e.fs.Fsck(nil); err != nil {
					rt.Fatalf("after %v: fsck: %v", op, err)
				}
			}
			// Everything the model knows is still mapped where it was.
			for f, mp := range model {
				for l, p := range mp {
					bh := &block.BufferHead{Size: e.fs.BlockSize()}
					if e.fs.GetBlock(tk, files[f].VFS, l, bh, 0) != 0 || !block.BufferMapped(bh) || bh.Blocknr != p {
						rt.Fatalf("file %d block %d: want %d, got %s %d", f, l, p, block.BhStateNames(bh.State), bh.Blocknr)
					}
				}
			}
		})
		res := e.w.Run()
		if res.Failure != nil {
			rt.Fatalf("run failed: %s", res.Failure.Report())
		}
	})
}

// TestGetBlockFillsUpWithENOSPC allocates until the file system is full:
// every block ends up used exactly once, the last allocation fails with
// -ENOSPC, and nothing leaks.
func TestGetBlockFillsUpWithENOSPC(t *testing.T) {
	for _, layout := range []Layout{LayoutIndirect, LayoutExtent} {
		for _, policy := range []AllocPolicy{AllocContiguous, AllocFragmented, AllocInterleaved} {
			t.Run(fmt.Sprint(layout, "/", policy), func(t *testing.T) {
				e := newEnv(3, mm.V2_6_2x, Options{BlockSize: 1024, Layout: layout, Policy: policy, Blocks: 700}, 1<<20)
				a, b := e.fs.NewInode(10), e.fs.NewInode(11)
				var gotENOSPC bool
				e.run(t, func(tk *sim.Task) {
					for i := uint64(0); i < 2000 && !gotENOSPC; i++ {
						for _, ei := range []*Inode{a, b} {
							bh := &block.BufferHead{Size: 3 << e.fs.Blkbits}
							switch ret := e.fs.GetBlock(tk, ei.VFS, i*3, bh, 1); ret {
							case 0:
							case enospc:
								gotENOSPC = true
							default:
								t.Fatalf("get_block = %d", ret)
							}
						}
					}
				})
				if !gotENOSPC {
					t.Fatalf("no ENOSPC")
				}
				if err := e.fs.Fsck(nil); err != nil {
					t.Fatal(err)
				}
				if e.fs.FreeBlocks() > 3 {
					t.Errorf("ENOSPC with %d blocks free", e.fs.FreeBlocks())
				}
			})
		}
	}
}

// TestGetBlockExtent checks the extent layout with 64-bit logical blocks,
// near and beyond 2^32: the same mapping model, extents that are
// contiguous and no longer than asked, holes, never a boundary.
func TestGetBlockExtent(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		bs := rapid.SampledFrom([]uint{512, 1024, 2048, 4096}).Draw(rt, "blocksize")
		policy := rapid.SampledFrom([]AllocPolicy{AllocContiguous, AllocFragmented, AllocInterleaved}).Draw(rt, "policy")
		nfiles := rapid.IntRange(1, 2).Draw(rt, "files")
		ops := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) gbOp {
			var ib uint64
			switch rapid.IntRange(0, 3).Draw(rt, "region") {
			case 0:
				ib = rapid.Uint64Range(0, 100).Draw(rt, "iblock")
			case 1:
				ib = rapid.Uint64Range(1<<32-40, 1<<32+40).Draw(rt, "iblock")
			case 2:
				ib = rapid.Uint64Range(1<<31-20, 1<<31+20).Draw(rt, "iblock")
			default:
				ib = rapid.Uint64Range(0, 1<<50).Draw(rt, "iblock")
			}
			return gbOp{File: rapid.IntRange(0, nfiles-1).Draw(rt, "file"), Iblock: ib,
				MaxBlocks: rapid.Uint64Range(1, 64).Draw(rt, "max"), Create: rapid.Bool().Draw(rt, "create")}
		}), 1, 40).Draw(rt, "ops")
		e := newEnv(rapid.Uint64().Draw(rt, "seed"), mm.V2_6_2x, Options{BlockSize: bs, Layout: LayoutExtent,
			Policy: policy, Blocks: 4096, FragmentRun: 4, InterleaveChunk: 3}, 1<<22)
		var files []*Inode
		model := make([]map[uint64]uint64, nfiles)
		for i := range nfiles {
			files = append(files, e.fs.NewInode(uint64(10+i)))
			model[i] = map[uint64]uint64{}
		}
		e.w.Spawn("test", func(tk *sim.Task) {
			for _, op := range ops {
				ei := files[op.File]
				bh := &block.BufferHead{Size: uint(op.MaxBlocks) << e.fs.Blkbits}
				create := 0
				if op.Create {
					create = 1
				}
				_, known := model[op.File][op.Iblock]
				ret := e.fs.GetBlock(tk, ei.VFS, op.Iblock, bh, create)
				if ret != 0 {
					rt.Fatalf("%v: get_block = %d", op, ret)
				}
				if !block.BufferMapped(bh) {
					if op.Create || known {
						rt.Fatalf("%v: not mapped", op)
					}
					continue
				}
				if block.BufferBoundary(bh) {
					rt.Fatalf("%v: extent layout set BH_Boundary", op)
				}
				n := uint64(bh.Size >> e.fs.Blkbits)
				if n < 1 || n > op.MaxBlocks {
					rt.Fatalf("%v: mapped %d blocks", op, n)
				}
				if block.BufferNew(bh) != (op.Create && !known) {
					rt.Fatalf("%v: BH_New %v, known %v", op, block.BufferNew(bh), known)
				}
				for i := uint64(0); i < n; i++ {
					l := op.Iblock + i
					if p, ok := model[op.File][l]; ok && p != bh.Blocknr+i {
						rt.Fatalf("%v: block %d maps to %d, was %d", op, l, bh.Blocknr+i, p)
					} else if !ok && !block.BufferNew(bh) {
						rt.Fatalf("%v: hole %d came back mapped", op, l)
					}
					model[op.File][l] = bh.Blocknr + i
				}
				if err := e.fs.Fsck(nil); err != nil {
					rt.Fatalf("after %v: %v", op, err)
				}
			}
			for f, mp := range model {
				for l, p := range mp {
					if phys, _, ok := files[f].Lookup(l); !ok || phys != p {
						rt.Fatalf("file %d block %d: recorded %d %v, want %d", f, l, phys, ok, p)
					}
					// A block 2^32 away is not the same block.
					if _, known := mp[l^(1<<32)]; !known {
						if _, _, ok := files[f].Lookup(l ^ (1 << 32)); ok {
							rt.Fatalf("file %d: block %d is mapped, but the model never mapped it", f, l^(1<<32))
						}
					}
				}
			}
		})
		if res := e.w.Run(); res.Failure != nil {
			rt.Fatalf("run failed: %s", res.Failure.Report())
		}
	})
}
