package mpage

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// mpageEndIO3x is mpage_end_io(bio, err), mpage-3.x.c:44-72, 3.x: one
// handler for both directions, switching on bio_data_dir. A read marks
// each page uptodate (or not uptodate and PG_error) and unlocks it; a
// write sets PG_error and AS_EIO on failure and ends writeback. Last page
// first, as in the older handlers.
func mpageEndIO3x(t *sim.Task, bio *block.Bio, err int) {
	t.EnterAt("mpage_end_io", "mpage-3.x.c:44")
	defer t.Leave()
	uptodate := block.BioFlagged(bio, block.BIO_UPTODATE)

	for i := bio.Vcnt - 1; i >= 0; i-- {
		page := bio.IoVec[i].Page

		// prefetchw: no model meaning
		if block.BioDataDir(bio) == block.READ {
			if uptodate {
				mm.SetPageUptodate(t, page)
			} else {
				mm.ClearPageUptodate(t, page)
				mm.SetPageError(t, page)
			}
			mm.UnlockPage(t, page)
		} else { // bio_data_dir(bio) == WRITE
			if !uptodate && !mutant.On("mpage-endio-lost-error") { // mutant: cf. "buffer: set errors in mapping ..."
				mm.SetPageError(t, page)
				if page.Mapping != nil {
					mm.MappingSetFlag(t, page.Mapping, mm.AS_EIO)
				}
			}
			mm.EndPageWriteback(t, page)
		}
	}
	block.BioPut(t, bio)
}

// mpageBioSubmit3x is mpage_bio_submit(rw, bio), mpage-3.x.c:74-79, 3.x:
// one handler, then submit_bio.
func mpageBioSubmit3x(t *sim.Task, rw uint64, bio *block.Bio) *block.Bio {
	t.EnterAt("mpage_bio_submit", "mpage-3.x.c:74")
	defer t.Leave()
	bio.EndIO = mpageEndIO3x
	block.SubmitBio(t, rw, bio)
	return nil
}
