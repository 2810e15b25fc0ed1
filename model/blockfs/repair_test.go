package blockfs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// TestRepair: a 20-block file of 1 KiB blocks (12 direct, 8 under the
// indirect block), written out with its indirect block. On the image as
// written, Repair finds nothing and maps what the file system recorded.
// On an image that lost the indirect block (zeros: the crash lost its
// write), the 8 blocks under it are leaked: the bitmap and free count are
// fixed, and the file maps its 12 direct blocks. On an image where the
// indirect block holds file data (a reused block whose new contents were
// lost), its slots are illegal: cleared, and unexpected in preen mode.
func TestRepair(t *testing.T) {
	const bs = 1024
	e := newEnv(5, mm.V2_6_2x, Options{BlockSize: bs}, 1<<16)
	ei := e.fs.NewInode(10)
	const npages = 5
	size := int64(npages) * mm.PageSize
	want := fileData(size, []write{{0, size, 5}})
	f := &failer{}
	e.run(t, func(tk *sim.Task) {
		mm.ISizeWrite(tk, ei.VFS, size)
		var pages []*mm.Page
		for i := uint64(0); i < npages; i++ {
			pages = append(pages, dirtyPage(tk, ei.VFS.Mapping, i, want.Slice(int64(i)*mm.PageSize, mm.PageSize)))
		}
		writeOut(f, tk, e, ei, pages)
		for _, p := range pages {
			mm.PageCacheRelease(tk, p)
		}
		dropCaches(f, tk, e, ei)
	})
	for _, m := range f.msgs {
		t.Fatal(m)
	}
	ind := int64(ei.Data[EXT2_IND_BLOCK])
	if ind == 0 {
		t.Fatal("no indirect block")
	}
	ino := ei.VFS.Ino
	with := func(b content.Bytes) func(off, n int64) content.Bytes {
		return func(off, n int64) content.Bytes {
			got := e.diskRead(off, n)
			if lo, hi := max(off, ind*bs), min(off+n, (ind+1)*bs); lo < hi {
				got = got.Overwrite(lo-off, b.Slice(lo-ind*bs, hi-lo))
			}
			return got
		}
	}

	r := e.fs.Repair(e.diskRead)
	if len(r.Fixed)+len(r.Unexpected) > 0 {
		t.Errorf("clean image: fixed %q, unexpected %q", r.Fixed, r.Unexpected)
	}
	if d := cmp.Diff(ei.Mapped(), r.Maps[ino]); d != "" {
		t.Errorf("clean image maps (-recorded +repaired):\n%s", d)
	}

	r = e.fs.Repair(with(content.Zeros(bs)))
	direct := ei.Mapped()[0]
	if len(ei.Mapped()) != 2 || direct.Len != EXT2_NDIR_BLOCKS {
		t.Fatalf("unexpected layout %v", ei.Mapped())
	}
	under := ei.Mapped()[1]
	wantFixed := []string{
		fmt.Sprintf("Block bitmap differences: -(%d--%d).  FIXED.", under.Phys, under.Phys+under.Len-1),
		fmt.Sprintf("Free blocks count wrong (%d, counted=%d).  FIXED.", e.fs.FreeBlocks(), e.fs.FreeBlocks()+under.Len),
	}
	if d := cmp.Diff(wantFixed, r.Fixed); d != "" || len(r.Unexpected) > 0 {
		t.Errorf("lost indirect block: fixed (-want +got):\n%s\nunexpected %q", d, r.Unexpected)
	}
	if d := cmp.Diff([]Extent{direct}, r.Maps[ino]); d != "" {
		t.Errorf("lost indirect block maps (-want +got):\n%s", d)
	}

	r = e.fs.Repair(with(content.Fill(bs, 9, 0)))
	if len(r.Unexpected) == 0 || !strings.HasPrefix(r.Unexpected[0], "Illegal block #12 (garbage) in inode") {
		t.Errorf("garbage indirect block: unexpected %q", r.Unexpected)
	}
	if len(r.Fixed) != 2 || len(r.Maps[ino]) != 1 {
		t.Errorf("garbage indirect block: fixed %q, maps %v", r.Fixed, r.Maps[ino])
	}
	if err := e.fs.Fsck(e.diskRead); err != nil {
		t.Errorf("Repair changed the file system: %v", err)
	}
}
