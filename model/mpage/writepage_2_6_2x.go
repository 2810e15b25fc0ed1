package mpage

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// mpageWritepages2x is mpage_writepages(mapping, wbc, get_block),
// mpage-2.6.2x.c:618-637, 2.6.2x: without get_block, generic_writepages;
// else write_cache_pages (mm's, of the 2.6.2x era) with __mpage_writepage
// as the callback and struct mpage_data as its state, then submit the last
// bio.
func mpageWritepages2x(t *sim.Task, st *state, mapping *mm.AddressSpace, wbc *mm.WritebackControl,
	getBlock block.GetBlockFunc) int {
	t.EnterAt("mpage_writepages", "mpage-2.6.2x.c:618")
	defer t.Leave()
	var ret int
	if getBlock == nil {
		ret = mm.GenericWritepages(t, mapping, wbc)
	} else {
		mpd := mpageData{
			bio:            nil,
			lastBlockInBio: 0,
			getBlock:       getBlock,
			useWritepage:   true,
			st:             st,
		}
		ret = mm.WriteCachePages(t, mapping, wbc, mpageWritepageT, &mpd)
		if mpd.bio != nil {
			mpageBioSubmit(t, st, block.WRITE, mpd.bio)
		}
	}
	return ret
}
