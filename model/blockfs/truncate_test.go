package blockfs

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"pgregory.net/rapid"
)

// truncOp is one step of the truncate property: a write, a truncate
// (SetSize: the era's vmtruncate or ext2_setsize), or a sync that writes
// everything out, drops the caches and checks the disk.
type truncOp struct {
	Kind     string // "write", "truncate", "sync"
	Off, Len int64
}

func (o truncOp) String() string {
	switch o.Kind {
	case "write":
		return fmt.Sprintf("write %d+%d", o.Off, o.Len)
	case "truncate":
		return fmt.Sprintf("truncate %d", o.Off)
	}
	return o.Kind
}

// diskRead reads what the device holds (its cache: what a read sees).
func (e *env) diskRead(off, n int64) content.Bytes { return e.dev.Read(off, n) }

// usedBlocks is the number of allocated blocks.
func (e *env) usedBlocks() uint64 { return e.fs.NBlocks() - e.fs.FreeBlocks() }

// checkMapped compares the file's mapped blocks with the size: nothing
// may be mapped at or past the block that holds the end of file.
func checkMapped(f *failer, ei *Inode, size int64) {
	bs := int64(ei.fs.Opts.BlockSize)
	end := uint64((size + bs - 1) / bs)
	for _, x := range ei.Mapped() {
		if x.Logical+x.Len > end {
			f.Errorf("block %d is still mapped (extent %+v) past the end of file %d (block %d)",
				max(x.Logical, end), x, size, end)
		}
	}
}

// TestTruncate runs random writes and truncates (down and up, mid-block
// and on block boundaries) through the write path and Fs.SetSize, in
// every era, layout and block size, with the buffer and the nobh paths,
// sometimes writing everything out and dropping the caches so that later
// reads and partial writes go to the disk. After each sync the file
// system is consistent (Fsck: no leaked or doubly used block), no block
// is mapped past the end of file, and the file reads back exactly: the
// bytes written, zeros in holes and in the tail of a block that a
// truncate cut and a later extension exposed again. At the end the file
// is truncated to 0 and every block it used is free again.
func TestTruncate(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		bs := rapid.SampledFrom([]uint{1024, 2048, 4096}).Draw(rt, "blocksize")
		layout := rapid.SampledFrom([]Layout{LayoutIndirect, LayoutExtent}).Draw(rt, "layout")
		nobh := bs == 4096 && rapid.Bool().Draw(rt, "nobh") // see TestWritePaths for nobh with small blocks
		version := rapid.SampledFrom([]mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x}).Draw(rt, "version")
		// Sizes reach the double-indirect range for 1 KiB blocks (12 + 256 blocks).
		const maxOff = 400 << 10
		ops := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) truncOp {
			switch rapid.IntRange(0, 5).Draw(rt, "kind") {
			case 0, 1, 2:
				return truncOp{Kind: "write", Off: rapid.Int64Range(0, maxOff).Draw(rt, "off"),
					Len: rapid.Int64Range(1, 3*mm.PageSize).Draw(rt, "len")}
			case 3, 4:
				return truncOp{Kind: "truncate", Off: rapid.Int64Range(0, maxOff).Draw(rt, "size")}
			}
			return truncOp{Kind: "sync"}
		}), 1, 12).Draw(rt, "ops")

		e := newEnv(1, version, Options{BlockSize: bs, Layout: layout, Nobh: nobh}, 1<<14)
		ei := e.fs.NewInode(12)
		inode := ei.VFS
		f := &failer{}
		var want content.Bytes
		stamp := content.Stamp(0)
		free0 := e.fs.FreeBlocks()
		check := func(tk *sim.Task, when string) {
			syncAndDrop(f, tk, e, ei)
			if err := e.fs.Fsck(e.diskRead); err != nil {
				f.Errorf("%s: fsck: %v", when, err)
			}
			checkMapped(f, ei, mm.ISizeRead(inode))
			size := mm.ISizeRead(inode)
			if size != want.Len() {
				f.Errorf("%s: i_size %d, want %d", when, size, want.Len())
			}
			pages := uint64((size + mm.PageSize - 1) / mm.PageSize)
			got := readBack(f, tk, e, ei, pages)
			if d := got.Slice(0, size).FirstDiff(want); d >= 0 {
				f.Errorf("%s: byte %d reads %v, want %v", when, d, got.Slice(d, 1), want.Slice(d, 1))
			}
			if tail := got.Slice(size, got.Len()-size); !tail.Equal(content.Zeros(tail.Len())) {
				f.Errorf("%s: the last page is not zero past the end of file: %v", when, tail)
			}
			dropCaches(f, tk, e, ei)
		}
		e.w.Spawn("test", func(tk *sim.Task) {
			for i, op := range ops {
				when := fmt.Sprintf("after op %d (%s)", i, op)
				switch op.Kind {
				case "write":
					stamp++
					data := content.Fill(op.Len, stamp, 0)
					inode.IMutex.Lock(tk)
					n, _ := writeFile(f, tk, ei, op.Off, data)
					inode.IMutex.Unlock(tk)
					if n != op.Len {
						f.Errorf("%s: wrote %d", when, n)
					}
					if end := op.Off + op.Len; end > want.Len() {
						want = want.Truncate(end)
					}
					want = want.Overwrite(op.Off, data)
				case "truncate":
					inode.IMutex.Lock(tk)
					if r := e.fs.SetSize(tk, ei, op.Off); r != 0 {
						f.Errorf("%s: SetSize = %d", when, r)
					}
					inode.IMutex.Unlock(tk)
					want = want.Truncate(op.Off)
				case "sync":
					check(tk, when)
				}
				if len(f.msgs) > 0 {
					return
				}
			}
			check(tk, "at the end")
			inode.IMutex.Lock(tk)
			e.fs.SetSize(tk, ei, 0)
			inode.IMutex.Unlock(tk)
			want = content.Bytes{}
			check(tk, "after truncating to 0")
			if e.fs.FreeBlocks() != free0 {
				f.Errorf("after truncating to 0: %d blocks free, want %d (%d leaked)", e.fs.FreeBlocks(), free0,
					free0-e.fs.FreeBlocks())
			}
		})
		if res := e.w.Run(); res.Failure != nil {
			rt.Fatalf("%s %s bs %d nobh %v: run failed: %s", version, layout, bs, nobh, res.Failure.Report())
		}
		if len(f.msgs) > 0 {
			rt.Fatalf("%s %s bs %d nobh %v:\n%s", version, layout, bs, nobh, f.msgs)
		}
	})
}

