package mpage_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/blockfs"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/model/mpage"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// extent is a run of disk blocks one request covered: [Start, Start+N).
type extent struct{ Start, N int64 }

func (x extent) String() string { return fmt.Sprintf("%d+%d", x.Start, x.N) }

// requests lists the requests of op the device saw since from, in
// dispatch order, in file-system blocks.
func (e *env) requests(from int, op block.ReqOp) []extent {
	bs := int64(e.fs.BlockSize())
	var out []extent
	for _, rq := range e.dev.Log[from:] {
		if rq.Op == op {
			out = append(out, extent{rq.Sector * block.SectorSize / bs, rq.Len / bs})
		}
	}
	return out
}

// writeAndDrop writes size bytes of stamp 1 from offset 0, fsyncs, and
// drops the file's page cache and the block device's buffer cache, so
// that the next read goes to the disk for data and metadata.
func writeAndDrop(tb testing.TB, t *sim.Task, f *file, size int64) {
	if r := f.write(t, 0, size, 1); r != 0 {
		tb.Fatalf("write: %d", r)
	}
	if r := f.fsync(t); r != 0 {
		tb.Fatalf("fsync: %d", r)
	}
	f.dropCache(t)
	// The indirect blocks' page stays PG_dirty after sync_mapping_buffers
	// wrote its buffers: write the block device's cache back (its
	// ->writepage finds the buffers clean) so that it can be dropped.
	bdm := f.e.bdev.Inode.Mapping
	if r := mm.FilemapWriteAndWait(t, bdm); r != 0 {
		tb.Fatalf("block device writeback: %d", r)
	}
	mm.InvalidateMappingPages(t, bdm, 0, f.e.k.PgoffMax())
	if bdm.NrPages != 0 {
		tb.Fatalf("%d pages left in the block device's cache", bdm.NrPages)
	}
}

// TestReadBiosMaximal: reading a contiguous file builds bios as large as
// the queue allows (max_sectors 256: 32 pages of 4 KiB), one request each.
func TestReadBiosMaximal(t *testing.T) {
	for _, v := range versions {
		for _, bs := range []uint{1024, 4096} {
			e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: bs, Layout: blockfs.LayoutExtent}})
			f := e.newFile(20)
			var from int
			e.run(t, func(tk *sim.Task) {
				writeAndDrop(t, tk, f, 64*mm.PageSize)
				from = len(e.dev.Log)
				got, err := f.readAll(tk, 64)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(got, f.want()); d != "" {
					t.Errorf("%s: read: %s", v, d)
				}
			})
			phys, _, _ := f.ei.Lookup(0)
			per := int64(32 * mm.PageSize / int64(bs))
			want := []extent{{int64(phys), per}, {int64(phys) + per, per}}
			if d := cmp.Diff(want, e.requests(from, block.ReqRead)); d != "" {
				t.Errorf("%s bs %d: read requests (-want +got):\n%s", v, bs, d)
			}
		}
	}
}

