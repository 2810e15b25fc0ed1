package mpage

import (
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/content"
)

// Cleancache is a cleancache backend (struct cleancache_ops, 3.x): a
// second-chance cache of clean pages that the kernel consults before it
// reads a page from disk. GetPage is cleancache_ops.get_page: fill the
// locked page with the cached contents of its (inode, index) and return 0,
// or return -1 if it has none.
type Cleancache interface {
	GetPage(t *sim.Task, p *mm.Page) int
}

// cleancacheGetPage is cleancache_get_page(page), include/linux/
// cleancache.h and mm/cleancache.c, Linux 3.2: -1 unless cleancache is
// enabled (a backend is configured), else the backend's answer.
func cleancacheGetPage(t *sim.Task, st *state, page *mm.Page) int {
	cc := st.cfg.Cleancache
	if cc == nil { // !cleancache_enabled
		return -1
	}
	t.Point("cleancache_get_page", page.Obj(), 0)
	if !mm.PageLocked(page) {
		t.BUG(page.Obj(), "cleancache_get_page: VM_BUG_ON(!PageLocked(page))")
	}
	ret := cc.GetPage(t, page)
	if ret == 0 {
		st.stats.CleancacheHits++
	}
	return ret
}

// cleancacheReadpage3x is the cleancache hook of do_mpage_readpage,
// mpage-3.x.c:275-279, 3.x only:
//
//	if (fully_mapped && blocks_per_page == 1 && !PageUptodate(page) &&
//	    cleancache_get_page(page) == 0) {
//		SetPageUptodate(page);
//		goto confused;
//	}
//
// It reports whether the page was filled, in which case the caller goes to
// confused, which unlocks the uptodate page without reading it.
func cleancacheReadpage3x(t *sim.Task, st *state, page *mm.Page, fullyMapped bool, blocksPerPage uint32) bool {
	if fullyMapped && blocksPerPage == 1 && !mm.PageUptodate(page) &&
		cleancacheGetPage(t, st, page) == 0 {
		mm.SetPageUptodate(t, page)
		return true
	}
	return false
}

// MemCleancache is a simple in-memory cleancache backend for tests:
// Put stores a page's contents under (inode, index), GetPage copies them
// back. It is not safe for use by several worlds at once.
type MemCleancache struct {
	pages map[[2]uint64]content.Bytes
	Gets  int // GetPage calls
}

// Put stores data as the cached contents of page index of inode ino
// (cleancache_put_page, done by the kernel when a clean page leaves the
// page cache).
func (c *MemCleancache) Put(ino, index uint64, data content.Bytes) {
	if c.pages == nil {
		c.pages = map[[2]uint64]content.Bytes{}
	}
	c.pages[[2]uint64{ino, index}] = data
}

// Invalidate drops the cached contents of page index of inode ino
// (cleancache_invalidate_page).
func (c *MemCleancache) Invalidate(ino, index uint64) { delete(c.pages, [2]uint64{ino, index}) }

// GetPage implements Cleancache.
func (c *MemCleancache) GetPage(t *sim.Task, p *mm.Page) int {
	c.Gets++
	d, ok := c.pages[[2]uint64{p.Ino(), p.Index}]
	if !ok {
		return -1
	}
	mm.CopyToPage(t, p, 0, d)
	return 0
}
