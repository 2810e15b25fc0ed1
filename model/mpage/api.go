package mpage

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// The exported entry points: the functions a file system's a_ops call. Each
// dispatches on the kernel's version (mm.Kernel.Version) to the era's code.

// MpageReadpages is mpage_readpages(mapping, pages, nr_pages, get_block):
// read nrPages new pages (not yet in the page cache, each holding the
// caller's reference, Index set) in multi-page bios. pages is in file
// order, lowest offset first. It returns 0; the pages are unlocked as
// their reads complete.
func MpageReadpages(t *sim.Task, mapping *mm.AddressSpace, pages []*mm.Page, nrPages uint,
	getBlock block.GetBlockFunc) int {
	st := stateOf(mapping.Host.Kernel)
	if st.version == mm.V2_6_12 {
		return mpageReadpages2612(t, st, mapping, pages, uint32(nrPages), getBlock)
	}
	return mpageReadpages(t, st, mapping, pages, uint32(nrPages), getBlock)
}

// MpageReadpage is mpage_readpage(page, get_block): read one locked page
// of the page cache. It returns 0; the page is unlocked when the read
// completes.
func MpageReadpage(t *sim.Task, page *mm.Page, getBlock block.GetBlockFunc) int {
	st := stateOf(page.Mapping.Host.Kernel)
	if st.version == mm.V2_6_12 {
		return mpageReadpage2612(t, st, page, getBlock)
	}
	return mpageReadpage(t, st, page, getBlock)
}

// MpageWritepages is mpage_writepages(mapping, wbc, get_block): write the
// mapping's dirty pages in multi-page bios (->writepages). With a nil
// getBlock every page goes to the mapping's ->writepage (2.6.12's
// generic_writepages).
func MpageWritepages(t *sim.Task, mapping *mm.AddressSpace, wbc *mm.WritebackControl,
	getBlock block.GetBlockFunc) int {
	st := stateOf(mapping.Host.Kernel)
	switch st.version {
	case mm.V2_6_12:
		return mpageWritepages2612(t, st, mapping, wbc, getBlock)
	case mm.V3x:
		return mpageWritepages3x(t, st, mapping, wbc, getBlock)
	default:
		return mpageWritepages2x(t, st, mapping, wbc, getBlock)
	}
}

// MpageWritepage is mpage_writepage(page, get_block, wbc): write one
// locked, cleaned page in a bio of its own; -EAGAIN (and the page still
// locked) if it is not simple enough.
func MpageWritepage(t *sim.Task, page *mm.Page, getBlock block.GetBlockFunc, wbc *mm.WritebackControl) int {
	return mpageWritepage(t, stateOf(page.Mapping.Host.Kernel), page, getBlock, wbc)
}
