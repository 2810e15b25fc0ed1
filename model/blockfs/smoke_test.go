package blockfs

import (
	"testing"

	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

func TestSmokeWriteRead(t *testing.T) {
	e := newEnv(1, mm.V2_6_2x, Options{BlockSize: 1024}, 1<<16)
	ino := e.fs.NewInode(10)
	m := ino.VFS.Mapping
	size := int64(20*mm.PageSize + 100)
	writes := []write{{0, size, 7}}
	want := fileData(size, writes)
	e.run(t, func(tk *sim.Task) {
		mm.ISizeWrite(tk, ino.VFS, size)
		var pages []*mm.Page
		for i := uint64(0); i < 21; i++ {
			pages = append(pages, dirtyPage(tk, m, i, want.Slice(int64(i)*mm.PageSize, min(mm.PageSize, size-int64(i)*mm.PageSize)).Truncate(mm.PageSize)))
		}
		for _, p := range pages {
			mm.LockPage(tk, p)
			mm.ClearPageDirtyForIO(tk, p)
			wbc := &mm.WritebackControl{SyncMode: mm.WB_SYNC_ALL}
			if r := block.BlockWriteFullPage(tk, p, e.fs.GetBlock, wbc); r != 0 {
				t.Errorf("writepage %d: %d", p.Index, r)
			}
		}
		for _, p := range pages {
			mm.WaitOnPageWriteback(tk, p)
			mm.PageCacheRelease(tk, p)
		}
		mm.InvalidateMappingPages(tk, m, 0, ^uint64(0))
		if m.NrPages != 0 {
			t.Errorf("%d pages left after invalidate", m.NrPages)
		}
		var got content.Bytes
		for i := uint64(0); i < 21; i++ {
			p := mm.FindOrCreatePage(tk, m, i)
			block.BlockReadFullPage(tk, p, e.fs.GetBlock)
			mm.WaitOnPageLocked(tk, p)
			if !mm.PageUptodate(p) {
				t.Errorf("page %d not uptodate", i)
			}
			got = got.Append(p.Data)
			mm.PageCacheRelease(tk, p)
		}
		if !got.Slice(0, size).Equal(want) {
			t.Errorf("read back differs at %d:\n got %v\nwant %v", got.FirstDiff(want), got.Slice(0, size), want)
		}
		if !got.Slice(size, got.Len()-size).Equal(content.Zeros(got.Len() - size)) {
			t.Errorf("tail past EOF not zero: %v", got.Slice(size, got.Len()-size))
		}
	})
	t.Logf("free %d of %d, %d requests", e.fs.FreeBlocks(), e.fs.NBlocks(), len(e.dev.Log))
}
