package mpage

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// mpageWritepages3x is mpage_writepages(mapping, wbc, get_block),
// mpage-3.x.c:672-697, 3.x: as 2.6.2x (generic_writepages, or
// write_cache_pages of the 3.x era with __mpage_writepage), inside an
// on-stack plug (blk_start_plug, 676-679; blk_finish_plug, 695): the bios
// collect in the plug, merge with their neighbours, and go to the device
// at blk_finish_plug, when the plug fills, or when the task sleeps.
func mpageWritepages3x(t *sim.Task, st *state, mapping *mm.AddressSpace, wbc *mm.WritebackControl,
	getBlock block.GetBlockFunc) int {
	t.EnterAt("mpage_writepages", "mpage-3.x.c:672")
	defer t.Leave()
	var plug block.BlkPlug
	var ret int

	block.BlkStartPlug(t, &plug)

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
	block.BlkFinishPlug(t, &plug)
	return ret
}