// TestBoundaryOrder: reading the first 16 blocks of an ext2 file (4 KiB
// blocks: data blocks 0-11 direct, then the indirect block, then data
// blocks 12-15) submits data 0-11, then reads the indirect block, then
// data 12-15: BH_Boundary on block 11 pushes the first bio out before
// get_block reads the indirect block. With Fixes.BoundaryIgnored the
// indirect block goes first: "12 0 1 2 ... 11 13 14 15 16" in the seed's
// comment (mpage-2.6.12.numbered.c:196-200), counting disk blocks.
func TestBoundaryOrder(t *testing.T) {
	for _, v := range versions {
		for _, ignored := range []bool{false, true} {
			e := newEnv(envOpts{version: v, cfg: mpage.Config{Fixes: mpage.Fixes{BoundaryIgnored: ignored}},
				fs: blockfs.Options{BlockSize: 4096, Layout: blockfs.LayoutIndirect}})
			f := e.newFile(21)
			var from int
			e.run(t, func(tk *sim.Task) {
				writeAndDrop(t, tk, f, 16*mm.PageSize)
				from = len(e.dev.Log)
				f.readahead(tk, 0, 16)
				got, err := f.readAll(tk, 16)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(got, f.want()); d != "" {
					t.Errorf("%s: read: %s", v, d)
				}
			})
			p, n, _ := f.ei.Lookup(0)
			q, _, _ := f.ei.Lookup(12)
			ind := int64(f.ei.Data[blockfs.EXT2_IND_BLOCK])
			if n != 12 || ind != int64(p)+12 || q != p+13 {
				t.Fatalf("%s: unexpected layout: data 0 at %d (+%d), indirect at %d, data 12 at %d", v, p, n, ind, q)
			}
			data0, data12 := extent{int64(p), 12}, extent{int64(q), 4}
			want := []extent{data0, {ind, 1}, data12}
			if ignored {
				want = []extent{{ind, 1}, data0, data12}
			}
			got := e.requests(from, block.ReqRead)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s boundary-ignored=%v: read requests (-want +got):\n%s", v, ignored, d)
			}
			order := blockOrder(got, int64(p))
			t.Logf("%s boundary-ignored=%v: disk blocks in request order: %v", v, ignored, order)
		}
	}
}

// blockOrder lists the disk blocks of the requests, relative to base, in
// the order they were requested: the seed comment's notation.
func blockOrder(rqs []extent, base int64) []int64 {
	var out []int64
	for _, x := range rqs {
		for b := x.Start; b < x.Start+x.N; b++ {
			out = append(out, b-base)
		}
	}
	return out
}

// TestConfusedFallback: a page whose blocks are not contiguous
// (fragmented allocation) or that has a hole before data goes to the
// buffer path, for reads (block_read_full_page) and writes (->writepage),
// and the data is still right.
func TestConfusedFallback(t *testing.T) {
	for _, v := range versions {
		t.Run(string(v)+"/fragmented", func(t *testing.T) {
			e := newEnv(envOpts{version: v, seed: 3, fs: blockfs.Options{BlockSize: 1024,
				Layout: blockfs.LayoutExtent, Policy: blockfs.AllocFragmented, FragmentRun: 1}})
			f := e.newFile(22)
			var readConfused int64
			e.run(t, func(tk *sim.Task) {
				writeAndDrop(t, tk, f, 8*mm.PageSize)
				before := mpage.StatsOf(e.k).ReadConfused
				got, err := f.readAll(tk, 8)
				if err != nil {
					t.Fatal(err)
				}
				readConfused = mpage.StatsOf(e.k).ReadConfused - before
				if d := diff(got, f.want()); d != "" {
					t.Errorf("read: %s", d)
				}
			})
			if d := diff(f.diskImage(), f.wantBlocks()); d != "" {
				t.Errorf("disk: %s", d)
			}
			st := mpage.StatsOf(e.k)
			if readConfused == 0 || st.WriteConfused == 0 {
				t.Errorf("fragmented pages did not take the confused paths: %+v", st)
			}
		})
		t.Run(string(v)+"/hole-before-data", func(t *testing.T) {
			e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: 1024}})
			f := e.newFile(23)
			var readConfused int64
			e.run(t, func(tk *sim.Task) {
				// Blocks 0 and 2 of page 0 hold data, block 1 is a hole.
				if f.write(tk, 0, 100, 1) != 0 || f.write(tk, 2048, 100, 2) != 0 {
					t.Fatal("write failed")
				}
				if r := f.fsync(tk); r != 0 {
					t.Fatalf("fsync: %d", r)
				}
				f.dropCache(tk)
				before := mpage.StatsOf(e.k).ReadConfused
				got, err := f.readAll(tk, 1)
				if err != nil {
					t.Fatal(err)
				}
				readConfused = mpage.StatsOf(e.k).ReadConfused - before
				if d := diff(got, f.want()); d != "" {
					t.Errorf("read: %s", d)
				}
			})
			if _, _, ok := f.ei.Lookup(1); ok {
				t.Fatalf("block 1 is mapped; the test wants a hole there")
			}
			if d := diff(f.diskImage(), f.wantBlocks()); d != "" {
				t.Errorf("disk: %s", d)
			}
			st := mpage.StatsOf(e.k)
			if readConfused != 1 || st.WriteConfused != 1 || st.ReadBios != 0 || st.WriteBios != 0 {
				t.Errorf("the page with a hole before data did not take the confused paths: %+v", st)
			}
		})
	}
}