// TestTruncateFreesIndirectBlocks truncates a 1 KiB-block file that
// reaches the triple-indirect tree to sizes in each region (inside the
// direct blocks, the indirect, double and triple indirect ranges) and
// checks the exact number of blocks in use: data blocks up to the end
// plus the indirect blocks they need.
func TestTruncateFreesIndirectBlocks(t *testing.T) {
	const bs = 1024
	const ptrs = bs / 4
	// Data blocks mapped, sparse: the file is a hole but for one block in
	// each region, so the test stays small.
	blocks := []int64{0, 5, 11, 12, 100, 12 + ptrs, 12 + ptrs + 3*ptrs + 7, 12 + ptrs + ptrs*ptrs + 2*ptrs*ptrs + 5}
	// needed is how many blocks (data and indirect) the kept prefix uses.
	needed := func(end int64) uint64 {
		var n uint64
		ind, dind, tind := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
		for _, b := range blocks {
			if b >= end {
				continue
			}
			n++
			switch {
			case b < 12:
			case b < 12+ptrs:
				ind[0] = true
			case b < 12+ptrs+ptrs*ptrs:
				dind[-1] = true
				dind[(b-12-ptrs)/ptrs] = true
			default:
				r := b - 12 - ptrs - ptrs*ptrs
				tind[-1] = true
				tind[r/(ptrs*ptrs)<<20] = true
				tind[r/ptrs] = true
			}
		}
		return n + uint64(len(ind)+len(dind)+len(tind))
	}
	for _, version := range []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x} {
		for _, cut := range []int64{blocks[len(blocks)-1] + 1, 12 + ptrs + ptrs*ptrs + 2*ptrs*ptrs, 12 + ptrs + 4*ptrs,
			12 + ptrs + 3*ptrs + 8, 12 + ptrs + 3*ptrs + 7, 12 + ptrs, 101, 12, 6, 1, 0} {
			t.Run(fmt.Sprintf("%s/cut%d", version, cut), func(t *testing.T) {
				e := newEnv(1, version, Options{BlockSize: bs}, 1<<16)
				ei := e.fs.NewInode(13)
				f := &failer{}
				var used0 uint64
				e.run(t, func(tk *sim.Task) {
					ei.VFS.IMutex.Lock(tk)
					for _, b := range blocks {
						writeFile(f, tk, ei, b*bs, content.Fill(bs, content.Stamp(b+1), 0))
					}
					used0 = e.usedBlocks()
					e.fs.SetSize(tk, ei, cut*bs+bs/2) // mid-block: block cut stays
					ei.VFS.IMutex.Unlock(tk)
					syncAndDrop(f, tk, e, ei)
					if err := e.fs.Fsck(e.diskRead); err != nil {
						f.Errorf("fsck: %v", err)
					}
				})
				if len(f.msgs) > 0 {
					t.Fatal(f.msgs)
				}
				if used0 != needed(1<<62)+1 { // +1: block 0 is reserved
					t.Fatalf("before: %d blocks used, want %d", used0, needed(1<<62)+1)
				}
				if got, want := e.usedBlocks(), needed(cut+1)+1; got != want {
					t.Errorf("after truncating to block %d and a half: %d blocks used, want %d", cut, got, want)
				}
			})
		}
	}
}

