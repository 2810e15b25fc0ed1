package mpage

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// The 2.6.12 completion handlers: bi_end_io(bio, bytes_done, err) returns
// int and may be called several times for one bio, as the driver ends it
// piece by piece (block.BioEndio2612 subtracts bytes_done from bi_size
// first). While bi_size is not zero the handler returns 1, "not done
// yet", and touches no page. A write error sets PG_error but, unlike the
// later eras, not AS_EIO on the mapping.

// mpageEndIORead2612 is mpage_end_io_read(bio, bytes_done, err),
// mpage-2.6.12.numbered.c:42-65, 2.6.12: once the whole bio is done, mark
// every page uptodate (or not uptodate and PG_error) and unlock it, last
// page first.
func mpageEndIORead2612(t *sim.Task, bio *block.Bio, bytesDone uint, err int) int {
	t.EnterAt("mpage_end_io_read", "mpage-2.6.12.numbered.c:42")
	defer t.Leave()
	uptodate := block.BioFlagged(bio, block.BIO_UPTODATE)

	if bio.Size != 0 {
		return 1
	}

	for i := bio.Vcnt - 1; i >= 0; i-- {
		page := bio.IoVec[i].Page
		// prefetchw(&bvec->bv_page->flags) of the next page: no model meaning

		if uptodate {
			mm.SetPageUptodate(t, page)
		} else {
			mm.ClearPageUptodate(t, page)
			mm.SetPageError(t, page)
		}
		mm.UnlockPage(t, page)
	}
	block.BioPut(t, bio)
	return 0
}

// mpageEndIOWrite2612 is mpage_end_io_write(bio, bytes_done, err),
// mpage-2.6.12.numbered.c:68-87, 2.6.12: once the whole bio is done, set
// PG_error on every page if it failed (and nothing on the mapping: no
// AS_EIO, lines 82-83) and end its writeback, last page first. With
// Fixes.AsyncWriteEIO it sets AS_EIO too, as 2.6.2x does.
func mpageEndIOWrite2612(t *sim.Task, bio *block.Bio, bytesDone uint, err int) int {
	t.EnterAt("mpage_end_io_write", "mpage-2.6.12.numbered.c:68")
	defer t.Leave()
	uptodate := block.BioFlagged(bio, block.BIO_UPTODATE)

	if bio.Size != 0 {
		return 1
	}

	for i := bio.Vcnt - 1; i >= 0; i-- {
		page := bio.IoVec[i].Page

		if !uptodate {
			mm.SetPageError(t, page)
			if page.Mapping != nil && stateOf(page.Mapping.Host.Kernel).cfg.Fixes.AsyncWriteEIO {
				mm.MappingSetFlag(t, page.Mapping, mm.AS_EIO)
			}
		}
		mm.EndPageWriteback(t, page)
	}
	block.BioPut(t, bio)
	return 0
}

// mpageBioSubmit2612 is mpage_bio_submit(rw, bio),
// mpage-2.6.12.numbered.c:90-96, 2.6.12: the read or the write handler,
// in their bytes_done form, then submit_bio.
func mpageBioSubmit2612(t *sim.Task, rw uint64, bio *block.Bio) *block.Bio {
	t.EnterAt("mpage_bio_submit", "mpage-2.6.12.numbered.c:90")
	defer t.Leave()
	bio.EndIO2612 = mpageEndIORead2612
	if rw == block.WRITE {
		bio.EndIO2612 = mpageEndIOWrite2612
	}
	block.SubmitBio(t, rw, bio)
	return nil
}
