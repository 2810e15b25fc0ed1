package mm

import (
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
	"github.com/wbsim/wbsim/sim/errno"
)

// testFS is a trivial file system for tests: ->writepage sets the page
// under writeback, unlocks it and completes the "I/O" from an interrupt
// after Latency (at once, in the calling task, when Latency is 0).
// FailIndex makes the write of that page fail with -EIO at completion
// (PG_error and AS_EIO, as mpage_end_io_write does).
type testFS struct {
	NoAOps
	Latency   sim.Time
	FailIndex map[uint64]bool
	// Mutations for the mutation checks.
	SkipEndWriteback bool            // never end writeback (lost completions)
	SkipEndOnce      map[uint64]bool // lose the completion of the next write of these pages
	Written          []uint64
}

func (fs *testFS) Writepage(t *sim.Task, p *Page, wbc *WritebackControl) int {
	SetPageWriteback(t, p)
	UnlockPage(t, p)
	fs.Written = append(fs.Written, p.Index)
	fail := fs.FailIndex[p.Index]
	skip := fs.SkipEndWriteback || fs.SkipEndOnce[p.Index]
	delete(fs.SkipEndOnce, p.Index)
	complete := func(t *sim.Task) {
		if skip {
			return
		}
		if fail {
			SetPageError(t, p)
			if p.Mapping != nil {
				MappingSetFlag(t, p.Mapping, AS_EIO)
			}
		}
		EndPageWriteback(t, p)
	}
	if fs.Latency == 0 {
		complete(t)
		return 0
	}
	// The bio holds no page reference in the kernel either: writeback
	// pins the page (truncate waits for it).
	t.World().AfterIRQ(fs.Latency, "end_io", complete)
	return 0
}

// writeBegin is the write path's page set-up, write_begin/write_end
// reduced to the mm calls: grab the page, copy data in, mark it uptodate
// and dirty, unlock and release it.
func writePage(t *sim.Task, m *AddressSpace, index uint64, stamp content.Stamp) int {
	p := GrabCachePageWriteBegin(t, m, index, 0)
	if p == nil {
		return errno.ENOMEM.Neg()
	}
	CopyToPage(t, p, 0, content.Fill(PageSize, stamp, 0))
	SetPageUptodate(t, p)
	SetPageDirty(t, p)
	end := int64(index+1) << PageCacheShift
	if ISizeRead(m.Host) < end {
		ISizeWrite(t, m.Host, end)
	}
	UnlockPage(t, p)
	PageCacheRelease(t, p)
	return 0
}

func newTestKernel(w *sim.World, v Version, fs *testFS) (*Kernel, *Inode) {
	k := NewKernel(w, v)
	ino := k.NewInode(7, 12, fs, nil)
	return k, ino
}