// TestTruncateTailZero writes a block full of data, truncates into its
// middle (so the block stays allocated), writes the data out and drops
// the caches, then extends the file again, by truncate and by a write
// further on: the tail of the cut block must read as zeros from the disk,
// which holds only if block_truncate_page (or nobh_truncate_page) zeroed
// and dirtied it. With those calls removed the test fails: the old bytes
// come back.
func TestTruncateTailZero(t *testing.T) {
	for _, version := range []mm.Version{mm.V2_6_12, mm.V2_6_2x, mm.V3x} {
		for _, nobh := range []bool{false, true} {
			for _, layout := range []Layout{LayoutIndirect, LayoutExtent} {
				for _, extendBy := range []string{"truncate", "write"} {
					name := fmt.Sprintf("%s/%s/nobh=%v/%s", version, layout, nobh, extendBy)
					t.Run(name, func(t *testing.T) {
						testTruncateTailZero(t, version, layout, nobh, extendBy)
					})
				}
			}
		}
	}
}

func testTruncateTailZero(t *testing.T, version mm.Version, layout Layout, nobh bool, extendBy string) {
	const bs = 4096
	e := newEnv(1, version, Options{BlockSize: bs, Layout: layout, Nobh: nobh}, 1<<14)
	ei := e.fs.NewInode(14)
	inode := ei.VFS
	f := &failer{}
	var got content.Bytes
	e.run(t, func(tk *sim.Task) {
		inode.IMutex.Lock(tk)
		writeFile(f, tk, ei, 0, content.Fill(2*bs, 7, 0))
		inode.IMutex.Unlock(tk)
		syncAndDrop(f, tk, e, ei) // the data is on disk, nothing cached
		inode.IMutex.Lock(tk)
		e.fs.SetSize(tk, ei, bs+100) // cut block 1 at byte 100
		inode.IMutex.Unlock(tk)
		syncAndDrop(f, tk, e, ei)
		inode.IMutex.Lock(tk)
		if extendBy == "truncate" {
			e.fs.SetSize(tk, ei, 3*bs)
		} else {
			writeFile(f, tk, ei, 2*bs+10, content.Fill(10, 8, 0))
		}
		inode.IMutex.Unlock(tk)
		syncAndDrop(f, tk, e, ei)
		got = readBack(f, tk, e, ei, 3)
	})
	if len(f.msgs) > 0 {
		t.Fatal(f.msgs)
	}
	want := content.Fill(bs+100, 7, 0).Truncate(3 * bs)
	if extendBy == "write" {
		want = want.Overwrite(2*bs+10, content.Fill(10, 8, 0))
	}
	if d := got.FirstDiff(want); d >= 0 {
		t.Errorf("byte %d reads %v after extending, want %v", d, got.Slice(d, 16), want.Slice(d, 16))
	}
}

