package mpage

import (
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// doMpageReadpage2612 is do_mpage_readpage(bio, page, nr_pages,
// last_block_in_bio, get_block), mpage-2.6.12.numbered.c:209-320, 2.6.12:
// map every block of the page with one get_block call each, on a stack
// buffer_head; add the page to the bio if its blocks are contiguous and
// continue the bio's, else submit the bio first; fall back to
// block_read_full_page ("confused") for a page with buffers, a hole
// before data, discontiguous blocks or an uptodate buffer from get_block.
// Unlike the later eras it shifts page->index without a (sector_t) cast
// (line 230, see firstBlockOfPage) and tests BH_Boundary on the page's last
// block (line 306).
//
// The seed's stack bh has an uninitialised b_size; 2.6.12's get_block
// mapped one block whatever it held, which the model asks of the file
// system's get_block with b_size = blocksize.
func doMpageReadpage2612(t *sim.Task, st *state, bio *block.Bio, page *mm.Page, nrPages uint32,
	lastBlockInBio *uint64, getBlock block.GetBlockFunc) *block.Bio {
	t.EnterAt("do_mpage_readpage", "mpage-2.6.12.numbered.c:209")
	defer t.Leave()
	inode := page.Mapping.Host
	k := inode.Kernel
	blkbits := inode.Blkbits
	blocksPerPage := uint32(mm.PageCacheSize >> blkbits)
	blocksize := uint32(1) << blkbits
	var (
		blockInFile uint64 // sector_t
		lastBlock   uint64 // sector_t
		blocks      [block.MAX_BUF_PER_PAGE]uint64
		pageBlock   uint32
		firstHole   = blocksPerPage
		bdev        *block.BlockDevice
		bh          block.BufferHead
		length      uint32
		fullyMapped = true
	)

	if block.PageHasBuffers(page) {
		goto confused
	}

	blockInFile = firstBlockOfPage(k, st, page.Index, blkbits) // line 230: no (sector_t) cast
	lastBlock = uint64((mm.ISizeRead(inode) + int64(blocksize) - 1) >> blkbits)

	bh.Page = page
	for pageBlock = 0; pageBlock < blocksPerPage; pageBlock, blockInFile = pageBlock+1, blockInFile+1 {
		bh.State = 0
		bh.Size = uint(blocksize)
		if blockInFile < lastBlock {
			if getBlock(t, inode, blockInFile, &bh, 0) != 0 {
				goto confused
			}
		}

		if !block.BufferMapped(&bh) {
			fullyMapped = false
			if firstHole == blocksPerPage {
				firstHole = pageBlock
			}
			continue
		}

		// some filesystems will copy data into the page during the
		// get_block call, in which case we don't want to read it again.
		// map_buffer_to_page copies the data we just collected from
		// get_block into the page's buffers so readpage doesn't have to
		// repeat the get_block call
		if block.BufferUptodate(&bh) {
			mapBufferToPage(t, page, &bh, int(pageBlock))
			goto confused
		}

		if firstHole != blocksPerPage {
			goto confused // hole -> non-hole
		}

		// Contiguous blocks?
		if pageBlock != 0 && blocks[pageBlock-1] != bh.Blocknr-1 {
			goto confused
		}
		blocks[pageBlock] = bh.Blocknr
		bdev = bh.Bdev
	}

	if firstHole != blocksPerPage {
		// kmap_atomic + memset + flush_dcache_page + kunmap_atomic (270-275)
		mm.ZeroUserSegment(t, page, uint(firstHole<<blkbits), mm.PageCacheSize)
		if firstHole == 0 {
			mm.SetPageUptodate(t, page)
			mm.UnlockPage(t, page)
			goto out
		}
	} else if fullyMapped {
		mm.SetPageMappedToDisk(t, page)
	}

	// This page will go to BIO. Do we need to send this BIO off first?
	if bio != nil && *lastBlockInBio != blocks[0]-1 {
		bio = mpageBioSubmit(t, st, block.READ, bio)
	}

alloc_new:
	if bio == nil {
		bio = mpageAlloc(t, st, bdev, blocks[0]<<(blkbits-9),
			min(int(int32(nrPages)), block.BioGetNrVecs(bdev)), block.GFP_KERNEL)
		if bio == nil {
			goto confused
		}
	}

	length = firstHole << blkbits
	if block.BioAddPage(t, bio, page, uint(length), 0) < int(length) {
		bio = mpageBioSubmit(t, st, block.READ, bio)
		goto alloc_new
	}

	if bufferBoundary(st, &bh) || firstHole != blocksPerPage {
		bio = mpageBioSubmit(t, st, block.READ, bio)
	} else {
		*lastBlockInBio = blocks[blocksPerPage-1]
	}
out:
	return bio

confused:
	st.stats.ReadConfused++
	if bio != nil {
		bio = mpageBioSubmit(t, st, block.READ, bio)
	}
	if !mm.PageUptodate(page) {
		block.BlockReadFullPage(t, page, getBlock)
	} else {
		mm.UnlockPage(t, page)
	}
	goto out
}

// mpageReadpages2612 is mpage_readpages(mapping, pages, nr_pages,
// get_block), mpage-2.6.12.numbered.c:324-353, 2.6.12: add each page to
// the page cache (locked) and read it through do_mpage_readpage, building
// bios across pages; the caller's page reference goes to an LRU pagevec,
// or is dropped if the page was already cached. pages[0] is the lowest
// file offset (the list's tail, pages->prev, in C).
func mpageReadpages2612(t *sim.Task, st *state, mapping *mm.AddressSpace, pages []*mm.Page, nrPages uint32,
	getBlock block.GetBlockFunc) int {
	t.EnterAt("mpage_readpages", "mpage-2.6.12.numbered.c:324")
	defer t.Leave()
	var bio *block.Bio
	var lastBlockInBio uint64
	var lruPvec mm.Pagevec

	mm.PagevecInit(&lruPvec, false)
	for pageIdx := uint32(0); pageIdx < nrPages; pageIdx++ {
		page := pages[pageIdx]

		// prefetchw(&page->flags); list_del(&page->lru)
		if mm.AddToPageCache(t, page, mapping, page.Index) == 0 {
			bio = doMpageReadpage2612(t, st, bio, page, nrPages-pageIdx, &lastBlockInBio, getBlock)
			if mm.PagevecAdd(&lruPvec, page) == 0 {
				mm.PagevecLRUAdd(t, &lruPvec) // __pagevec_lru_add
			}
		} else {
			mm.PageCacheRelease(t, page)
		}
	}
	mm.PagevecLRUAdd(t, &lruPvec)
	// BUG_ON(!list_empty(pages)): the slice is consumed whole
	if bio != nil {
		mpageBioSubmit(t, st, block.READ, bio)
	}
	return 0
}

// mpageReadpage2612 is mpage_readpage(page, get_block),
// mpage-2.6.12.numbered.c:360-369, 2.6.12: read one locked page.
func mpageReadpage2612(t *sim.Task, st *state, page *mm.Page, getBlock block.GetBlockFunc) int {
	t.EnterAt("mpage_readpage", "mpage-2.6.12.numbered.c:360")
	defer t.Leave()
	var lastBlockInBio uint64

	bio := doMpageReadpage2612(t, st, nil, page, 1, &lastBlockInBio, getBlock)
	if bio != nil {
		mpageBioSubmit(t, st, block.READ, bio)
	}
	return 0
}