// TestEOFZeroing: the page that straddles i_size is zeroed past EOF on
// every writepage, so bytes dirtied there (an mmap store past EOF) never
// reach the disk; reads past EOF return zeros.
func TestEOFZeroing(t *testing.T) {
	for _, v := range versions {
		for _, bs := range []uint{1024, 4096} {
			for _, nobh := range []bool{false, true} {
				if nobh && bs != mm.PageSize {
					continue
				}
				name := fmt.Sprintf("%s/bs%d/nobh=%v", v, bs, nobh)
				e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: bs, Nobh: nobh}})
				f := e.newFile(24)
				const size = 2*mm.PageSize + 100
				e.run(t, func(tk *sim.Task) {
					if f.write(tk, 0, size, 1) != 0 {
						t.Fatal("write failed")
					}
					for round := range 2 {
						// Scribble past EOF in the cached last page and
						// dirty it, as a store through a shared mapping
						// would.
						p := mm.FindLockPage(tk, f.ino.Mapping, 2)
						mm.CopyToPage(tk, p, 100, content.Fill(mm.PageSize-100, content.Stamp(90+round), 0))
						mm.SetPageDirty(tk, p)
						mm.UnlockPage(tk, p)
						if r := mm.FilemapWriteAndWait(tk, f.ino.Mapping); r != 0 {
							t.Fatalf("%s: fsync: %d", name, r)
						}
						if d := diff(p.Data, f.want().Slice(2*mm.PageSize, mm.PageSize)); d != "" {
							t.Errorf("%s round %d: cached page not zeroed past EOF: %s", name, round, d)
						}
						mm.PageCacheRelease(tk, p)
						if d := diff(f.diskImage(), f.wantBlocks()); d != "" {
							t.Errorf("%s round %d: disk: %s", name, round, d)
						}
					}
					f.dropCache(tk)
					got, err := f.readAll(tk, 4)
					if err != nil {
						t.Fatal(err)
					}
					if d := diff(got, f.want()); d != "" {
						t.Errorf("%s: read past EOF: %s", name, d)
					}
				})
			}
		}
	}
}

// TestReadPastEOFNotRead: blocks wholly past EOF are zero-filled, not
// read, even when the disk blocks behind them hold data (first_hole).
func TestReadPastEOFNotRead(t *testing.T) {
	for _, v := range versions {
		e := newEnv(envOpts{version: v, fs: blockfs.Options{BlockSize: 1024, Layout: blockfs.LayoutExtent}})
		f := e.newFile(25)
		e.run(t, func(tk *sim.Task) {
			// Four blocks are mapped (a 4 KiB write), then the file is
			// cut to 2048 bytes: blocks 2 and 3 stay mapped (blockfs
			// frees nothing) and hold data past EOF. (A cut inside a
			// block would leave stale bytes in the last block: blockfs
			// has no ->truncate, so no block_truncate_page zeroes them.)
			writeAndDrop(t, tk, f, mm.PageSize)
			f.setSize(tk, 2048)
			f.dropCache(tk)
			got, err := f.readAll(tk, 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(got, f.want()); d != "" {
				t.Errorf("%s: %s", v, d)
			}
		})
		if _, _, ok := f.ei.Lookup(3); !ok {
			t.Fatalf("%s: block 3 not mapped; the test wants data behind EOF", v)
		}
	}
}
