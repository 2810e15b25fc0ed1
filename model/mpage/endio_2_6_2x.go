package mpage

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// The 2.6.2x completion handlers: bi_end_io(bio, err), called once when
// the whole bio is done, one handler per direction. A write error sets
// AS_EIO on the mapping as well as PG_error.

// mpageEndIORead2x is mpage_end_io_read(bio, err), mpage-2.6.2x.c:40-57,
// 2.6.2x: mark every page uptodate (or not uptodate and PG_error) and
// unlock it, last page first.
func mpageEndIORead2x(t *sim.Task, bio *block.Bio, err int) {
	t.EnterAt("mpage_end_io_read", "mpage-2.6.2x.c:40")
	defer t.Leave()
	uptodate := block.BioFlagged(bio, block.BIO_UPTODATE)
	for i := bio.Vcnt - 1; i >= 0; i-- {
		page := bio.IoVec[i].Page
		// prefetchw: no model meaning
		if uptodate {
			mm.SetPageUptodate(t, page)
		} else {
			mm.ClearPageUptodate(t, page)
			mm.SetPageError(t, page)
		}
		mm.UnlockPage(t, page)
	}
	block.BioPut(t, bio)
}

// mpageEndIOWrite2x is mpage_end_io_write(bio, err), mpage-2.6.2x.c:58-74,
// 2.6.2x: on failure set PG_error and AS_EIO on the page's mapping (if it
// still has one, lines 66-70); end writeback on every page, last first.
func mpageEndIOWrite2x(t *sim.Task, bio *block.Bio, err int) {
	t.EnterAt("mpage_end_io_write", "mpage-2.6.2x.c:58")
	defer t.Leave()
	uptodate := block.BioFlagged(bio, block.BIO_UPTODATE)
	for i := bio.Vcnt - 1; i >= 0; i-- {
		page := bio.IoVec[i].Page
		if !uptodate && !mutant.On("mpage-endio-lost-error") { // mutant: cf. "buffer: set errors in mapping ..."
			mm.SetPageError(t, page)
			if page.Mapping != nil {
				mm.MappingSetFlag(t, page.Mapping, mm.AS_EIO)
			}
		}
		mm.EndPageWriteback(t, page)
	}
	block.BioPut(t, bio)
}

// mpageBioSubmit2x is mpage_bio_submit(rw, bio), mpage-2.6.2x.c:75-82,
// 2.6.2x: the read or the write handler, then submit_bio.
func mpageBioSubmit2x(t *sim.Task, rw uint64, bio *block.Bio) *block.Bio {
	t.EnterAt("mpage_bio_submit", "mpage-2.6.2x.c:75")
	defer t.Leave()
	bio.EndIO = mpageEndIORead2x
	if rw == block.WRITE {
		bio.EndIO = mpageEndIOWrite2x
	}
	block.SubmitBio(t, rw, bio)
	return nil
}
