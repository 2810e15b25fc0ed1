package mm

import "github.com/wbsim/wbsim/sim"

// Pagevecs: include/linux/pagevec.h and mm/swap.c, Linux 2.6.32.

// PAGEVEC_SIZE is the number of pages in a pagevec.
const PAGEVEC_SIZE = 14

// Pagevec is struct pagevec: a small batch of page references.
type Pagevec struct {
	Nr    int
	Cold  bool
	Pages [PAGEVEC_SIZE]*Page
}

// PagevecInit is pagevec_init(pvec, cold).
func PagevecInit(pv *Pagevec, cold bool) { pv.Nr = 0; pv.Cold = cold }

// PagevecReinit is pagevec_reinit(pvec).
func PagevecReinit(pv *Pagevec) { pv.Nr = 0 }

// PagevecCount is pagevec_count(pvec).
func PagevecCount(pv *Pagevec) int { return pv.Nr }

// PagevecSpace is pagevec_space(pvec).
func PagevecSpace(pv *Pagevec) int { return PAGEVEC_SIZE - pv.Nr }

// PagevecAdd is pagevec_add(pvec, page): add a page and return the space
// left (0 means full).
func PagevecAdd(pv *Pagevec, p *Page) int {
	pv.Pages[pv.Nr] = p
	pv.Nr++
	return PagevecSpace(pv)
}

// PagevecRelease is pagevec_release(pvec), include/linux/pagevec.h,
// Linux 2.6.32 (3.2 is the same; read via the search tool):
// __pagevec_release if the pagevec holds any page.
func PagevecRelease(t *sim.Task, pv *Pagevec) {
	if PagevecCount(pv) != 0 {
		PagevecReleaseInner(t, pv)
	}
}

// PagevecReleaseInner is __pagevec_release(pvec), mm/swap.c, Linux
// 2.6.32 (3.2 is the same; read via the search tool): lru_add_drain (a
// no-op here: the model's LRU adds are immediate), drop every page's
// reference (release_pages), pagevec_reinit. fs/afs/write.c calls it
// directly.
func PagevecReleaseInner(t *sim.Task, pv *Pagevec) {
	for i := range pv.Nr {
		PageCacheRelease(t, pv.Pages[i])
		pv.Pages[i] = nil
	}
	PagevecReinit(pv)
}

// PagevecLookup is pagevec_lookup(pvec, mapping, start, nr_pages).
func PagevecLookup(t *sim.Task, pv *Pagevec, m *AddressSpace, start uint64, nr int) int {
	pv.Nr = FindGetPages(t, m, start, min(nr, PAGEVEC_SIZE), pv.Pages[:])
	return pv.Nr
}

// PagevecLookupTag is pagevec_lookup_tag(pvec, mapping, index, tag,
// nr_pages): find_get_pages_tag into the pagevec, advancing *index.
func PagevecLookupTag(t *sim.Task, pv *Pagevec, m *AddressSpace, index *uint64, tag int, nr int) int {
	pv.Nr = FindGetPagesTag(t, m, index, tag, min(nr, PAGEVEC_SIZE), pv.Pages[:])
	return pv.Nr
}

// PagevecLRUAdd is pagevec_lru_add(pvec) / __pagevec_lru_add (2.6.12):
// put every page on the LRU, then drop the pagevec's references.
func PagevecLRUAdd(t *sim.Task, pv *Pagevec) {
	for i := range pv.Nr {
		LRUCacheAdd(t, pv.Pages[i])
	}
	PagevecRelease(t, pv)
}
