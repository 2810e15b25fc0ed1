package mpage

import (
	"github.com/wbsim/wbsim/internal/mutant"
	"github.com/wbsim/wbsim/model/block"
	"github.com/wbsim/wbsim/model/mm"
	"github.com/wbsim/wbsim/sim"
)

// doMpageReadpage is do_mpage_readpage(bio, page, nr_pages,
// last_block_in_bio, map_bh, first_logical_block, get_block),
// mpage-2.6.2x.c:150-295, 2.6.2x, and mpage-3.x.c:154-320, 3.x (which adds
// only the cleancache hook, lines 275-279, in readpage_3x.go).
//
// get_block may map an extent of several blocks (map_bh->b_size asks for
// up to the end of the read); map_bh and first_logical_block carry the
// last extent from page to page, so a contiguous file costs one get_block
// per extent, not per block (2.6.2x:181-199). A page that is not simple
// goes to block_read_full_page ("confused"). BH_Boundary submits the bio
// only at the end of the extent that carried it (2.6.2x:278-284).
//
// first_logical_block is an unsigned long and the counters are unsigned
// ints, as in C: on a 32-bit kernel first_logical_block wraps at 2^32.
func doMpageReadpage(t *sim.Task, st *state, bio *block.Bio, page *mm.Page, nrPages uint32,
	lastBlockInBio *uint64, mapBh *block.BufferHead, firstLogicalBlock *uint64,
	getBlock block.GetBlockFunc) *block.Bio {
	t.EnterAt("do_mpage_readpage", citeDoMpageReadpage.at(st.version))
	defer t.Leave()
	inode := page.Mapping.Host
	k := inode.Kernel
	blkbits := inode.Blkbits
	blocksPerPage := uint32(mm.PageCacheSize >> blkbits)
	blocksize := uint32(1) << blkbits
	var (
		blockInFile      uint64 // sector_t
		lastBlock        uint64 // sector_t
		lastBlockInFile  uint64 // sector_t
		blocks           [block.MAX_BUF_PER_PAGE]uint64
		pageBlock        uint32
		firstHole        = blocksPerPage
		bdev             *block.BlockDevice
		length           uint32
		fullyMapped      = true
		nblocks          uint32
		relativeBlock    uint32
		mapOffset, last  uint32
		cleancacheFilled bool
	)

	if block.PageHasBuffers(page) {
		goto confused
	}

	blockInFile = firstBlockOfPage(k, st, page.Index, blkbits) // (sector_t)page->index << ...
	lastBlock = blockInFile + uint64(nrPages*blocksPerPage)
	lastBlockInFile = uint64((mm.ISizeRead(inode) + int64(blocksize) - 1) >> blkbits)
	if lastBlock > lastBlockInFile {
		lastBlock = lastBlockInFile
	}
	pageBlock = 0

	// Map blocks using the result from the previous get_blocks call first.
	nblocks = uint32(mapBh.Size >> blkbits)
	if block.BufferMapped(mapBh) && blockInFile > *firstLogicalBlock &&
		blockInFile < (*firstLogicalBlock+uint64(nblocks)) {
		mapOffset = uint32(blockInFile - *firstLogicalBlock)
		last = nblocks - mapOffset

		for relativeBlock = 0; ; relativeBlock++ {
			if relativeBlock == last {
				block.ClearBufferMapped(t, mapBh)
				break
			}
			if pageBlock == blocksPerPage {
				break
			}
			blocks[pageBlock] = mapBh.Blocknr + uint64(mapOffset) + uint64(relativeBlock)
			pageBlock++
			blockInFile++
		}
		bdev = mapBh.Bdev
	}

	// Then do more get_blocks calls until we are done with this page.
	mapBh.Page = page
	for pageBlock < blocksPerPage {
		mapBh.State = 0
		mapBh.Size = 0

		if blockInFile < lastBlock {
			mapBh.Size = uint(k.ULong((lastBlock - blockInFile) << blkbits)) // size_t
			if getBlock(t, inode, blockInFile, mapBh, 0) != 0 {
				goto confused
			}
			*firstLogicalBlock = k.ULong(blockInFile) // unsigned long
		}

		if !block.BufferMapped(mapBh) {
			fullyMapped = false
			if firstHole == blocksPerPage {
				firstHole = pageBlock
			}
			pageBlock++
			blockInFile++
			continue
		}

		// some filesystems will copy data into the page during the
		// get_block call, in which case we don't want to read it again.
		// map_buffer_to_page copies the data we just collected from
		// get_block into the page's buffers so readpage doesn't have to
		// repeat the get_block call
		if block.BufferUptodate(mapBh) {
			mapBufferToPage(t, page, mapBh, int(pageBlock))
			goto confused
		}

		if firstHole != blocksPerPage {
			goto confused // hole -> non-hole
		}

		// Contiguous blocks?
		if pageBlock != 0 && blocks[pageBlock-1] != mapBh.Blocknr-1 {
			goto confused
		}
		nblocks = uint32(mapBh.Size >> blkbits)
		for relativeBlock = 0; ; relativeBlock++ {
			if relativeBlock == nblocks {
				block.ClearBufferMapped(t, mapBh)
				break
			} else if pageBlock == blocksPerPage {
				break
			}
			blocks[pageBlock] = mapBh.Blocknr + uint64(relativeBlock)
			pageBlock++
			blockInFile++
		}
		bdev = mapBh.Bdev
	}

	if firstHole != blocksPerPage {
		zeroFrom := firstHole << blkbits
		if mutant.On("mpage-hole-offset") { // mutant: cf. "ext4: fix xfstests 75, 112, 127 punch hole failure"
			zeroFrom += blocksize
		}
		mm.ZeroUserSegment(t, page, uint(zeroFrom), mm.PageCacheSize)
		if firstHole == 0 {
			mm.SetPageUptodate(t, page)
			mm.UnlockPage(t, page)
			goto out
		}
	} else if fullyMapped {
		mm.SetPageMappedToDisk(t, page)
	}

	// 3.x only (mpage-3.x.c:275-279): a page that cleancache can fill
	// needs no read.
	if st.version == mm.V3x {
		if cleancacheFilled = cleancacheReadpage3x(t, st, page, fullyMapped, blocksPerPage); cleancacheFilled {
			goto confused
		}
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

	relativeBlock = uint32(blockInFile - *firstLogicalBlock)
	nblocks = uint32(mapBh.Size >> blkbits)
	if (bufferBoundary(st, mapBh) && relativeBlock == nblocks) || firstHole != blocksPerPage {
		bio = mpageBioSubmit(t, st, block.READ, bio)
	} else {
		*lastBlockInBio = blocks[blocksPerPage-1]
	}
out:
	return bio

confused:
	if !cleancacheFilled {
		st.stats.ReadConfused++
	}
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

// mpageReadpages is mpage_readpages(mapping, pages, nr_pages, get_block),
// mpage-2.6.2x.c:339-368, 2.6.2x, and mpage-3.x.c:365-396, 3.x: add each
// page to the page cache and the LRU (locked) and read it through
// do_mpage_readpage, building bios across pages and carrying map_bh from
// page to page; the caller's reference is dropped either way. pages[0] is
// the lowest file offset (the list's tail, pages->prev, in C).
func mpageReadpages(t *sim.Task, st *state, mapping *mm.AddressSpace, pages []*mm.Page, nrPages uint32,
	getBlock block.GetBlockFunc) int {
	t.EnterAt("mpage_readpages", citeMpageReadpages.at(st.version))
	defer t.Leave()
	var bio *block.Bio
	var lastBlockInBio uint64
	var mapBh block.BufferHead
	var firstLogicalBlock uint64 // unsigned long

	mapBh.State = 0
	mapBh.Size = 0
	for pageIdx := uint32(0); pageIdx < nrPages; pageIdx++ {
		page := pages[pageIdx]
		// prefetchw(&page->flags); list_del(&page->lru)
		if mm.AddToPageCacheLRU(t, page, mapping, page.Index) == 0 {
			bio = doMpageReadpage(t, st, bio, page, nrPages-pageIdx, &lastBlockInBio, &mapBh,
				&firstLogicalBlock, getBlock)
		}
		if !mutant.On("mpage-readpages-leak") { // mutant: a leak of "afs: Fix missing put_page()"'s kind
			mm.PageCacheRelease(t, page)
		}
	}
	// BUG_ON(!list_empty(pages)): the slice is consumed whole
	if bio != nil {
		mpageBioSubmit(t, st, block.READ, bio)
	}
	return 0
}

// mpageReadpage is mpage_readpage(page, get_block), mpage-2.6.2x.c:373-386,
// 2.6.2x, and mpage-3.x.c:402-416, 3.x: read one locked page, with a fresh
// map_bh.
func mpageReadpage(t *sim.Task, st *state, page *mm.Page, getBlock block.GetBlockFunc) int {
	t.EnterAt("mpage_readpage", citeMpageReadpage.at(st.version))
	defer t.Leave()
	var lastBlockInBio uint64
	var mapBh block.BufferHead
	var firstLogicalBlock uint64

	mapBh.State = 0
	mapBh.Size = 0
	bio := doMpageReadpage(t, st, nil, page, 1, &lastBlockInBio, &mapBh, &firstLogicalBlock, getBlock)
	if bio != nil {
		mpageBioSubmit(t, st, block.READ, bio)
	}
	return 0
}
