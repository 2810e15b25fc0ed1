package mm

import (
	"fmt"

	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// Page contents: include/linux/highmem.h's zeroing helpers and the copies
// the write path does, on symbolic content. Each is a scheduling point
// (the bytes of a page change while other tasks may read them for I/O).

// ZeroUserSegments is zero_user_segments(page, start1, end1, start2, end2).
func ZeroUserSegments(t *sim.Task, p *Page, start1, end1, start2, end2 uint) {
	t.Point("zero_user_segments", p.Obj(), int64(start1))
	alive(t, p, "zero_user_segments")
	if end1 > PageCacheSize || end2 > PageCacheSize || start1 > end1 || start2 > end2 {
		t.BUG(p.Obj(), "zero_user_segments: bad range [%d,%d) [%d,%d)", start1, end1, start2, end2)
	}
	d := p.Data
	if end1 > start1 {
		d = d.Overwrite(int64(start1), content.Zeros(int64(end1-start1)))
	}
	if end2 > start2 {
		d = d.Overwrite(int64(start2), content.Zeros(int64(end2-start2)))
	}
	p.Data = d
}

// ZeroUserSegment is zero_user_segment(page, start, end).
func ZeroUserSegment(t *sim.Task, p *Page, start, end uint) {
	ZeroUserSegments(t, p, start, end, 0, 0)
}

// ZeroUser is zero_user(page, start, size).
func ZeroUser(t *sim.Task, p *Page, start, size uint) {
	ZeroUserSegments(t, p, start, start+size, 0, 0)
}

// CopyToPage stores b at offset off of the page (the copy of
// iov_iter_copy_from_user_atomic in the write path, or of a read
// completion filling the page).
func CopyToPage(t *sim.Task, p *Page, off uint, b content.Bytes) {
	t.Point("copy_to_page", p.Obj(), int64(off))
	alive(t, p, "copy_to_page")
	if int64(off)+b.Len() > PageCacheSize {
		panic(fmt.Sprintf("mm: CopyToPage: %d bytes at %d overflow the page", b.Len(), off))
	}
	p.Data = p.Data.Overwrite(int64(off), b)
}

// PageData returns bytes [off, off+n) of the page (a copy out of it: a
// read, or a bio taking the page's contents).
func PageData(p *Page, off, n int64) content.Bytes { return p.Data.Slice(off, n) }