// TestTruncateFreeBlocksRestored fills a file with every layout and
// policy and truncates it back to 0: the free count is restored and the
// bitmap is clean.
func TestTruncateFreeBlocksRestored(t *testing.T) {
	for _, layout := range []Layout{LayoutIndirect, LayoutExtent} {
		for _, policy := range []AllocPolicy{AllocContiguous, AllocFragmented, AllocInterleaved} {
			t.Run(fmt.Sprintf("%s/%s", layout, policy), func(t *testing.T) {
				e := newEnv(3, mm.V2_6_2x, Options{BlockSize: 1024, Layout: layout, Policy: policy, FragmentRun: 3}, 1<<14)
				a, b := e.fs.NewInode(20), e.fs.NewInode(21)
				f := &failer{}
				free0 := e.fs.FreeBlocks()
				var freeA uint64
				e.run(t, func(tk *sim.Task) {
					for i := int64(0); i < 40; i++ { // a and b interleave on disk
						writeFile(f, tk, a, i*3000, content.Fill(3000, 1, 0))
						writeFile(f, tk, b, i*1000, content.Fill(1000, 2, 0))
					}
					syncAndDrop(f, tk, e, a)
					syncAndDrop(f, tk, e, b)
					freeA = e.fs.FreeBlocks()
					a.VFS.IMutex.Lock(tk)
					e.fs.SetSize(tk, a, 0)
					a.VFS.IMutex.Unlock(tk)
					syncAndDrop(f, tk, e, a)
					if err := e.fs.Fsck(e.diskRead); err != nil {
						f.Errorf("fsck after truncating a: %v", err)
					}
					if n := len(a.Mapped()); n != 0 {
						f.Errorf("a still maps %d extents", n)
					}
					b.VFS.IMutex.Lock(tk)
					e.fs.SetSize(tk, b, 0)
					b.VFS.IMutex.Unlock(tk)
					syncAndDrop(f, tk, e, b)
					if err := e.fs.Fsck(e.diskRead); err != nil {
						f.Errorf("fsck after truncating b: %v", err)
					}
				})
				if len(f.msgs) > 0 {
					t.Fatal(f.msgs)
				}
				if freeA >= free0 {
					t.Fatalf("writing used no blocks")
				}
				if diff := cmp.Diff(free0, e.fs.FreeBlocks()); diff != "" {
					t.Errorf("free blocks after truncating both files (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestCutExtents checks the extent-list cut against a block-by-block
// model.
func TestCutExtents(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var list []Extent
		next, phys := uint64(0), uint64(100)
		for range rapid.IntRange(0, 6).Draw(rt, "n") {
			next += rapid.Uint64Range(0, 5).Draw(rt, "gap")
			n := rapid.Uint64Range(1, 5).Draw(rt, "len")
			phys += rapid.Uint64Range(1, 9).Draw(rt, "physgap")
			list = append(list, Extent{Logical: next, Phys: phys, Len: n})
			next += n
			phys += n
		}
		from := rapid.Uint64Range(0, next+2).Draw(rt, "from")
		blocks := func(l []Extent) map[uint64]uint64 {
			m := map[uint64]uint64{}
			for _, e := range l {
				for i := range e.Len {
					m[e.Logical+i] = e.Phys + i
				}
			}
			return m
		}
		all := blocks(list)
		kept, removed := cutExtents(append([]Extent(nil), list...), from)
		wantKept, wantRemoved := map[uint64]uint64{}, map[uint64]uint64{}
		for l, p := range all {
			if l < from {
				wantKept[l] = p
			} else {
				wantRemoved[l] = p
			}
		}
		if diff := cmp.Diff(wantKept, blocks(kept)); diff != "" {
			rt.Fatalf("kept (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantRemoved, blocks(removed)); diff != "" {
			rt.Fatalf("removed (-want +got):\n%s", diff)
		}
	})
}

// TestBlockTruncatePageHole: truncating into a hole touches nothing (no
// block is allocated, no page dirtied).
func TestBlockTruncatePageHole(t *testing.T) {
	e := newEnv(1, mm.V2_6_2x, Options{BlockSize: 1024}, 1<<14)
	ei := e.fs.NewInode(15)
	e.run(t, func(tk *sim.Task) {
		mm.ISizeWrite(tk, ei.VFS, 10*1024)
		if r := BlockTruncatePage(tk, ei.VFS.Mapping, 5*1024+10, e.fs.GetBlock); r != 0 {
			t.Errorf("block_truncate_page = %d", r)
		}
		p := mm.FindGetPage(tk, ei.VFS.Mapping, 1)
		if p == nil {
			t.Fatalf("no page")
		}
		if mm.PageDirty(p) {
			t.Errorf("page dirtied by a truncate into a hole")
		}
		forBuffers(p, func(bh *block.BufferHead) {
			if block.BufferMapped(bh) || block.BufferDirty(bh) {
				t.Errorf("buffer %d: %s", bh.Offset, block.BhStateNames(bh.State))
			}
		})
		mm.PageCacheRelease(tk, p)
	})
	if n := len(ei.Mapped()); n != 0 {
		t.Errorf("%d extents mapped", n)
	}
}
